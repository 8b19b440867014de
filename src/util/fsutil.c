/* See fsutil.h. */
#include "util/fsutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

clgan_status clgan_make_dirs(const char *dir) {
  char buf[1024];
  if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf) return CLGAN_INVALID_ARGUMENT;
  size_t len = strlen(buf);
  for (size_t i = 1; i <= len; i++) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    char saved = buf[i];
    buf[i] = '\0';
    if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
      clgan_error("%s: cannot create folder %s: %s", clgan_status_message(CLGAN_IO_ERROR), buf,
                  strerror(errno));
      return CLGAN_IO_ERROR;
    }
    buf[i] = saved;
  }
  return CLGAN_OK;
}

clgan_status clgan_make_parent_dirs(const char *path) {
  char buf[1024];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return CLGAN_INVALID_ARGUMENT;
  char *slash = strrchr(buf, '/');
  if (!slash || slash == buf) return CLGAN_OK;
  *slash = '\0';
  return clgan_make_dirs(buf);
}

clgan_status clgan_atomic_open(clgan_atomic_file *af, const char *path, const char *mode) {
  memset(af, 0, sizeof *af);
  if (snprintf(af->path, sizeof af->path, "%s", path) >= (int)sizeof af->path)
    return CLGAN_INVALID_ARGUMENT;
  snprintf(af->tmp, sizeof af->tmp, "%s.tmp.%ld", path, (long)getpid());
  clgan_status st = clgan_make_parent_dirs(path);
  if (st != CLGAN_OK) return st;
  af->f = fopen(af->tmp, mode);
  if (!af->f) {
    clgan_error("%s: cannot write %s: %s", clgan_status_message(CLGAN_IO_ERROR), af->tmp,
                strerror(errno));
    return CLGAN_IO_ERROR;
  }
  return CLGAN_OK;
}

clgan_status clgan_atomic_commit(clgan_atomic_file *af) {
  int failed = ferror(af->f) || fflush(af->f) != 0 || fsync(fileno(af->f)) != 0;
  int saved = errno;
  if (fclose(af->f) != 0) failed = 1;
  af->f = NULL;
  if (failed || rename(af->tmp, af->path) != 0) {
    if (!failed) saved = errno;
    clgan_error("%s: writing %s failed (%s); the previous file, if any, is untouched",
                clgan_status_message(CLGAN_IO_ERROR), af->path, strerror(saved));
    remove(af->tmp);
    return CLGAN_IO_ERROR;
  }
  return CLGAN_OK;
}

void clgan_atomic_abort(clgan_atomic_file *af) {
  if (af->f) fclose(af->f);
  af->f = NULL;
  if (af->tmp[0]) remove(af->tmp);
}

clgan_status clgan_read_file(const char *path, unsigned char **data, size_t *len) {
  *data = NULL;
  *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f) {
    clgan_error("%s: cannot open %s: %s", clgan_status_message(CLGAN_IO_ERROR), path,
                strerror(errno));
    return CLGAN_IO_ERROR;
  }
  clgan_status st = CLGAN_OK;
  unsigned char *buf = NULL;
  size_t cap = 0, n = 0;
  for (;;) {
    if (n == cap) {
      cap = cap ? cap * 2 : 1 << 16;
      unsigned char *grown = realloc(buf, cap + 1);
      if (!grown) {
        st = CLGAN_HOST_OUT_OF_MEMORY;
        goto done;
      }
      buf = grown;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0) break;
  }
  if (ferror(f)) {
    clgan_error("%s: error reading %s", clgan_status_message(CLGAN_IO_ERROR), path);
    st = CLGAN_IO_ERROR;
    goto done;
  }
  buf[n] = '\0';
  *data = buf;
  *len = n;
  buf = NULL;
done:
  free(buf);
  fclose(f);
  return st;
}
