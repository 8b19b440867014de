/* Helpers shared by the host-side file-format tests (test_idx, test_safetensors, test_png,
 * test_plot, test_npy, test_csv): a scratch folder that is removed at the end, raw file
 * writing and reading for hand-made fixtures, and capture of clgan's error log so a test can
 * check that a refusal names the file and the problem. */
#ifndef CLGAN_TESTS_IO_TESTUTIL_H
#define CLGAN_TESTS_IO_TESTUTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clgan/status.h"
#include "harness.h"

static char io_log[65536];

static inline void io_capture(const char *level, const char *text, void *user) {
  (void)user;
  size_t used = strlen(io_log);
  snprintf(io_log + used, sizeof io_log - used, "%s: %s\n", level, text);
}

/* Starts capturing clgan_error / clgan_warn into io_log (cleared). */
static inline void io_log_start(void) {
  io_log[0] = '\0';
  clgan_set_log(io_capture, NULL);
}

/* Stops capturing and restores the default sink. */
static inline void io_log_stop(void) { clgan_set_log(NULL, NULL); }

/* A fresh folder under $TMPDIR (or /tmp); the caller frees nothing, io_rm_tree removes it. */
static inline const char *io_tmpdir(const char *tag) {
  static char dir[512];
  const char *base = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/clgan_%s_XXXXXX", base && base[0] ? base : "/tmp", tag);
  if (!mkdtemp(dir)) {
    fprintf(stderr, "FAIL: cannot create a scratch folder %s\n", dir);
    exit(1);
  }
  return dir;
}

static inline void io_rm_tree(const char *path) {
  struct stat sb;
  if (lstat(path, &sb) != 0) return;
  if (S_ISDIR(sb.st_mode)) {
    DIR *d = opendir(path);
    if (d) {
      struct dirent *e;
      while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char child[1024];
        if (snprintf(child, sizeof child, "%s/%s", path, e->d_name) < (int)sizeof child)
          io_rm_tree(child);
      }
      closedir(d);
    }
    rmdir(path);
  } else {
    unlink(path);
  }
}

static inline void io_write_bytes(const char *path, const void *data, size_t len) {
  /* A new file rather than a truncated one: ext4 flushes a file truncated and rewritten at
   * close (auto_da_alloc), which made the thousands of fixtures here take seconds. */
  unlink(path);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
    fprintf(stderr, "FAIL: cannot write fixture %s\n", path);
    exit(1);
  }
}

/* The whole file in a malloc'd buffer (NULL if unreadable). */
static inline unsigned char *io_read_bytes(const char *path, size_t *len) {
  *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  unsigned char *buf = NULL;
  size_t cap = 0;
  for (;;) {
    if (*len == cap) {
      cap = cap ? 2 * cap : 4096;
      unsigned char *grown = realloc(buf, cap);
      if (!grown) break;
      buf = grown;
    }
    size_t got = fread(buf + *len, 1, cap - *len, f);
    *len += got;
    if (got == 0) break;
  }
  fclose(f);
  return buf;
}

/* Number of entries in dir whose name holds ".tmp." (leftovers of an atomic write). */
static inline int io_count_tmp(const char *dir) {
  int n = 0;
  DIR *d = opendir(dir);
  if (!d) return -1;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) n += strstr(e->d_name, ".tmp.") != NULL;
  closedir(d);
  return n;
}

static inline int io_file_exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0;
}

/* A path no writer can create: <dir>/plain-file/sub/<name>, under a regular file (so mkdir fails
 * with ENOTDIR even for root, whom a read-only folder does not stop). Returns out. */
static inline const char *io_unwritable_path(const char *dir, const char *name, char *out,
                                             size_t size) {
  char file[1024];
  snprintf(file, sizeof file, "%s/plain-file", dir);
  io_write_bytes(file, "x", 1);
  snprintf(out, size, "%s/sub/%s", file, name);
  return out;
}

/* Checks that a call failed with the expected status and that the log names `needle1`
 * (usually the file) and, if not NULL, `needle2` (the problem). */
static inline void io_check_refused(const char *file, int line, const char *what,
                                    clgan_status got, clgan_status want, const char *needle1,
                                    const char *needle2) {
  test_checks++;
  if (got != want)
    test_fail_at(file, line, "%s: got %s, want %s", what, clgan_status_name(got),
                 clgan_status_name(want));
  test_checks++;
  if (!strstr(io_log, needle1))
    test_fail_at(file, line, "%s: the error names '%s'; log was: %s", what, needle1, io_log);
  test_checks++;
  if (needle2 && !strstr(io_log, needle2))
    test_fail_at(file, line, "%s: the error says '%s'; log was: %s", what, needle2, io_log);
}
#define CHECK_REFUSED(what, got, want, needle1, needle2) \
  io_check_refused(__FILE__, __LINE__, what, got, want, needle1, needle2)

#endif
