/* Training data: IDX files (the MNIST / Fashion-MNIST format, plain or gzip), validated on the
 * host and uploaded once to the device as uint8. The gather kernel in src/ops/ turns slices of
 * that buffer into float batches in [-1, 1]; nothing here touches floats.
 *
 * IDX layout (big-endian): 2 zero bytes, element type (0x08 = uint8, the only one accepted),
 * number of dimensions, one uint32 per dimension, then the elements in C order. A file whose
 * name ends in .gz or whose first bytes are the gzip magic is decompressed on the fly (zlib);
 * its CRC is checked. Every refusal is reported once through clgan_error naming the file and the
 * problem, and returns CLGAN_BAD_FORMAT (content) or CLGAN_IO_ERROR (missing or unreadable).
 * A failed write returns CLGAN_WRITE_FAILED.
 * Bytes after the last element are an error: they mean the header and the data disagree. */
#ifndef CLGAN_DATA_H
#define CLGAN_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "clgan/device.h"
#include "clgan/status.h"

/* Limits that separate a real data set from a corrupt header. */
#define CLGAN_IDX_MAX_COUNT 10000000
#define CLGAN_IDX_MAX_SIDE 4096

typedef struct {
  int count, rows, cols;
  uint8_t *images; /* (count, rows, cols), row-major */
  uint8_t *labels; /* (count), or NULL when the folder holds no labels file */
  int classes;     /* max label + 1; 0 without labels */
} clgan_dataset;

/* Reads an IDX file of uint8 elements. expect_dims: 1 (labels) or 3 (images); 0 accepts 1 to 3.
 * On success *data is malloc'd (free() it), dims[0..*ndims) hold the dimensions. */
clgan_status clgan_idx_read(const char *path, int expect_dims, uint8_t **data, int dims[3],
                            int *ndims);

/* Loads <dir>/<split>-images-idx3-ubyte (or .gz, or the <split>-images.idx3-ubyte spelling)
 * and the matching labels file. split is "train" or "t10k" (any name works). The images file
 * is required; without a labels file ds->labels is NULL. A labels file must be 1-D and hold as
 * many entries as there are images. On failure ds is left zeroed. */
clgan_status clgan_dataset_load(const char *dir, const char *split, clgan_dataset *ds);

/* The data folder when none is named: Debian's Fashion-MNIST (scripts/setup.sh installs it). */
#define CLGAN_DATA_DIR_DEFAULT "/usr/share/datasets/fashion-mnist"
/* The data folder: given, else $CLGAN_DATA, else CLGAN_DATA_DIR_DEFAULT (an empty string counts
 * as not given). */
const char *clgan_data_dir(const char *given);
void clgan_dataset_free(clgan_dataset *ds); /* accepts NULL and a zeroed dataset */

/* Writes an IDX file of uint8 elements (1 to 3 dims); a path ending in .gz is gzip-compressed.
 * Written atomically (temporary file, fsync, rename). */
clgan_status clgan_idx_write(const char *path, const uint8_t *data, const int *dims, int ndims);
clgan_status clgan_idx_write_images(const char *path, const uint8_t *images, int count, int rows,
                                    int cols);

/* A fingerprint of a data set's content, "<count>x<rows>x<cols>-<crc32 of the images>-<crc32 of
 * the labels, or none>" (at most CLGAN_FINGERPRINT_MAX bytes with the NUL): a classifier records
 * the one of the data it was trained on, and clgan eval refuses one trained on other data. */
#define CLGAN_FINGERPRINT_MAX 64
void clgan_dataset_fingerprint(const clgan_dataset *ds, char *out, size_t size);

/* Allocates *images on the device (count * rows * cols bytes) and copies ds->images into it.
 * On failure *images is left zeroed. */
clgan_status clgan_dataset_upload(clgan_device *dev, const clgan_dataset *ds,
                                  clgan_buffer *images);

#endif
