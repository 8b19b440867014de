/* clgan status codes: one X-macro table gives the enum, the names and the messages.
 * Library functions return a clgan_status; only main() and tests exit. OpenCL and CLBlast
 * codes are mapped into this table by src/device/ (clgan_status_from_cl, ..._from_clblast). */
/*
 * Conventions of the whole public API (the headers in include/clgan/), so that each
 * declaration need not repeat them:
 * - A function that returns clgan_status returns CLGAN_OK, or the first failure it met, which
 *   it has reported once through clgan_log (with the call, the file or the value at fault).
 *   Bad sizes, NULL where a pointer is required and out-of-range values are
 *   CLGAN_INVALID_ARGUMENT; malloc failures CLGAN_HOST_OUT_OF_MEMORY; OpenCL and CLBlast
 *   failures come mapped into this table (CLGAN_OPENCL_ERROR, CLGAN_DEVICE_OUT_OF_MEMORY,
 *   CLGAN_BUILD_FAILED, CLGAN_CLBLAST_ERROR, ...). Readers add CLGAN_IO_ERROR (a missing or
 *   unreadable file) and CLGAN_BAD_FORMAT (content); writers CLGAN_WRITE_FAILED.
 * - Ownership: the caller owns every struct it passes in and every pointer it passes. What a
 *   function allocates for the caller is said where it is declared: `*x is malloc'd` (free()
 *   it), or an opaque handle with its own _free / _close, which accepts NULL. Pointers a
 *   handle returns (a net's output buffer, a checkpoint's tensor) stay owned by the handle
 *   and live until it is freed.
 * - Device work (ops, nets, the trainer) is enqueued on the device's in-order queue and does
 *   not block unless the declaration says so (reads to the host do); the host arrays of the
 *   plain C references (clgan_ref_*) are the caller's.
 * - Nothing is thread-safe across one device or one handle; different devices are independent.
 */
#ifndef CLGAN_STATUS_H
#define CLGAN_STATUS_H

#define CLGAN_STATUS_TABLE(X)                                                              \
  X(OK, "success")                                                                         \
  X(INVALID_ARGUMENT, "invalid argument")                                                  \
  X(HOST_OUT_OF_MEMORY, "out of host memory")                                              \
  X(IO_ERROR, "file input/output error")                                                   \
  X(WRITE_FAILED, "could not write a file (disk full, no permission)")                    \
  X(BAD_FORMAT, "malformed or corrupt input")                                              \
  X(NO_PLATFORM, "no OpenCL platform found")                                               \
  X(NO_DEVICE, "no OpenCL device matches the selector")                                    \
  X(DEVICE_OUT_OF_MEMORY, "device out of memory or resources")                             \
  X(BUILD_FAILED, "OpenCL kernel build failed")                                            \
  X(KERNEL_NOT_FOUND, "OpenCL kernel or kernel file not found")                            \
  X(OPENCL_ERROR, "OpenCL call failed")                                                    \
  X(CLBLAST_ERROR, "CLBlast call failed")                                                  \
  X(UNSUPPORTED, "operation not supported on this device")                                 \
  X(NUMERIC, "non-finite value (NaN or Inf) detected")                                     \
  X(INTERRUPTED, "interrupted")                                                            \
  X(COMM_ERROR, "communication between ranks failed (MPI)")

typedef enum {
#define CLGAN_X_ENUM(name, msg) CLGAN_##name,
  CLGAN_STATUS_TABLE(CLGAN_X_ENUM)
#undef CLGAN_X_ENUM
  CLGAN_STATUS_COUNT
} clgan_status;

/* The library's version, "MAJOR.MINOR.PATCH" (semantic versioning, CHANGELOG.md): a static
 * string. The major version is the shared library's SONAME (libclgan.so.MAJOR). */
const char *clgan_version(void);

/* "CLGAN_NO_DEVICE" and "no OpenCL device matches the selector"; never NULL. */
const char *clgan_status_name(clgan_status s);
const char *clgan_status_message(clgan_status s);

/* Where errors are reported: once, where they are first seen. The default sink writes
 * "clgan: error: <text>" to stderr; a program may install its own (NULL restores the default). */
typedef void (*clgan_log_fn)(const char *level, const char *text, void *user);
void clgan_set_log(clgan_log_fn fn, void *user);
void clgan_log(const char *level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
#define clgan_error(...) clgan_log("error", __VA_ARGS__)
#define clgan_warn(...) clgan_log("warning", __VA_ARGS__)

/* How a reader refuses a file: reports "<CLGAN_BAD_FORMAT's message>: <kind> <path>: <what>"
 * once (kind e.g. "safetensors file") and returns CLGAN_BAD_FORMAT. */
clgan_status clgan_refuse_file(const char *kind, const char *path, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
