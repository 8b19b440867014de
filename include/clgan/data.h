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
  uint8_t *images; /* (count, channels, rows, cols), row-major */
  uint8_t *labels; /* (count), or NULL when the folder holds no labels file */
  int classes;     /* max label + 1; 0 without labels */
  int channels;    /* 1 (gray) or 3 (RGB planes); 0 reads as 1 (views made before colour) */
  void *map;       /* a decode cache file mapped (images and labels point into it), or NULL */
  size_t map_bytes;
} clgan_dataset;

/* Bytes of one image: channels x rows x cols. */
size_t clgan_dataset_image_bytes(const clgan_dataset *ds);

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

/* ---- Data sources (src/data/source.c, folder.c, cifar.c, resize.c; issue 13) ---------------

 * clgan_dataset_open reads any of these into a clgan_dataset, by what `path` is:
 *  - an IDX folder (<split>-images-idx3-ubyte[.gz], as clgan_dataset_load): unchanged;
 *  - a folder holding CIFAR-10 binaries: data_batch_*.bin (split "train") or test_batch.bin
 *    (any other split); 10,000 records of 1 label byte and 3,072 bytes (R, G, B planes of
 *    32x32) each; batches.meta.txt, when present, names the classes;
 *  - a .npy file of uint8 (N, H, W) or (N, H, W, C), C 1, 3 or 4 (alpha composited over
 *    white, as a PNG's transparency); labels, when <name>_labels.npy sits beside <name>.npy:
 *    1-D, N entries of uint8, int32 or int64 in 0..255 (split "train" only);
 *  - any other folder: its PNG and JPEG files (recognised by content; .png, .jpg, .jpeg names),
 *    searched recursively in sorted path order, hidden entries skipped. When the folder holds
 *    no image directly and one subfolder or more holds images, the subfolders are the classes
 *    (the ImageFolder layout): label k is the k-th subfolder name in byte order. A file that
 *    does not decode is skipped with a warning naming it and counted (split "train" only).
 * Then the options: crop to a centred square and resize to image_size (a triangle filter whose
 * support grows with the shrink factor, so shrinking averages every pixel it covers: Pillow's
 * antialiased bilinear), and convert channels (gray -> RGB copies the plane; RGB -> gray is
 * ITU-R BT.601, Y = 0.299 R + 0.587 G + 0.114 B, rounded). */
typedef enum {
  CLGAN_SOURCE_IDX,
  CLGAN_SOURCE_FOLDER,
  CLGAN_SOURCE_CIFAR10,
  CLGAN_SOURCE_NPY
} clgan_source_kind;
const char *clgan_source_kind_name(clgan_source_kind kind); /* "IDX", "image folder", ... */

#define CLGAN_IMAGE_SIZE_MAX 1024
typedef struct {
  int image_size; /* 0: the source's size (a folder's images must then all have one size) */
  int channels;   /* 0: the source's (a folder: 3 if any image has colour, else 1), or 1 or 3 */
  /* Called while a folder is decoded (every 64 files and at the end); may be NULL. */
  void (*progress)(void *user, int done, int total);
  void *user;
  /* The decode cache of image folders (src/data/cache.c): kept in cache_dir when given, else
   * $XDG_CACHE_HOME/clgan/data, else ~/.cache/clgan/data; no_cache decodes every time. */
  const char *cache_dir;
  int no_cache;
} clgan_data_opts;

#define CLGAN_SUMMARY_CLASSES_MAX 512
typedef struct {
  clgan_source_kind kind;
  int files;                /* image files found (a folder), or files read */
  int skipped;              /* image files skipped: they did not decode */
  int src_rows, src_cols;   /* the first image's size before resizing */
  int resized;              /* images whose size changed */
  char classes[CLGAN_SUMMARY_CLASSES_MAX]; /* "0 cat, 1 dog" (cut with "..."), or "" */
  int cached;               /* read from the decode cache: nothing was decoded */
  char cache[1024];         /* the cache file used or written, or "" */
} clgan_data_summary;

/* Opens path as above; sum (may be NULL) says what was read. A folder with no readable image,
 * labels that do not fit, or a bad option: a message naming the file or value and
 * CLGAN_BAD_FORMAT / CLGAN_IO_ERROR / CLGAN_INVALID_ARGUMENT. On failure ds is left zeroed. */
clgan_status clgan_dataset_open(const char *path, const char *split, const clgan_data_opts *opts,
                                clgan_dataset *ds, clgan_data_summary *sum);

/* Reads one CIFAR-10 binary batch file: *images (count, 3, 32, 32) and *labels (count), both
 * malloc'd. A size that is not a whole number of records, or a label above 9, is refused. */
clgan_status clgan_cifar10_read(const char *path, uint8_t **images, uint8_t **labels, int *count);

/* Centre-crops one plane of w x h bytes to a square of min(w, h) and resizes it to size x size
 * (the triangle filter above); dst holds size * size bytes. */
void clgan_image_resize(uint8_t *dst, int size, const uint8_t *src, int w, int h);
/* One pixel's BT.601 luma from 8-bit R, G, B. */
uint8_t clgan_rgb_to_gray(uint8_t r, uint8_t g, uint8_t b);
/* Applies opts->image_size and opts->channels to a loaded data set in place (the images
 * reallocated as needed). */
clgan_status clgan_dataset_convert(clgan_dataset *ds, const clgan_data_opts *opts);

/* ---- Streaming (src/data/stream.c; issue 13) ------------------------------------------------

 * Data larger than the device's budget stays on the host: a producer thread gathers each
 * batch's uint8 images (the epoch's permutation, its flips applied by mirroring each row, exact
 * on bytes) into one of two host staging buffers, and the batch is uploaded on the device's
 * upload queue into one of two device slots while the device computes the batch before. The
 * trainer turns the slot into floats with the same gather kernel as the uploaded path (the
 * identity order), so both paths make bit-identical batches.
 *
 * The order of an epoch comes from the caller (the trainer's keyed shuffle): the producer calls
 * order() on its own thread for the epoch it prepares, so the function must only read what it
 * is given. */
typedef void (*clgan_stream_order_fn)(void *ctx, int epoch, int32_t *perm, uint8_t *flips);
typedef struct {
  const uint8_t *images;      /* (count, image_bytes), host memory that outlives the stream */
  int count, batch;
  size_t image_bytes;         /* channels x rows x cols */
  int width;                  /* cols: the flip mirrors rows of this many bytes */
  int flip;                   /* order() fills flips, and flipped images are mirrored */
  clgan_stream_order_fn order;
  void *ctx;
} clgan_stream_cfg;
typedef struct clgan_stream clgan_stream;

/* The data's budget on dev in bytes: $CLGAN_DATA_DEVICE_BUDGET when set (tests force streaming
 * with a small one), else half the device's global memory, at most its largest allocation, so
 * the networks keep the other half. A value that is not a byte count: a message and
 * CLGAN_INVALID_ARGUMENT. */
clgan_status clgan_data_device_budget(const clgan_device *dev, unsigned long long *budget);

/* Allocates the two staging buffers and device slots (batch x image_bytes each) and starts the
 * producer thread; nothing is gathered before the first clgan_stream_next. */
clgan_status clgan_stream_create(clgan_stream **s, clgan_device *dev, const clgan_stream_cfg *cfg);
void clgan_stream_free(clgan_stream *s); /* accepts NULL; waits for the thread and transfers */
/* The batch of `batch` images at permutation position first of epoch `epoch`, as a device
 * buffer of uint8 images in batch order, flips applied. Commands enqueued on the main queue
 * after this call see it uploaded. Call clgan_stream_done once they are enqueued. */
clgan_status clgan_stream_next(clgan_stream *s, int epoch, int first, const clgan_buffer **batch);
/* The readers of the last batch are enqueued: its slot is free once they have run, and the
 * producer starts on the batch that follows (the next position, or the next epoch's first). */
clgan_status clgan_stream_done(clgan_stream *s);
/* Seconds the host waited for the producer in clgan_stream_next, and batches served. */
double clgan_stream_wait_seconds(const clgan_stream *s);
long clgan_stream_batches(const clgan_stream *s);

#endif
