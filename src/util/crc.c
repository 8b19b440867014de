/* See crc.h. */
#include "util/crc.h"

#include <zlib.h>

unsigned long clgan_crc32_update(unsigned long crc, const void *data, size_t n) {
  const unsigned char *p = data;
  while (n > 0) {
    uInt piece = n > (1u << 30) ? (1u << 30) : (uInt)n;
    crc = crc32(crc, p, piece);
    p += piece;
    n -= piece;
  }
  return crc;
}
