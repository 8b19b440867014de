/* The atomic writer (src/util/fsutil.h, a library internal: this test has src/ on its include
 * path for it): commit creates the file and its folders or replaces the old file whole, leaving
 * no temporary behind; until commit the old file is untouched, and abort leaves it as it was; a
 * temporary that cannot be opened, a folder that cannot be made and a folder as the target are
 * reported naming the file, and the old file survives. clgan_read_file reads back what was
 * written. Host code only: no device needed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io_testutil.h"
#include "util/fsutil.h"

static char dir[512];

/* The file's bytes equal text (and nothing else). */
static int holds(const char *path, const char *text) {
  size_t len = 0;
  unsigned char *got = io_read_bytes(path, &len);
  int same = got && len == strlen(text) && !memcmp(got, text, len);
  free(got);
  return same;
}

/* The number of entries in folder d, "." and ".." excluded. */
static int entries(const char *d) {
  DIR *dd = opendir(d);
  int n = 0;
  struct dirent *e;
  while (dd && (e = readdir(dd)) != NULL) n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
  if (dd) closedir(dd);
  return n;
}

/* A write failure: IO_ERROR today; WRITE_FAILED once fsutil reports writes that fail as
 * runtime failures (issue 9). Either way not OK and not bad input. */
static int write_failure(clgan_status st) {
  return st == CLGAN_IO_ERROR || st == CLGAN_WRITE_FAILED;
}

static void test_commit(void) {
  char path[700], sub[600];
  snprintf(sub, sizeof sub, "%s/a/b", dir);
  snprintf(path, sizeof path, "%s/file.txt", sub);
  clgan_atomic_file af;
  CHECK(clgan_atomic_open(&af, path, "wb") == CLGAN_OK && af.f, "open %s (folders made)", path);
  if (!af.f) return;
  CHECK(strstr(af.tmp, path) == af.tmp && strcmp(af.tmp, path) != 0,
        "the temporary %s sits beside %s", af.tmp, path);
  fputs("first version\n", af.f);
  CHECK(access(af.tmp, F_OK) == 0 && access(path, F_OK) != 0,
        "before commit only the temporary exists");
  CHECK(clgan_atomic_commit(&af) == CLGAN_OK, "commit");
  CHECK(holds(path, "first version\n"), "commit wrote the file");
  CHECK(access(af.tmp, F_OK) != 0 && entries(sub) == 1, "no temporary left (%d entries in %s)",
        entries(sub), sub);

  /* Replace: the old file stays whole until commit, then the new one is all there is. */
  CHECK(clgan_atomic_open(&af, path, "wb") == CLGAN_OK, "open again");
  fputs("second", af.f);
  fflush(af.f);
  CHECK(holds(path, "first version\n"), "before commit the old file is untouched");
  CHECK(clgan_atomic_commit(&af) == CLGAN_OK, "commit the replacement");
  CHECK(holds(path, "second"), "commit replaced the file whole");
  unsigned char *data = NULL;
  size_t len = 0;
  CHECK(clgan_read_file(path, &data, &len) == CLGAN_OK && len == 6 && data &&
            !memcmp(data, "second", 7),
        "clgan_read_file reads it back, NUL-terminated (%zu bytes)", len);
  free(data);

  /* Abort: the old file as it was, the temporary gone. */
  CHECK(clgan_atomic_open(&af, path, "wb") == CLGAN_OK, "open to abort");
  fputs("never seen", af.f);
  fflush(af.f);
  char tmp[sizeof af.tmp];
  snprintf(tmp, sizeof tmp, "%s", af.tmp);
  clgan_atomic_abort(&af);
  CHECK(holds(path, "second"), "abort leaves the old file");
  CHECK(access(tmp, F_OK) != 0 && entries(sub) == 1, "abort removes the temporary");
  clgan_atomic_abort(&af); /* twice is harmless */
}

static void test_write_failures(void) {
  char path[700], block[800];
  clgan_atomic_file af;
  clgan_status st;

  /* The temporary cannot be opened: a folder already has its name. */
  snprintf(path, sizeof path, "%s/taken.bin", dir);
  io_write_bytes(path, "old", 3);
  snprintf(block, sizeof block, "%s.tmp.%ld", path, (long)getpid());
  CHECK(mkdir(block, 0777) == 0, "mkdir %s", block);
  io_log_start();
  st = clgan_atomic_open(&af, path, "wb");
  io_log_stop();
  CHECK(write_failure(st) && af.f == NULL, "an unopenable temporary is a write failure (%s)",
        clgan_status_name(st));
  CHECK(strstr(io_log, block) != NULL && strstr(io_log, "Is a directory") != NULL,
        "the report names the file and the reason: %s", io_log);
  CHECK(holds(path, "old"), "the old file is untouched");
  rmdir(block);

  /* The folder cannot be made: a file stands where it should be. */
  snprintf(block, sizeof block, "%s/plain", dir);
  io_write_bytes(block, "x", 1);
  snprintf(path, sizeof path, "%s/plain/inside/out.bin", dir);
  io_log_start();
  st = clgan_atomic_open(&af, path, "wb");
  io_log_stop();
  CHECK(write_failure(st) && af.f == NULL, "an impossible folder is a write failure (%s)",
        clgan_status_name(st));
  CHECK(strstr(io_log, block) != NULL, "the report names the folder: %s", io_log);

  /* The target is a folder: refused at open (nothing to rename over it), reported naming it,
   * the folder and its content left alone. */
  snprintf(path, sizeof path, "%s/target", dir);
  snprintf(block, sizeof block, "%s/target/keep", dir);
  CHECK(mkdir(path, 0777) == 0, "mkdir %s", path);
  io_write_bytes(block, "kept", 4);
  io_log_start();
  st = clgan_atomic_open(&af, path, "wb");
  io_log_stop();
  CHECK(write_failure(st) && af.f == NULL, "open over a folder is a write failure (%s)",
        clgan_status_name(st));
  CHECK(strstr(io_log, path) != NULL, "the report names the folder: %s", io_log);
  CHECK(holds(block, "kept"), "the folder's content is kept");

  /* A path longer than the writer holds is refused before anything is created. */
  char longpath[1200];
  memset(longpath, 'x', sizeof longpath - 1);
  longpath[sizeof longpath - 1] = '\0';
  memcpy(longpath, dir, strlen(dir));
  longpath[strlen(dir)] = '/';
  CHECK(clgan_atomic_open(&af, longpath, "wb") == CLGAN_INVALID_ARGUMENT && af.f == NULL,
        "a path of %zu characters is refused", strlen(longpath));
}

int main(void) {
  snprintf(dir, sizeof dir, "%s", io_tmpdir("fsutil"));
  test_commit();
  test_write_failures();
  io_rm_tree(dir);
  return test_finish();
}
