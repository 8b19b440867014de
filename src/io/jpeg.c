/* JPEG through libjpeg (libjpeg-turbo on Debian): a reader for data folders and a writer that
 * tests use to make fixtures. See clgan/io.h.
 *
 * libjpeg reports errors through error_exit, which must not return: it longjmps back to the
 * setjmp in decode_body/encode_body, whose locals do not change after the setjmp. Warnings
 * (level -1: "Premature end of JPEG file", "Corrupt JPEG data") are made errors too: libjpeg
 * would otherwise fill a cut image with gray and hand it over as if whole, and a training set
 * should not learn gray rectangles from truncated downloads. */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "clgan/io.h"
#include "util/fsutil.h"

#define JPEG_MAX_SIDE 32768
#define JPEG_MAX_PIXELS ((size_t)1 << 26) /* 8192 x 8192: a header must not allocate gigabytes */

typedef struct {
  struct jpeg_error_mgr pub;
  jmp_buf jump;
  char msg[JMSG_LENGTH_MAX];
} jpeg_err;

static void on_jpeg_error(j_common_ptr cinfo) {
  jpeg_err *e = (jpeg_err *)cinfo->err;
  (*cinfo->err->format_message)(cinfo, e->msg);
  longjmp(e->jump, 1);
}

static void on_jpeg_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return; /* trace messages */
  on_jpeg_error(cinfo);
}

typedef struct {
  FILE *f;
  uint8_t *pixels;
  int width, height;
} decode_ctx;

static int decode_body(struct jpeg_decompress_struct *cinfo, jpeg_err *err, decode_ctx *ctx) {
  if (setjmp(err->jump)) return -1;
  jpeg_create_decompress(cinfo);
  jpeg_stdio_src(cinfo, ctx->f);
  jpeg_read_header(cinfo, TRUE);
  if (cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK) {
    snprintf(err->msg, sizeof err->msg, "CMYK JPEG (convert it to RGB)");
    return -1;
  }
  cinfo->out_color_space = JCS_RGB;
  jpeg_start_decompress(cinfo);
  if (cinfo->output_width < 1 || cinfo->output_height < 1 ||
      cinfo->output_width > JPEG_MAX_SIDE || cinfo->output_height > JPEG_MAX_SIDE ||
      (size_t)cinfo->output_width * cinfo->output_height > JPEG_MAX_PIXELS ||
      cinfo->output_components != 3) {
    snprintf(err->msg, sizeof err->msg, "unsupported size %ux%u or %d components",
             cinfo->output_width, cinfo->output_height, cinfo->output_components);
    return -1;
  }
  ctx->width = (int)cinfo->output_width;
  ctx->height = (int)cinfo->output_height;
  size_t stride = (size_t)ctx->width * 3;
  ctx->pixels = malloc(stride * (size_t)ctx->height);
  if (!ctx->pixels) {
    snprintf(err->msg, sizeof err->msg, "out of memory");
    return -1;
  }
  while (cinfo->output_scanline < cinfo->output_height) {
    JSAMPROW row = ctx->pixels + (size_t)cinfo->output_scanline * stride;
    jpeg_read_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_decompress(cinfo);
  return 0;
}

clgan_status clgan_jpeg_decode(const char *path, uint8_t **rgb, int *width, int *height,
                               char *why, size_t why_size) {
  *rgb = NULL;
  *width = *height = 0;
  decode_ctx ctx = {fopen(path, "rb"), NULL, 0, 0};
  if (!ctx.f) {
    snprintf(why, why_size, "cannot open: %s", strerror(errno));
    return CLGAN_IO_ERROR;
  }
  struct jpeg_decompress_struct cinfo;
  jpeg_err err;
  memset(&cinfo, 0, sizeof cinfo);
  memset(&err, 0, sizeof err);
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_jpeg_error;
  err.pub.emit_message = on_jpeg_message;
  int rc = decode_body(&cinfo, &err, &ctx);
  jpeg_destroy_decompress(&cinfo);
  fclose(ctx.f);
  if (rc != 0) {
    free(ctx.pixels);
    snprintf(why, why_size, "%s", err.msg[0] ? err.msg : "undecodable JPEG");
    return CLGAN_BAD_FORMAT;
  }
  *rgb = ctx.pixels;
  *width = ctx.width;
  *height = ctx.height;
  return CLGAN_OK;
}

clgan_status clgan_jpeg_read(const char *path, uint8_t **rgb, int *width, int *height) {
  char why[256] = "";
  clgan_status st = clgan_jpeg_decode(path, rgb, width, height, why, sizeof why);
  if (st != CLGAN_OK) clgan_error("%s: %s: %s", clgan_status_message(st), path, why);
  return st;
}

static int encode_body(struct jpeg_compress_struct *cinfo, jpeg_err *err, FILE *f,
                       const uint8_t *pixels, int width, int height, int channels, int quality) {
  if (setjmp(err->jump)) return -1;
  jpeg_create_compress(cinfo);
  jpeg_stdio_dest(cinfo, f);
  cinfo->image_width = (JDIMENSION)width;
  cinfo->image_height = (JDIMENSION)height;
  cinfo->input_components = channels;
  cinfo->in_color_space = channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_set_defaults(cinfo);
  jpeg_set_quality(cinfo, quality, TRUE);
  jpeg_start_compress(cinfo, TRUE);
  while (cinfo->next_scanline < cinfo->image_height) {
    JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo->next_scanline * (size_t)width * channels);
    jpeg_write_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_compress(cinfo);
  return 0;
}

clgan_status clgan_jpeg_write(const char *path, const uint8_t *pixels, int width, int height,
                              int channels, int quality) {
  if (!path || !pixels || width < 1 || height < 1 || width > JPEG_MAX_SIDE ||
      height > JPEG_MAX_SIDE || (channels != 1 && channels != 3) || quality < 1 || quality > 100)
    return CLGAN_INVALID_ARGUMENT;
  clgan_atomic_file af;
  clgan_status st = clgan_atomic_open(&af, path, "wb");
  if (st != CLGAN_OK) return st;
  struct jpeg_compress_struct cinfo;
  jpeg_err err;
  memset(&cinfo, 0, sizeof cinfo);
  memset(&err, 0, sizeof err);
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_jpeg_error;
  int rc = encode_body(&cinfo, &err, af.f, pixels, width, height, channels, quality);
  jpeg_destroy_compress(&cinfo);
  if (rc != 0) {
    clgan_error("%s: writing %s failed: %s", clgan_status_message(CLGAN_WRITE_FAILED), path,
                err.msg);
    clgan_atomic_abort(&af);
    return CLGAN_WRITE_FAILED;
  }
  return clgan_atomic_commit(&af);
}
