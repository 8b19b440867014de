/* Host-side file formats: PNG image grids and plots (libpng), safetensors checkpoints, CSV
 * metrics and .npy arrays. Nothing here touches the device. Every file is written atomically
 * (temporary file in the same folder, fsync, rename) except the CSV log, which is appended
 * row by row; every reader is strict and reports a refusal once, naming the file and the
 * problem, with CLGAN_BAD_FORMAT (content) or CLGAN_IO_ERROR (missing or unreadable file).
 * A write that fails (no permission, a missing folder that cannot be made, a full disk) returns
 * CLGAN_WRITE_FAILED: a runtime failure, not bad input. */
#ifndef CLGAN_IO_H
#define CLGAN_IO_H

#include <stddef.h>
#include <stdint.h>

#include "clgan/status.h"

/* ---- PNG (src/io/png.c) --------------------------------------------------------------------- */

/* Writes count images (N, C, H, W) with values in [-1, 1] (clamped; NaN shows as black) as one
 * PNG grid: ncols tiles per row (ncols <= 0: a square-ish grid; more than count: count), pad
 * pixels of gray between and around the tiles. channels 1 gives a gray PNG, 3 an RGB one.
 * -1 maps to 0, 1 to 255 (round to nearest). */
clgan_status clgan_png_write_grid(const char *path, const float *images, int count, int channels,
                                  int height, int width, int ncols, int pad);
/* The same grid with every image pixel drawn as a scale x scale block (nearest neighbour;
 * scale >= 1, CLGAN_INVALID_ARGUMENT otherwise) and pad pixels of gray border between and
 * around the tiles (the border is not scaled). clgan_png_write_grid is scale 1. Returns
 * CLGAN_INVALID_ARGUMENT for bad sizes or a grid over 32768 pixels a side (nothing written),
 * CLGAN_HOST_OUT_OF_MEMORY, or a write failure (CLGAN_WRITE_FAILED). */
clgan_status clgan_png_write_grid_scaled(const char *path, const float *images, int count,
                                         int channels, int height, int width, int ncols, int pad,
                                         int scale);
/* A grid is meant to be seen: the smallest scale >= 1 at which the grid of count images width
 * pixels wide (ncols and pad as clgan_png_write_grid takes them) is at least
 * CLGAN_GRID_MIN_WIDTH pixels wide. A 4x4 grid of 28x28 images with pad 2 gets 3 (346 pixels),
 * an 8x8 grid 2 (466 pixels). */
#define CLGAN_GRID_MIN_WIDTH 256
int clgan_grid_auto_scale(int count, int width, int ncols, int pad);
/* 8-bit RGB (3 bytes a pixel, rows top to bottom) or gray. */
clgan_status clgan_png_write_rgb(const char *path, const uint8_t *rgb, int width, int height);
clgan_status clgan_png_write_gray(const char *path, const uint8_t *gray, int width, int height);
/* Reads any PNG as 8-bit pixels with `channels` (1: gray, 3: RGB) bytes each; transparency
 * (alpha, tRNS) is composited over white, palettes are expanded, 16-bit samples keep their high
 * byte. *pixels is malloc'd (free() it). */
clgan_status clgan_png_read(const char *path, int channels, uint8_t **pixels, int *width,
                            int *height);
clgan_status clgan_png_read_gray(const char *path, uint8_t **pixels, int *width, int *height);
/* clgan_png_read without the report: what is wrong goes into why (a data folder's scan warns
 * and skips the file instead of failing). CLGAN_IO_ERROR when it cannot be opened. */
clgan_status clgan_png_decode(const char *path, int channels, uint8_t **pixels, int *width,
                              int *height, char *why, size_t why_size);

/* ---- JPEG (src/io/jpeg.c, libjpeg-turbo) ---------------------------------------------------- */

/* Reads a baseline or progressive JPEG as 8-bit RGB (3 bytes a pixel; grayscale expanded).
 * libjpeg's warnings about corrupt or truncated data are refusals: a cut file is not padded
 * with gray. CMYK is refused. *rgb is malloc'd (free() it). */
clgan_status clgan_jpeg_read(const char *path, uint8_t **rgb, int *width, int *height);
/* The same without the report (see clgan_png_decode). */
clgan_status clgan_jpeg_decode(const char *path, uint8_t **rgb, int *width, int *height,
                               char *why, size_t why_size);
/* Writes 8-bit gray (channels 1) or RGB (3) pixels as a JPEG of quality 1..100, atomically. */
clgan_status clgan_jpeg_write(const char *path, const uint8_t *pixels, int width, int height,
                              int channels, int quality);

/* ---- safetensors (src/io/safetensors.c) ---------------------------------------------------- */

/* https://github.com/huggingface/safetensors: an 8-byte little-endian header length N, N bytes
 * of JSON {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
 * "__metadata__": {"key": "value"}}, then the data buffer. clgan's writer pads the header with
 * spaces to a multiple of 8, lays tensors out in the order they were added, and stores a zlib
 * CRC-32 in the metadata as "clgan.crc32" (8 hex digits) that the reader verifies when present,
 * so a flipped bit in a checkpoint is refused instead of loaded. The CRC covers the content, not
 * the bytes: tensor names, dtypes, shapes and data in name order, then the other metadata in key
 * order (src/io/safetensors.c, canonical_crc), so it also guards names and hyper-parameters and
 * still holds after another tool re-saves the file with the same tensors and metadata. */

#define CLGAN_ST_MAX_DIMS 8
#define CLGAN_ST_CRC_KEY "clgan.crc32"
/* Every file clgan writes carries the library version under this key; a file that has it but
 * lacks the checksum has a damaged header (one flipped byte in the checksum's key must not
 * switch the check off). Both keys are reserved: clgan_st_add_meta refuses them. */
#define CLGAN_ST_VERSION_KEY "clgan.version"

#define CLGAN_ST_DTYPE_TABLE(X) \
  X(BOOL, 1)                    \
  X(U8, 1)                      \
  X(I8, 1)                      \
  X(F8_E5M2, 1)                 \
  X(F8_E4M3, 1)                 \
  X(I16, 2)                     \
  X(U16, 2)                     \
  X(F16, 2)                     \
  X(BF16, 2)                    \
  X(I32, 4)                     \
  X(U32, 4)                     \
  X(F32, 4)                     \
  X(I64, 8)                     \
  X(U64, 8)                     \
  X(F64, 8)

typedef enum {
#define CLGAN_X_ST_ENUM(name, size) CLGAN_ST_##name,
  CLGAN_ST_DTYPE_TABLE(CLGAN_X_ST_ENUM)
#undef CLGAN_X_ST_ENUM
  CLGAN_ST_DTYPE_COUNT
} clgan_st_dtype;

const char *clgan_st_dtype_name(clgan_st_dtype dtype); /* "F32"; "?" if out of range */
size_t clgan_st_dtype_size(clgan_st_dtype dtype);      /* bytes per element; 0 if out of range */

/* Writer: add tensors and metadata, then write. Tensor data are borrowed, not copied: they must
 * stay valid until clgan_st_write returns. Names and metadata strings are copied. An add that
 * fails (duplicate name, bad shape) reports once and also makes clgan_st_write fail. */
typedef struct clgan_st_writer clgan_st_writer;
clgan_status clgan_st_writer_new(clgan_st_writer **w);
void clgan_st_writer_free(clgan_st_writer *w); /* accepts NULL */
/* shape: ndim (0 to CLGAN_ST_MAX_DIMS) non-negative sizes; ndim 0 is a scalar. */
clgan_status clgan_st_add(clgan_st_writer *w, const char *name, clgan_st_dtype dtype,
                          const int64_t *shape, int ndim, const void *data);
clgan_status clgan_st_add_meta(clgan_st_writer *w, const char *key, const char *value);
clgan_status clgan_st_write(clgan_st_writer *w, const char *path);

/* Reader: the whole file is loaded into memory and validated before open returns. */
typedef struct {
  const char *name;
  clgan_st_dtype dtype;
  int ndim;
  int64_t shape[CLGAN_ST_MAX_DIMS];
  const void *data; /* aligned to 8 bytes */
  size_t nbytes;
} clgan_st_tensor;

typedef struct clgan_st_file clgan_st_file;
/* Loads and validates path (CLGAN_IO_ERROR, CLGAN_BAD_FORMAT); the tensors it returns belong
 * to *file and live until clgan_st_close. */
clgan_status clgan_st_open(const char *path, clgan_st_file **file);
void clgan_st_close(clgan_st_file *file); /* accepts NULL */
int clgan_st_count(const clgan_st_file *file);
const clgan_st_tensor *clgan_st_at(const clgan_st_file *file, int i); /* in header order */
const clgan_st_tensor *clgan_st_find(const clgan_st_file *file, const char *name); /* or NULL */
/* Looks up a tensor that must exist with this dtype and shape; otherwise reports what differs
 * (missing, dtype, shape) naming the file and returns CLGAN_BAD_FORMAT. */
clgan_status clgan_st_expect(const clgan_st_file *file, const char *name, clgan_st_dtype dtype,
                             const int64_t *shape, int ndim, const void **data);
const char *clgan_st_meta(const clgan_st_file *file, const char *key); /* or NULL */
int clgan_st_meta_count(const clgan_st_file *file);
/* The i-th metadata pair in header order; returns 0 past the end. */
int clgan_st_meta_at(const clgan_st_file *file, int i, const char **key, const char **value);

/* ---- CSV metrics (src/io/csv.c) ------------------------------------------------------------ */

/* A metrics log: one header line of column names, then one row of numbers per call, flushed at
 * once so a crash loses at most the row being written. Integral values are written without a
 * decimal point, others with 9 significant digits, NaN and Inf as nan and inf. */
typedef struct {
  const char *path;
  const char *const *columns;
  int ncols;
  /* 0: start a new file (replacing any). 1: keep an existing file's rows (resuming a run) and
   * check that its header matches `columns`; a partial last line from a crash is dropped. The
   * header is written only to a new or empty file. */
  int append;
  /* With append: when keep_until_set is 1, rows whose first column is greater than keep_until
   * are dropped (rows logged after the checkpoint a run resumes from would repeat). */
  int keep_until_set;
  double keep_until;
} clgan_csv_cfg;

typedef struct clgan_csv clgan_csv;
/* Opens (creates, or appends to) the CSV cfg names; rows are flushed as written. */
clgan_status clgan_csv_open(clgan_csv **csv, const clgan_csv_cfg *cfg);
/* n must equal the number of columns. */
clgan_status clgan_csv_row(clgan_csv *csv, const double *values, int n);
clgan_status clgan_csv_close(clgan_csv *csv); /* accepts NULL; reports a failed final flush */

/* Reads a numeric CSV written by clgan_csv (or any with a header line and numeric cells; an
 * empty cell reads as NaN). *columns is an array of ncols malloc'd strings and *values a
 * (rows, ncols) row-major array: free both with clgan_csv_table_free. */
typedef struct {
  char **columns;
  int ncols, rows;
  double *values;
} clgan_csv_table;
clgan_status clgan_csv_read(const char *path, clgan_csv_table *table);
void clgan_csv_table_free(clgan_csv_table *table); /* accepts NULL and a zeroed table */
int clgan_csv_column(const clgan_csv_table *table, const char *name); /* index or -1 */

/* ---- Plots (src/io/plot.c) ------------------------------------------------------------------ */

typedef struct {
  const char *name;
  const float *x; /* NULL: 0, 1, 2, ... */
  const float *y; /* NaN and Inf are gaps */
  int n;
  uint8_t rgb[3];
} clgan_plot_series;

/* A line chart as an 8-bit RGB PNG (CLGAN_PLOT_WIDTH x CLGAN_PLOT_HEIGHT): white background,
 * grid, axes with tick labels, title, x label, and a legend with the series names. A series
 * with more points than the plot is wide is drawn faint with a centred moving average on top,
 * and the y range ignores the extreme 0.5% of raw points so one early spike does not flatten
 * the rest (the clipped points run off the edge). */
#define CLGAN_PLOT_WIDTH 960
#define CLGAN_PLOT_HEIGHT 540
clgan_status clgan_plot_lines(const char *path, const clgan_plot_series *series, int nseries,
                              const char *title, const char *xlabel);

/* ---- .npy (src/io/npy.c) -------------------------------------------------------------------- */

/* Reads a NumPy .npy file (format version 1.0, 2.0 or 3.0) holding little-endian float32
 * ('<f4') in C order, 1-D or 2-D. A 1-D array of n values reads as rows = 1, cols = n
 * (numpy.atleast_2d). Anything else is refused with a message that says what the file holds.
 * *data is malloc'd (free() it). */
clgan_status clgan_npy_read_f32(const char *path, float **data, int *rows, int *cols);
/* Writes a 2-D (rows, cols) float32 array as a version 1.0 .npy file, atomically. */
clgan_status clgan_npy_write_f32(const char *path, const float *data, int rows, int cols);
/* Reads a uint8 ('|u1') array of 1 to 4 dimensions in C order: image data prepared in Python.
 * dims[0..*ndim) get the shape. *data is malloc'd (free() it). */
clgan_status clgan_npy_read_u8(const char *path, uint8_t **data, int dims[4], int *ndim);
/* Reads a 1-D array of class labels: uint8, int32 or int64 (little-endian), each in 0..255. */
clgan_status clgan_npy_read_labels(const char *path, uint8_t **labels, int *count);

#endif
