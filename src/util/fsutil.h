/* File-system helpers shared by every layer: creating parent folders and writing a file
 * atomically (temporary file in the same folder, flush, fsync, rename), so a crash or a full
 * disk never leaves a half-written checkpoint, cache or image behind. */
#ifndef CLGAN_UTIL_FSUTIL_H
#define CLGAN_UTIL_FSUTIL_H

#include <stddef.h>
#include <stdio.h>

#include "clgan/status.h"

/* mkdir -p of the folder that holds path. */
clgan_status clgan_make_parent_dirs(const char *path);
/* mkdir -p of dir itself. */
clgan_status clgan_make_dirs(const char *dir);

/* Atomic writer: open returns a FILE* on path.tmp.<pid>; commit flushes, fsyncs and renames it
 * over path; abort removes it. Errors name the file; a failed write is CLGAN_WRITE_FAILED. Open
 * also removes the path.tmp.<pid> files of processes that no longer exist (killed with -9). */
typedef struct {
  FILE *f;
  char path[1024];
  char tmp[1100];
} clgan_atomic_file;

clgan_status clgan_atomic_open(clgan_atomic_file *af, const char *path, const char *mode);
clgan_status clgan_atomic_commit(clgan_atomic_file *af);
void clgan_atomic_abort(clgan_atomic_file *af);

/* Removes path.tmp.<pid> files whose process is gone (kill(pid, 0) fails with ESRCH). */
void clgan_remove_stale_tmp(const char *path);

/* Reads a whole regular file into a malloc'd buffer (NUL-terminated for convenience), at most
 * the size it has when opened. A folder, a device (/dev/zero) or a pipe is CLGAN_IO_ERROR,
 * reported with the path. */
clgan_status clgan_read_file(const char *path, unsigned char **data, size_t *len);

/* "a folder", "a character device", ... for a stat st_mode; for messages. */
const char *clgan_file_kind(unsigned mode);

#endif
