/* Shared by the libFuzzer harnesses: the parsers take paths, so each input is written to one
 * temporary file per process (mkstemp in $TMPDIR or /tmp, rewritten in place for every input,
 * removed at exit) and its path handed over. A real file rather than a memfd's /proc/self/fd
 * link, so a parser that refuses links or non-regular files still sees regular input. The log
 * sink is silenced but still receives every message, so the formatting of each refusal is
 * exercised too. */
#ifndef CLGAN_FUZZ_COMMON_H
#define CLGAN_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clgan/status.h"

static inline void fuzz_quiet_sink(const char *level, const char *text, void *user) {
  (void)level;
  (void)user;
  /* Touch the whole message so a bad format argument shows up under ASan. */
  volatile size_t n = strlen(text);
  (void)n;
}

static char fuzz_path[4096];

static inline void fuzz_remove_file(void) {
  if (fuzz_path[0]) unlink(fuzz_path);
}

/* Writes the input to this process's temporary file and returns its path. */
static inline const char *fuzz_file(const uint8_t *data, size_t size) {
  static int fd = -1;
  if (fd < 0) {
    const char *dir = getenv("TMPDIR");
    snprintf(fuzz_path, sizeof fuzz_path, "%s/clgan_fuzz_XXXXXX", dir && *dir ? dir : "/tmp");
    fd = mkstemp(fuzz_path);
    if (fd < 0) {
      perror("mkstemp");
      abort();
    }
    atexit(fuzz_remove_file);
    clgan_set_log(fuzz_quiet_sink, NULL);
  }
  if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size)) {
    perror("writing the fuzz input");
    abort();
  }
  return fuzz_path;
}

/* Reads every byte of a buffer the parser handed back, so ASan sees an undersized one. */
static inline void fuzz_touch(const void *p, size_t n) {
  const volatile unsigned char *b = p;
  unsigned char acc = 0;
  for (size_t i = 0; i < n; i++) acc ^= b[i];
  (void)acc;
}

#endif
