/* Argument checks shared by the device ops (see internal.h). */
#include <limits.h>

#include "ops/internal.h"

clgan_status ops_check_count(long long n, const char *op, const char *what) {
  if (n >= 0 && n <= INT_MAX) return CLGAN_OK;
  clgan_error("%s: %s: %s = %lld is outside [0, INT_MAX]",
              clgan_status_message(CLGAN_INVALID_ARGUMENT), op, what, n);
  return CLGAN_INVALID_ARGUMENT;
}

clgan_status ops_check_buf(const clgan_buffer *buf, size_t bytes, const char *op,
                           const char *what) {
  if (buf && buf->mem && buf->bytes >= bytes) return CLGAN_OK;
  if (!buf || !buf->mem)
    clgan_error("%s: %s: buffer %s is missing", clgan_status_message(CLGAN_INVALID_ARGUMENT), op,
                what);
  else
    clgan_error("%s: %s: buffer %s holds %zu bytes, the op needs %zu",
                clgan_status_message(CLGAN_INVALID_ARGUMENT), op, what, buf->bytes, bytes);
  return CLGAN_INVALID_ARGUMENT;
}

size_t ops_reduce_local(const clgan_device *dev) {
  size_t max_wg = clgan_device_get_info(dev)->max_work_group;
  size_t local = 256;
  while (local > 1 && local > max_wg) local /= 2;
  return local;
}
