/* See fsutil.h. */
#include "util/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
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
      clgan_error("%s: cannot create folder %s: %s", clgan_status_message(CLGAN_WRITE_FAILED), buf,
                  strerror(errno));
      return CLGAN_WRITE_FAILED;
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

/* The pid in "<base>.tmp.<pid>", or 0 if name is not such a name. */
static long tmp_pid(const char *name, const char *base) {
  size_t blen = strlen(base);
  if (strncmp(name, base, blen) != 0 || strncmp(name + blen, ".tmp.", 5) != 0) return 0;
  const char *digits = name + blen + 5;
  char *end = NULL;
  errno = 0;
  long pid = strtol(digits, &end, 10);
  if (errno || end == digits || *end || pid <= 0 || digits[0] < '1' || digits[0] > '9') return 0;
  return pid;
}

void clgan_remove_stale_tmp(const char *path) {
  char dir[1024];
  if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) return;
  char *slash = strrchr(dir, '/');
  const char *base = path;
  if (slash) {
    base = path + (slash - dir) + 1;
    if (slash == dir) slash[1] = '\0';
    else *slash = '\0';
  } else {
    snprintf(dir, sizeof dir, ".");
  }
  if (!*base) return;
  DIR *d = opendir(dir);
  if (!d) return;
  long self = (long)getpid();
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    long pid = tmp_pid(e->d_name, base);
    if (pid == 0 || pid == self || (pid_t)pid != pid) continue;
    /* Only a pid that is certainly gone: EPERM means alive under another user. */
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
    char stale[2200];
    if (snprintf(stale, sizeof stale, "%s/%s", dir, e->d_name) >= (int)sizeof stale) continue;
    struct stat sb;
    if (lstat(stale, &sb) == 0 && (S_ISREG(sb.st_mode) || S_ISLNK(sb.st_mode))) unlink(stale);
  }
  closedir(d);
}

clgan_status clgan_atomic_open(clgan_atomic_file *af, const char *path, const char *mode) {
  memset(af, 0, sizeof *af);
  if (snprintf(af->path, sizeof af->path, "%s", path) >= (int)sizeof af->path)
    return CLGAN_INVALID_ARGUMENT;
  snprintf(af->tmp, sizeof af->tmp, "%s.tmp.%ld", path, (long)getpid());
  struct stat sb;
  if (lstat(path, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISLNK(sb.st_mode)) {
    /* rename() would replace a device node such as /dev/zero when run as root. */
    clgan_error("%s: %s is %s, not a regular file: not replaced",
                clgan_status_message(CLGAN_WRITE_FAILED), path, clgan_file_kind(sb.st_mode));
    return CLGAN_WRITE_FAILED;
  }
  clgan_status st = clgan_make_parent_dirs(path);
  if (st != CLGAN_OK) return st;
  clgan_remove_stale_tmp(path);
  af->f = fopen(af->tmp, mode);
  if (!af->f) {
    clgan_error("%s: cannot write %s: %s", clgan_status_message(CLGAN_WRITE_FAILED), af->tmp,
                strerror(errno));
    return CLGAN_WRITE_FAILED;
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
                clgan_status_message(CLGAN_WRITE_FAILED), af->path, strerror(saved));
    remove(af->tmp);
    return CLGAN_WRITE_FAILED;
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
  struct stat sb;
  memset(&sb, 0, sizeof sb);
  /* The kind of what was opened (a link is followed): a folder or a device such as /dev/zero
   * has no size to bound the read by. */
  if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
    clgan_error("%s: %s is %s, not a regular file", clgan_status_message(CLGAN_IO_ERROR), path,
                clgan_file_kind(sb.st_mode));
    st = CLGAN_IO_ERROR;
    goto done;
  }
  /* Read what the file held when opened, and no more: a file that grows meanwhile is not read
   * past its size. */
  size_t size = (size_t)sb.st_size;
  if ((off_t)size != sb.st_size || size == (size_t)-1) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto done;
  }
  buf = malloc(size + 1);
  if (!buf) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto done;
  }
  size_t n = size ? fread(buf, 1, size, f) : 0;
  if (ferror(f)) {
    clgan_error("%s: error reading %s: %s", clgan_status_message(CLGAN_IO_ERROR), path,
                strerror(errno));
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

const char *clgan_file_kind(unsigned mode) {
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a pipe";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISREG(mode)) return "a regular file";
  return "not a regular file";
}
