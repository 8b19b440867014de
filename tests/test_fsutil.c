/* The file-system helpers every writer and reader goes through (src/util/fsutil.c): the atomic
 * writer (commit, abort, a failed write is CLGAN_WRITE_FAILED, the removal of temporary files
 * left by killed processes) and clgan_read_file's refusal of anything but a regular file.
 * Issue 9, findings 3 and 5 of the bad-input probe. */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>

#include "io_testutil.h"
#include "util/fsutil.h"

/* The pid of a process that has exited and been reaped. */
static long dead_pid(void) {
  pid_t child = fork();
  if (child == 0) _exit(0);
  if (child < 0) {
    fprintf(stderr, "FAIL: fork: %s\n", strerror(errno));
    exit(1);
  }
  waitpid(child, NULL, 0);
  return (long)child;
}

static void test_commit_and_abort(const char *dir) {
  char path[512];
  snprintf(path, sizeof path, "%s/sub/a.txt", dir);
  clgan_atomic_file af;
  CHECK(clgan_atomic_open(&af, path, "wb") == CLGAN_OK, "open creates the folder");
  fputs("hello", af.f);
  CHECK(!io_file_exists(path), "nothing at the path before commit");
  CHECK(clgan_atomic_commit(&af) == CLGAN_OK, "commit");
  size_t len = 0;
  unsigned char *got = io_read_bytes(path, &len);
  CHECK(got && len == 5 && memcmp(got, "hello", 5) == 0, "committed content");
  free(got);

  CHECK(clgan_atomic_open(&af, path, "wb") == CLGAN_OK, "open over an existing file");
  fputs("other", af.f);
  clgan_atomic_abort(&af);
  got = io_read_bytes(path, &len);
  CHECK(got && len == 5 && memcmp(got, "hello", 5) == 0, "abort keeps the previous file");
  free(got);
  char sub[512];
  snprintf(sub, sizeof sub, "%s/sub", dir);
  CHECK(io_count_tmp(sub) == 0, "no temporary file after commit and abort");
}

/* Finding 5: kill -9 leaves <path>.tmp.<pid>; the next write of <path> removes it, and only
 * it: a live process's file, another file's and a name that only looks alike stay. */
static void test_stale_tmp(const char *dir) {
  char path[512], stale[600], stale2[600], live[600], other[600], odd[600];
  snprintf(path, sizeof path, "%s/checkpoint.safetensors", dir);
  long gone = dead_pid(), gone2 = dead_pid();
  snprintf(stale, sizeof stale, "%s.tmp.%ld", path, gone);
  snprintf(stale2, sizeof stale2, "%s.tmp.%ld", path, gone2);
  snprintf(live, sizeof live, "%s.tmp.%ld", path, (long)getppid());
  snprintf(other, sizeof other, "%s/losses.png.tmp.%ld", dir, gone);
  snprintf(odd, sizeof odd, "%s.tmp.%ldx", path, gone);
  const char *all[] = {stale, stale2, live, other, odd};
  for (int i = 0; i < 5; i++) io_write_bytes(all[i], "partial", 7);

  clgan_atomic_file af;
  CHECK(clgan_atomic_open(&af, path, "wb") == CLGAN_OK, "open with stale temporaries around");
  fputs("new", af.f);
  CHECK(clgan_atomic_commit(&af) == CLGAN_OK, "commit");
  CHECK(!io_file_exists(stale) && !io_file_exists(stale2),
        "the temporaries of dead processes are removed");
  CHECK(io_file_exists(live), "a live process's temporary stays");
  CHECK(io_file_exists(other), "another file's temporary stays");
  CHECK(io_file_exists(odd), "a name that only looks like a temporary stays");

  /* A relative path: the folder is the current one. */
  char cwd[512];
  CHECK(getcwd(cwd, sizeof cwd) != NULL, "getcwd");
  CHECK(chdir(dir) == 0, "chdir");
  snprintf(stale, sizeof stale, "losses.png.tmp.%ld", gone);
  CHECK(clgan_atomic_open(&af, "losses.png", "wb") == CLGAN_OK, "open a relative path");
  CHECK(clgan_atomic_commit(&af) == CLGAN_OK, "commit a relative path");
  CHECK(!io_file_exists(stale), "stale temporary of a relative path removed");
  CHECK(chdir(cwd) == 0, "chdir back");
}

/* Writes that fail are CLGAN_WRITE_FAILED (exit 1), not CLGAN_IO_ERROR (bad input, exit 2). */
static void test_write_failures(const char *dir) {
  char file[512], path[600];
  snprintf(file, sizeof file, "%s/plain", dir);
  io_write_bytes(file, "x", 1);
  snprintf(path, sizeof path, "%s/sub/out.bin", file);
  clgan_atomic_file af;
  io_log_start();
  CHECK_REFUSED("a folder that cannot be made", clgan_atomic_open(&af, path, "wb"),
                CLGAN_WRITE_FAILED, file, NULL);
  io_log_stop();

  if (geteuid() != 0) { /* root writes into a read-only folder anyway */
    char ro[512];
    snprintf(ro, sizeof ro, "%s/ro", dir);
    mkdir(ro, 0500);
    snprintf(path, sizeof path, "%s/out.bin", ro);
    io_log_start();
    CHECK_REFUSED("a read-only folder", clgan_atomic_open(&af, path, "wb"), CLGAN_WRITE_FAILED,
                  ro, NULL);
    io_log_stop();
    chmod(ro, 0700);
  }

  /* A full disk: the temporary file is a link to /dev/full, so the flush fails (ENOSPC). */
  struct stat sb;
  if (stat("/dev/full", &sb) == 0 && S_ISCHR(sb.st_mode)) {
    snprintf(path, sizeof path, "%s/full.bin", dir);
    char tmp[700];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    CHECK(symlink("/dev/full", tmp) == 0, "symlink to /dev/full");
    CHECK(clgan_atomic_open(&af, path, "wb") == CLGAN_OK, "open onto /dev/full");
    static char block[1 << 16];
    fwrite(block, 1, sizeof block, af.f);
    io_log_start();
    CHECK_REFUSED("a full disk", clgan_atomic_commit(&af), CLGAN_WRITE_FAILED, path, NULL);
    io_log_stop();
    CHECK(!io_file_exists(path), "nothing at the path after a failed write");
    struct stat lb;
    CHECK(lstat(tmp, &lb) != 0, "the temporary is removed after a failed write");
  }
}

/* Finding 3: only regular files are read, and never past their size. */
static void test_read_file(const char *dir) {
  unsigned char *data = NULL;
  size_t len = 0;
  char path[512];
  snprintf(path, sizeof path, "%s/small", dir);
  io_write_bytes(path, "abc", 3);
  CHECK(clgan_read_file(path, &data, &len) == CLGAN_OK && len == 3 && data &&
            memcmp(data, "abc", 4) == 0,
        "a regular file, NUL-terminated");
  free(data);
  snprintf(path, sizeof path, "%s/empty", dir);
  io_write_bytes(path, "", 0);
  CHECK(clgan_read_file(path, &data, &len) == CLGAN_OK && len == 0 && data && data[0] == 0,
        "an empty file");
  free(data);

  io_log_start();
  CHECK_REFUSED("a folder", clgan_read_file(dir, &data, &len), CLGAN_IO_ERROR, dir, "folder");
  io_log_stop();
  CHECK(data == NULL && len == 0, "nothing returned for a folder");

  snprintf(path, sizeof path, "%s/zero.safetensors", dir);
  if (symlink("/dev/zero", path) == 0) {
    io_log_start();
    CHECK_REFUSED("a link to /dev/zero", clgan_read_file(path, &data, &len), CLGAN_IO_ERROR,
                  path, "not a regular file");
    io_log_stop();
  }
}

int main(void) {
  const char *base = io_tmpdir("fsutil");
  char dir[256];
  if (strlen(base) >= sizeof dir) {
    fprintf(stderr, "FAIL: scratch folder name too long: %s\n", base);
    return 1;
  }
  memcpy(dir, base, strlen(base) + 1);
  test_commit_and_abort(dir);
  test_stale_tmp(dir);
  test_write_failures(dir);
  test_read_file(dir);
  io_rm_tree(dir);
  return test_finish();
}
