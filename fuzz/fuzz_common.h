/* Shared by the libFuzzer harnesses: the parsers take paths, so each input is written to one
 * memfd per process and handed over as /proc/self/fd/N (a regular file, no disk traffic, nothing
 * left behind). The log sink is silenced but still receives every message, so the formatting of
 * each refusal is exercised too. */
#ifndef CLGAN_FUZZ_COMMON_H
#define CLGAN_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "clgan/status.h"

static inline void fuzz_quiet_sink(const char *level, const char *text, void *user) {
  (void)level;
  (void)user;
  /* Touch the whole message so a bad format argument shows up under ASan. */
  volatile size_t n = strlen(text);
  (void)n;
}

/* Writes the input to this process's memfd and returns its path (static storage). */
static inline const char *fuzz_file(const uint8_t *data, size_t size) {
  static int fd = -1;
  static char path[64];
  if (fd < 0) {
    fd = memfd_create("clgan_fuzz", 0);
    if (fd < 0) {
      perror("memfd_create");
      abort();
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    clgan_set_log(fuzz_quiet_sink, NULL);
  }
  if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size)) {
    perror("memfd write");
    abort();
  }
  return path;
}

/* Reads every byte of a buffer the parser handed back, so ASan sees an undersized one. */
static inline void fuzz_touch(const void *p, size_t n) {
  const volatile unsigned char *b = p;
  unsigned char acc = 0;
  for (size_t i = 0; i < n; i++) acc ^= b[i];
  (void)acc;
}

#endif
