/* CRC-32 (zlib's, the gzip and PNG polynomial) over buffers of any size: zlib's crc32() takes a
 * uInt length, so larger buffers go through it in pieces. Used for data-set fingerprints
 * (data/idx.c) and the safetensors content checksum (io/safetensors.c). */
#ifndef CLGAN_UTIL_CRC_H
#define CLGAN_UTIL_CRC_H

#include <stddef.h>

/* crc extended over n bytes of data; start from 0 (zlib's crc32(0, Z_NULL, 0)). */
unsigned long clgan_crc32_update(unsigned long crc, const void *data, size_t n);

#endif
