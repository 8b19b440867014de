/* PNG through libpng: image grids of generated samples, plain RGB/gray writing (used by the
 * plots) and a reader that tests use to check what was written. See clgan/io.h.
 *
 * libpng reports errors by longjmp. Each setjmp lives in a small function whose own locals do
 * not change after it, so nothing is left indeterminate when libpng jumps back; the buffers
 * belong to the caller, which frees them on either path. */
#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/io.h"
#include "util/fsutil.h"

#define BAD clgan_status_message(CLGAN_BAD_FORMAT)
#define IOERR clgan_status_message(CLGAN_IO_ERROR)

/* The biggest side accepted either way: far above any grid or plot, far below a 4 GB buffer. */
#define PNG_MAX_SIDE 32768
/* And the biggest area read: a header alone must not make a reader allocate gigabytes. */
#define PNG_MAX_PIXELS ((size_t)1 << 26)

static void on_png_error(png_structp png, png_const_charp msg) {
  char *buf = png_get_error_ptr(png);
  snprintf(buf, 256, "%s", msg);
  png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg) {
  (void)png;
  (void)msg; /* benign (e.g. an unknown chunk); the reader's result is still checked */
}

static int write_body(png_structp png, png_infop info, FILE *f, const uint8_t *pixels, int width,
                      int height, int channels) {
  if (setjmp(png_jmpbuf(png))) return -1;
  png_init_io(png, f);
  png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
               channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < height; y++)
    png_write_row(png, (png_const_bytep)(pixels + (size_t)y * width * channels));
  png_write_end(png, info);
  return 0;
}

static clgan_status write_pixels(const char *path, const uint8_t *pixels, int width, int height,
                                 int channels) {
  if (!path || !pixels || width <= 0 || height <= 0 || width > PNG_MAX_SIDE ||
      height > PNG_MAX_SIDE || (channels != 1 && channels != 3)) {
    clgan_error("%s: PNG %s: %d x %d pixels with %d channels", 
                clgan_status_message(CLGAN_INVALID_ARGUMENT), path ? path : "(null)", width,
                height, channels);
    return CLGAN_INVALID_ARGUMENT;
  }
  char msg[256] = "";
  clgan_atomic_file af;
  clgan_status st = clgan_atomic_open(&af, path, "wb");
  if (st != CLGAN_OK) return st;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, msg, on_png_error,
                                            on_png_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!info) {
    png_destroy_write_struct(&png, NULL);
    clgan_atomic_abort(&af);
    return CLGAN_HOST_OUT_OF_MEMORY;
  }
  int failed = write_body(png, info, af.f, pixels, width, height, channels);
  png_destroy_write_struct(&png, &info);
  if (failed) {
    clgan_error("%s: writing PNG %s failed: %s", clgan_status_message(CLGAN_WRITE_FAILED), path,
                msg[0] ? msg : strerror(errno));
    clgan_atomic_abort(&af);
    return CLGAN_WRITE_FAILED;
  }
  return clgan_atomic_commit(&af);
}

clgan_status clgan_png_write_rgb(const char *path, const uint8_t *rgb, int width, int height) {
  return write_pixels(path, rgb, width, height, 3);
}

clgan_status clgan_png_write_gray(const char *path, const uint8_t *gray, int width, int height) {
  return write_pixels(path, gray, width, height, 1);
}

static uint8_t to_byte(float v) {
  if (!(v > -1.0f)) return 0; /* also NaN */
  if (v >= 1.0f) return 255;
  return (uint8_t)floorf((v + 1.0f) * 127.5f + 0.5f);
}

/* Columns of a grid: ncols <= 0 is a square-ish grid, more than count is count. */
static int grid_cols(int count, int ncols) {
  if (ncols <= 0) ncols = (int)ceil(sqrt((double)count));
  return ncols > count ? count : ncols;
}

int clgan_grid_auto_scale(int count, int width, int ncols, int pad) {
  if (count <= 0 || width <= 0 || pad < 0) return 1;
  long long cols = grid_cols(count, ncols);
  for (int scale = 1;; scale++)
    if (cols * ((long long)width * scale + pad) + pad >= CLGAN_GRID_MIN_WIDTH) return scale;
}

clgan_status clgan_png_write_grid_scaled(const char *path, const float *images, int count,
                                         int channels, int height, int width, int ncols, int pad,
                                         int scale) {
  if (!images || count <= 0 || (channels != 1 && channels != 3) || height <= 0 || width <= 0 ||
      pad < 0 || scale < 1) {
    clgan_error("%s: image grid %s: %d images of %d x %d x %d, pad %d, scale %d",
                clgan_status_message(CLGAN_INVALID_ARGUMENT), path ? path : "(null)", count,
                channels, height, width, pad, scale);
    return CLGAN_INVALID_ARGUMENT;
  }
  ncols = grid_cols(count, ncols);
  int nrows = (count + ncols - 1) / ncols;
  long long tw = (long long)width * scale, th = (long long)height * scale;
  long long gw = ncols * (tw + pad) + pad;
  long long gh = nrows * (th + pad) + pad;
  if (gw > PNG_MAX_SIDE || gh > PNG_MAX_SIDE) {
    clgan_error("%s: image grid %s would be %lld x %lld pixels (at most %d a side)",
                clgan_status_message(CLGAN_INVALID_ARGUMENT), path ? path : "(null)", gw, gh,
                PNG_MAX_SIDE);
    return CLGAN_INVALID_ARGUMENT;
  }
  size_t stride = (size_t)gw * channels;
  uint8_t *grid = malloc(stride * (size_t)gh);
  if (!grid) return CLGAN_HOST_OUT_OF_MEMORY;
  memset(grid, 128, stride * (size_t)gh);
  size_t plane = (size_t)height * width;
  for (int i = 0; i < count; i++) {
    const float *img = images + (size_t)i * channels * plane;
    size_t x0 = (size_t)(i % ncols) * (size_t)(tw + pad) + (size_t)pad;
    size_t y0 = (size_t)(i / ncols) * (size_t)(th + pad) + (size_t)pad;
    for (long long y = 0; y < th; y++) {
      uint8_t *row = grid + (y0 + (size_t)y) * stride + x0 * channels;
      const float *src = img + (size_t)(y / scale) * width;
      for (long long x = 0; x < tw; x++)
        for (int c = 0; c < channels; c++)
          row[x * channels + c] = to_byte(src[c * plane + (size_t)(x / scale)]);
    }
  }
  clgan_status st = write_pixels(path, grid, (int)gw, (int)gh, channels);
  free(grid);
  return st;
}

clgan_status clgan_png_write_grid(const char *path, const float *images, int count, int channels,
                                  int height, int width, int ncols, int pad) {
  return clgan_png_write_grid_scaled(path, images, count, channels, height, width, ncols, pad, 1);
}

/* ---- Reading -------------------------------------------------------------------------------- */

typedef struct {
  FILE *f;
  int channels;
  uint8_t *pixels;
  png_bytep *rows;
  int width, height;
} read_ctx;

static int read_body(png_structp png, png_infop info, read_ctx *ctx) {
  if (setjmp(png_jmpbuf(png))) return -1;
  png_init_io(png, ctx->f);
  png_set_sig_bytes(png, 8);
  png_set_user_limits(png, PNG_MAX_SIDE, PNG_MAX_SIDE);
  png_read_info(png, info);
  int color = png_get_color_type(png, info);
  /* Transparency (an alpha channel, or a tRNS chunk that expands into one) is composited over
   * white below: the colour under a transparent pixel is undefined, often black. */
  int alpha = (color & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS);
  png_set_expand(png);
  png_set_strip_16(png);
  if (ctx->channels == 1 && (color & PNG_COLOR_MASK_COLOR))
    png_set_rgb_to_gray_fixed(png, 1, -1, -1);
  if (ctx->channels == 3 && !(color & PNG_COLOR_MASK_COLOR)) png_set_gray_to_rgb(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  ctx->width = (int)png_get_image_width(png, info);
  ctx->height = (int)png_get_image_height(png, info);
  if ((size_t)ctx->width * (size_t)ctx->height > PNG_MAX_PIXELS)
    png_error(png, "more than 2^26 pixels (8192 x 8192)");
  size_t stride = (size_t)ctx->width * (size_t)(ctx->channels + alpha);
  if (png_get_rowbytes(png, info) != stride) png_error(png, "unexpected row size after conversion");
  ctx->pixels = malloc(stride * (size_t)ctx->height);
  ctx->rows = malloc(sizeof *ctx->rows * (size_t)ctx->height);
  if (!ctx->pixels || !ctx->rows) png_error(png, "out of memory");
  for (int y = 0; y < ctx->height; y++) ctx->rows[y] = ctx->pixels + (size_t)y * stride;
  png_read_image(png, ctx->rows);
  png_read_end(png, NULL);
  if (alpha) {
    /* In place, front to back: pixel p's result never lands past its source. */
    size_t n = (size_t)ctx->width * (size_t)ctx->height;
    int c = ctx->channels;
    for (size_t p = 0; p < n; p++) {
      const uint8_t *src = ctx->pixels + p * (size_t)(c + 1);
      unsigned a = src[c];
      for (int k = 0; k < c; k++)
        ctx->pixels[p * (size_t)c + (size_t)k] =
            (uint8_t)((src[k] * a + 255u * (255u - a) + 127u) / 255u);
    }
  }
  return 0;
}

clgan_status clgan_png_decode(const char *path, int channels, uint8_t **pixels, int *width,
                              int *height, char *why, size_t why_size) {
  *pixels = NULL;
  *width = *height = 0;
  if (channels != 1 && channels != 3) return CLGAN_INVALID_ARGUMENT;
  read_ctx ctx = {fopen(path, "rb"), channels, NULL, NULL, 0, 0};
  if (!ctx.f) {
    snprintf(why, why_size, "cannot open: %s", strerror(errno));
    return CLGAN_IO_ERROR;
  }
  unsigned char sig[8];
  if (fread(sig, 1, 8, ctx.f) != 8 || png_sig_cmp(sig, 0, 8) != 0) {
    snprintf(why, why_size, "not a PNG file (bad signature)");
    fclose(ctx.f);
    return CLGAN_BAD_FORMAT;
  }
  char msg[256] = "";
  clgan_status st = CLGAN_OK;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, msg, on_png_error,
                                           on_png_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!info) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    snprintf(why, why_size, "out of memory");
  } else if (read_body(png, info, &ctx) != 0) {
    snprintf(why, why_size, "%s%s", msg,
             !strcmp(msg, "Read Error") ? " (the file ends early: truncated?)" : "");
    st = CLGAN_BAD_FORMAT;
  }
  png_destroy_read_struct(&png, &info, NULL);
  fclose(ctx.f);
  free(ctx.rows);
  if (st != CLGAN_OK) {
    free(ctx.pixels);
    return st;
  }
  *pixels = ctx.pixels;
  *width = ctx.width;
  *height = ctx.height;
  return CLGAN_OK;
}

clgan_status clgan_png_read(const char *path, int channels, uint8_t **pixels, int *width,
                            int *height) {
  char why[256] = "";
  clgan_status st = clgan_png_decode(path, channels, pixels, width, height, why, sizeof why);
  if (st == CLGAN_IO_ERROR)
    clgan_error("%s: cannot open %s: %s", IOERR, path, why + strlen("cannot open: "));
  else if (st == CLGAN_BAD_FORMAT && !strcmp(why, "not a PNG file (bad signature)"))
    clgan_error("%s: %s is not a PNG file (bad signature)", BAD, path);
  else if (st == CLGAN_BAD_FORMAT)
    clgan_error("%s: %s: %s", BAD, path, why);
  return st;
}

clgan_status clgan_png_read_gray(const char *path, uint8_t **pixels, int *width, int *height) {
  return clgan_png_read(path, 1, pixels, width, height);
}
