/* Data sources (issue 13): PNG of every colour type and bit depth and JPEG decoded against
 * images written through libpng and libjpeg; the resize against a plain double-precision
 * reference; a folder of images with class subfolders, a corrupt file and a junk file skipped
 * and counted; CIFAR-10 batches and .npy arrays, whole and cut; the refusals, each naming the
 * file. Needs no OpenCL device. */
#define _DEFAULT_SOURCE /* utimensat, setenv */
#include <fcntl.h>
#include <math.h>
#include <png.h>
#include <stdint.h>

#include "clgan/data.h"
#include "clgan/io.h"
#include "io_testutil.h"

#include <sys/stat.h>

static int pattern(int c, int y, int x) { return (c * 71 + y * 37 + x * 13 + y * x) % 256; }

/* Writes a PNG through libpng: color_type and bit depth as given, the pattern as samples
 * (16-bit samples v * 256 + (v ^ 0x5a): the low byte differs from the high one, which the
 * 8-bit decode keeps). */
static void write_png(const char *path, int w, int h, int color_type, int depth) {
  FILE *f = fopen(path, "wb");
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(png);
  if (!f || !png || !info || setjmp(png_jmpbuf(png))) {
    fprintf(stderr, "FAIL: cannot write %s\n", path);
    exit(1);
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, color_type, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (color_type == PNG_COLOR_TYPE_PALETTE) {
    png_color pal[256];
    for (int i = 0; i < 256; i++)
      pal[i] = (png_color){(png_byte)i, (png_byte)(255 - i), (png_byte)(i * 7)};
    png_set_PLTE(png, info, pal, 256);
  }
  png_write_info(png, info);
  int ch = color_type == PNG_COLOR_TYPE_GRAY ? 1 : color_type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2
           : color_type == PNG_COLOR_TYPE_RGB ? 3 : color_type == PNG_COLOR_TYPE_RGBA ? 4 : 1;
  int bps = depth / 8;
  uint8_t *row = malloc((size_t)w * ch * bps);
  for (int y = 0; y < h; y++) {
    for (int x = 0; x < w; x++)
      for (int c = 0; c < ch; c++) {
        int v = c == 3 || (ch == 2 && c == 1) ? 77 : pattern(c, y, x);
        uint8_t *p = row + ((size_t)x * ch + c) * bps;
        if (bps == 2) {
          p[0] = (uint8_t)v, p[1] = (uint8_t)(v ^ 0x5a);
        } else {
          p[0] = (uint8_t)v;
        }
      }
    png_write_row(png, row);
  }
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  fclose(f);
  free(row);
}

/* What the RGB decode of write_png's file must give at (y, x), channel c: alpha (77) composited
 * over white. */
static int over_white(int v, int a) { return (v * a + 255 * (255 - a) + 127) / 255; }
static int png_expect(int color_type, int c, int y, int x) {
  if (color_type & PNG_COLOR_MASK_ALPHA)
    return over_white(png_expect(color_type & ~PNG_COLOR_MASK_ALPHA, c, y, x), 77);
  if (color_type == PNG_COLOR_TYPE_PALETTE) {
    int i = pattern(0, y, x);
    return c == 0 ? i : c == 1 ? 255 - i : (i * 7) % 256;
  }
  if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA)
    return pattern(0, y, x);
  return pattern(c, y, x);
}

static void test_png_round_trips(const char *dir) {
  const struct {
    int type, depth;
    const char *name;
  } cases[] = {{PNG_COLOR_TYPE_GRAY, 8, "gray8"},        {PNG_COLOR_TYPE_GRAY, 16, "gray16"},
               {PNG_COLOR_TYPE_GRAY_ALPHA, 8, "ga8"},    {PNG_COLOR_TYPE_PALETTE, 8, "palette"},
               {PNG_COLOR_TYPE_RGB, 8, "rgb8"},          {PNG_COLOR_TYPE_RGB, 16, "rgb16"},
               {PNG_COLOR_TYPE_RGBA, 8, "rgba8"},        {PNG_COLOR_TYPE_RGBA, 16, "rgba16"}};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    int w = 7 + (int)k * 2, h = 5 + (int)k;
    char path[700], why[300] = "";
    snprintf(path, sizeof path, "%s/%s.png", dir, cases[k].name);
    write_png(path, w, h, cases[k].type, cases[k].depth);
    uint8_t *rgb = NULL;
    int gw = 0, gh = 0;
    CHECK(clgan_png_decode(path, 3, &rgb, &gw, &gh, why, sizeof why) == CLGAN_OK, "%s: %s",
          cases[k].name, why);
    CHECK(gw == w && gh == h, "%s: %dx%d, want %dx%d", cases[k].name, gw, gh, w, h);
    int bad = 0;
    for (int y = 0; rgb && y < h; y++)
      for (int x = 0; x < w; x++)
        for (int c = 0; c < 3; c++)
          bad += rgb[((size_t)y * w + x) * 3 + c] != png_expect(cases[k].type, c, y, x);
    CHECK(rgb && bad == 0, "%s: %d samples differ", cases[k].name, bad);
    free(rgb);
  }
}

static void test_jpeg_round_trips(const char *dir) {
  enum { W = 19, H = 11 };
  uint8_t img[W * H * 3];
  for (int c = 1; c <= 3; c += 2) {
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++)
        for (int k = 0; k < c; k++) img[(y * W + x) * c + k] = (uint8_t)(20 + 6 * x + 4 * y + 25 * k);
    char path[700];
    snprintf(path, sizeof path, "%s/smooth%d.jpg", dir, c);
    CHECK(clgan_jpeg_write(path, img, W, H, c, 100) == CLGAN_OK, "write jpeg %d", c);
    uint8_t *rgb = NULL;
    int w = 0, h = 0;
    CHECK(clgan_jpeg_read(path, &rgb, &w, &h) == CLGAN_OK, "read jpeg %d", c);
    CHECK(w == W && h == H, "jpeg %d: %dx%d", c, w, h);
    int worst = 0;
    for (int p = 0; rgb && p < W * H; p++)
      for (int k = 0; k < 3; k++) {
        int d = abs(rgb[p * 3 + k] - img[p * c + (c == 3 ? k : 0)]);
        if (d > worst) worst = d;
      }
    /* Quality 100 of a smooth ramp: within a few levels (chroma is subsampled in colour). */
    CHECK(rgb && worst <= (c == 1 ? 2 : 12), "jpeg %d channels: worst error %d", c, worst);
    free(rgb);
  }
}

/* The resize as its definition: every source pixel of the crop weighted by the product of
 * the two triangle weights, in double, without separating the axes. */
static void resize_reference(double *out, int s, const uint8_t *src, int w, int h) {
  int side = w < h ? w : h, ox = (w - side) / 2, oy = (h - side) / 2;
  double scale = (double)side / s, sup = scale > 1 ? scale : 1;
  for (int i = 0; i < s; i++)
    for (int j = 0; j < s; j++) {
      double cy = (i + 0.5) * scale, cx = (j + 0.5) * scale, num = 0, wy_sum = 0, wx_sum = 0;
      for (int y = 0; y < side; y++) {
        double wy = fmax(0.0, 1.0 - fabs((y + 0.5 - cy) / sup));
        wy_sum += wy;
        for (int x = 0; x < side; x++) {
          double wx = fmax(0.0, 1.0 - fabs((x + 0.5 - cx) / sup));
          num += wy * wx * src[(size_t)(oy + y) * w + ox + x];
        }
      }
      for (int x = 0; x < side; x++) wx_sum += fmax(0.0, 1.0 - fabs((x + 0.5 - cx) / sup));
      out[i * s + j] = num / (wy_sum * wx_sum);
    }
}

static void test_resize(void) {
  const int cases[][3] = {{37, 23, 8}, {8, 8, 8}, {5, 7, 16}, {100, 64, 32}, {64, 64, 17},
                          {3, 9, 1}};
  unsigned long long rng = 7;
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    int w = cases[k][0], h = cases[k][1], s = cases[k][2];
    uint8_t *src = malloc((size_t)w * h), *dst = malloc((size_t)s * s);
    double *ref = malloc((size_t)s * s * sizeof *ref);
    for (int p = 0; p < w * h; p++) {
      rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
      src[p] = (uint8_t)(rng >> 56);
    }
    clgan_image_resize(dst, s, src, w, h);
    resize_reference(ref, s, src, w, h);
    double worst = 0;
    for (int p = 0; p < s * s; p++) worst = fmax(worst, fabs(dst[p] - ref[p]));
    CHECK(worst <= 0.5 + 1e-9, "resize %dx%d -> %d: worst |got - reference| %.3f", w, h, s, worst);
    /* A flat image stays flat. */
    memset(src, 200, (size_t)w * h);
    clgan_image_resize(dst, s, src, w, h);
    int flat = 1;
    for (int p = 0; p < s * s; p++) flat &= dst[p] == 200;
    CHECK(flat, "resize %dx%d -> %d of a flat image is not flat", w, h, s);
    free(src);
    free(dst);
    free(ref);
  }
  CHECK(clgan_rgb_to_gray(255, 0, 0) == 76 && clgan_rgb_to_gray(0, 255, 0) == 150 &&
            clgan_rgb_to_gray(0, 0, 255) == 29 && clgan_rgb_to_gray(90, 90, 90) == 90,
        "BT.601 weights");
}

static void mkdirs(const char *dir, const char *sub) {
  char p[700];
  snprintf(p, sizeof p, "%s/%s", dir, sub);
  mkdir(p, 0755);
}

static void test_folder(const char *base) {
  char dir[600], p[700];
  snprintf(dir, sizeof dir, "%s/folder", base);
  mkdir(dir, 0755);
  mkdirs(dir, "b_dogs");
  mkdirs(dir, "a_cats");
  mkdirs(dir, "a_cats/deeper");
  mkdirs(dir, "c_empty");
  mkdirs(dir, ".hidden");
  /* a_cats: two PNGs (one deeper); b_dogs: a JPEG, a cut PNG and junk named .jpg. */
  snprintf(p, sizeof p, "%s/a_cats/1.png", dir);
  write_png(p, 12, 10, PNG_COLOR_TYPE_RGB, 8);
  snprintf(p, sizeof p, "%s/a_cats/deeper/2.PNG", dir);
  write_png(p, 9, 9, PNG_COLOR_TYPE_GRAY, 16);
  snprintf(p, sizeof p, "%s/.hidden/3.png", dir);
  write_png(p, 9, 9, PNG_COLOR_TYPE_GRAY, 8);
  uint8_t px[16 * 16 * 3];
  for (int i = 0; i < 16 * 16 * 3; i++) px[i] = (uint8_t)(i % 3 == 0 ? 200 : 30);
  snprintf(p, sizeof p, "%s/b_dogs/4.jpeg", dir);
  clgan_jpeg_write(p, px, 16, 16, 3, 95);
  char good[700], cut[700];
  snprintf(good, sizeof good, "%s/whole.png", base);
  write_png(good, 20, 20, PNG_COLOR_TYPE_RGB, 8);
  size_t len = 0;
  unsigned char *bytes = io_read_bytes(good, &len);
  snprintf(cut, sizeof cut, "%s/b_dogs/5_cut.png", dir);
  io_write_bytes(cut, bytes, len / 2);
  free(bytes);
  snprintf(p, sizeof p, "%s/b_dogs/4.jpeg", dir);
  unsigned char *jpg = io_read_bytes(p, &len);
  snprintf(p, sizeof p, "%s/b_dogs/7_cut.jpg", dir);
  io_write_bytes(p, jpg, len * 2 / 3);
  free(jpg);
  len = 0;
  bytes = io_read_bytes(good, &len);
  snprintf(p, sizeof p, "%s/b_dogs/6_junk.jpg", dir);
  io_write_bytes(p, "not an image at all", 19);
  snprintf(p, sizeof p, "%s/c_empty/readme.txt", dir);
  io_write_bytes(p, "x", 1);

  clgan_data_opts o = {.image_size = 8};
  clgan_dataset ds;
  clgan_data_summary sum;
  io_log_start();
  clgan_status st = clgan_dataset_open(dir, "train", &o, &ds, &sum);
  io_log_stop();
  CHECK(st == CLGAN_OK, "folder opens: %s", io_log);
  CHECK(sum.kind == CLGAN_SOURCE_FOLDER && sum.files == 6 && sum.skipped == 3,
        "kind %d, files %d, skipped %d (want folder, 6, 3)", sum.kind, sum.files, sum.skipped);
  CHECK(strstr(io_log, "5_cut.png") && strstr(io_log, "6_junk.jpg") && strstr(io_log, "7_cut.jpg"),
        "each skipped file named in a warning: %s", io_log);
  CHECK(ds.count == 3 && ds.rows == 8 && ds.cols == 8 && ds.channels == 3,
        "%d images %dx%dx%d (want 3 of 3x8x8)", ds.count, ds.channels, ds.rows, ds.cols);
  CHECK(ds.labels && ds.classes == 2 && ds.labels[0] == 0 && ds.labels[1] == 0 &&
            ds.labels[2] == 1, "labels: classes %d", ds.classes);
  CHECK(!strcmp(sum.classes, "0 a_cats, 1 b_dogs"), "class names '%s'", sum.classes);
  /* The 9x9 gray PNG is image 1 (a_cats/1.png < a_cats/deeper/2.PNG): three equal planes. */
  int same = 1;
  for (int q = 0; ds.images && q < 64; q++)
    same &= ds.images[192 + q] == ds.images[192 + 64 + q] && ds.images[192 + q] == ds.images[192 + 128 + q];
  CHECK(same, "a gray image's planes agree");
  clgan_dataset_free(&ds);

  /* --channels 1: BT.601 gray; without a size the images' sizes must agree. */
  o = (clgan_data_opts){.image_size = 8, .channels = 1};
  CHECK(clgan_dataset_open(dir, "train", &o, &ds, &sum) == CLGAN_OK && ds.channels == 1,
        "--channels 1");
  clgan_dataset_free(&ds);
  o = (clgan_data_opts){0};
  io_log_start();
  st = clgan_dataset_open(dir, "train", &o, &ds, &sum);
  io_log_stop();
  CHECK(st == CLGAN_BAD_FORMAT && strstr(io_log, "--image-size"), "mixed sizes: %s", io_log);

  /* Only gray images: one channel by default; images directly in the folder: no labels. */
  char gray[600];
  snprintf(gray, sizeof gray, "%s/gray", base);
  mkdir(gray, 0755);
  for (int i = 0; i < 3; i++) {
    snprintf(p, sizeof p, "%s/g%d.png", gray, i);
    write_png(p, 6, 4, i == 2 ? PNG_COLOR_TYPE_PALETTE : PNG_COLOR_TYPE_GRAY, 8);
  }
  snprintf(p, sizeof p, "%s/g2.png", gray);
  write_png(p, 6, 4, PNG_COLOR_TYPE_GRAY_ALPHA, 8);
  CHECK(clgan_dataset_open(gray, "train", NULL, &ds, &sum) == CLGAN_OK && ds.channels == 1 &&
            ds.count == 3 && ds.rows == 4 && ds.cols == 6 && !ds.labels,
        "gray folder: %d of %dx%dx%d", ds.count, ds.channels, ds.rows, ds.cols);
  clgan_dataset_free(&ds);

  /* Nothing readable: exit-2 errors naming the folder. */
  char empty[600];
  snprintf(empty, sizeof empty, "%s/empty", base);
  mkdir(empty, 0755);
  io_log_start();
  st = clgan_dataset_open(empty, "train", NULL, &ds, &sum);
  io_log_stop();
  CHECK(st == CLGAN_BAD_FORMAT && strstr(io_log, empty) && strstr(io_log, "no PNG or JPEG"),
        "empty folder: %s", io_log);
  snprintf(p, sizeof p, "%s/bad.png", empty);
  io_write_bytes(p, bytes, 30);
  io_log_start();
  st = clgan_dataset_open(empty, "train", NULL, &ds, &sum);
  io_log_stop();
  CHECK(st == CLGAN_BAD_FORMAT && strstr(io_log, "bad.png") && strstr(io_log, "none of the 1"),
        "only a corrupt image: %s", io_log);
  free(bytes);
}

static void cifar_record(uint8_t *rec, int label, int seed) {
  rec[0] = (uint8_t)label;
  for (int i = 0; i < 3072; i++) rec[1 + i] = (uint8_t)(i * 7 + seed * 13);
}

static void test_cifar(const char *base) {
  char dir[600], p[700];
  snprintf(dir, sizeof dir, "%s/cifar-10-batches-bin", base);
  mkdir(dir, 0755);
  static uint8_t recs[3 * 3073];
  for (int b = 1; b <= 2; b++) {
    for (int r = 0; r < 3; r++) cifar_record(recs + r * 3073, (b * 3 + r) % 10, b * 10 + r);
    snprintf(p, sizeof p, "%s/data_batch_%d.bin", dir, b);
    io_write_bytes(p, recs, sizeof recs);
  }
  snprintf(p, sizeof p, "%s/test_batch.bin", dir);
  io_write_bytes(p, recs, 3073);
  snprintf(p, sizeof p, "%s/batches.meta.txt", dir);
  io_write_bytes(p, "airplane\nautomobile\nbird\n", 25);
  clgan_dataset ds;
  clgan_data_summary sum;
  CHECK(clgan_dataset_open(dir, "train", NULL, &ds, &sum) == CLGAN_OK, "CIFAR opens");
  CHECK(sum.kind == CLGAN_SOURCE_CIFAR10 && ds.count == 6 && ds.channels == 3 && ds.rows == 32 &&
            ds.labels && ds.labels[0] == 3 && ds.labels[5] == 8 && ds.classes == 9,
        "CIFAR: %d images, labels %d..%d", ds.count, ds.labels ? ds.labels[0] : -1,
        ds.labels ? ds.labels[5] : -1);
  CHECK(ds.images && ds.images[3072 * 4 + 100] == (uint8_t)(100 * 7 + 21 * 13),
        "record 4's pixel 100 (batch 2 record 1)");
  CHECK(!strncmp(sum.classes, "0 airplane, 1 automobile", 24), "CIFAR names '%s'", sum.classes);
  clgan_dataset_free(&ds);
  CHECK(clgan_dataset_open(dir, "t10k", NULL, &ds, &sum) == CLGAN_OK && ds.count == 1,
        "CIFAR test split");
  clgan_dataset_free(&ds);
  clgan_data_opts gray = {.channels = 1, .image_size = 16};
  CHECK(clgan_dataset_open(dir, "train", &gray, &ds, &sum) == CLGAN_OK && ds.channels == 1 &&
            ds.rows == 16, "CIFAR to gray 16x16");
  clgan_dataset_free(&ds);
  /* Cut mid-record; a label past 9. */
  snprintf(p, sizeof p, "%s/data_batch_2.bin", dir);
  io_write_bytes(p, recs, 3073 + 1000);
  io_log_start();
  clgan_status st = clgan_dataset_open(dir, "train", NULL, &ds, &sum);
  io_log_stop();
  CHECK(st == CLGAN_BAD_FORMAT && strstr(io_log, "data_batch_2.bin") && strstr(io_log, "truncated"),
        "cut CIFAR batch: %s", io_log);
  recs[3073] = 12;
  io_write_bytes(p, recs, sizeof recs);
  io_log_start();
  st = clgan_dataset_open(dir, "train", NULL, &ds, &sum);
  io_log_stop();
  CHECK(st == CLGAN_BAD_FORMAT && strstr(io_log, "label 12"), "CIFAR label 12: %s", io_log);
}

/* A version 1.0 .npy file of descr and shape text around data. */
static void write_npy(const char *path, const char *descr, const char *shape, const void *data,
                      size_t len) {
  char header[256];
  int n = snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                   descr, shape);
  while ((10 + n + 1) % 64) header[n++] = ' ';
  header[n++] = '\n';
  unsigned char *buf = malloc(10 + (size_t)n + len);
  memcpy(buf, "\x93NUMPY\x01\x00", 8);
  buf[8] = (unsigned char)n, buf[9] = 0;
  memcpy(buf + 10, header, (size_t)n);
  memcpy(buf + 10 + n, data, len);
  io_write_bytes(path, buf, 10 + (size_t)n + len);
  free(buf);
}

static void test_npy(const char *base) {
  char p[700], lp[700];
  enum { N = 4, H = 3, W = 5 };
  uint8_t hwc[N * H * W * 3];
  for (int i = 0; i < N * H * W * 3; i++) hwc[i] = (uint8_t)(i * 3 + 1);
  snprintf(p, sizeof p, "%s/faces.npy", base);
  snprintf(lp, sizeof lp, "%s/faces_labels.npy", base);
  write_npy(p, "|u1", "(4, 3, 5, 3)", hwc, sizeof hwc);
  int64_t lab[N] = {2, 0, 1, 2};
  write_npy(lp, "<i8", "(4,)", lab, sizeof lab);
  clgan_dataset ds;
  clgan_data_summary sum;
  CHECK(clgan_dataset_open(p, "train", NULL, &ds, &sum) == CLGAN_OK, "npy opens");
  CHECK(sum.kind == CLGAN_SOURCE_NPY && ds.count == N && ds.rows == H && ds.cols == W &&
            ds.channels == 3 && ds.labels && ds.classes == 3 && ds.labels[3] == 2,
        "npy: %d of %dx%dx%d, classes %d", ds.count, ds.channels, ds.rows, ds.cols, ds.classes);
  /* (N, H, W, C) -> (N, C, H, W): image 2, channel 1, pixel (2, 4). */
  CHECK(ds.images && ds.images[((2 * 3 + 1) * H + 2) * W + 4] == hwc[((2 * H + 2) * W + 4) * 3 + 1],
        "npy planes");
  clgan_dataset_free(&ds);
  write_npy(p, "|u1", "(4, 3, 5)", hwc, N * H * W);
  CHECK(clgan_dataset_open(p, "train", NULL, &ds, &sum) == CLGAN_OK && ds.channels == 1,
        "npy (N, H, W)");
  clgan_dataset_free(&ds);
  const struct {
    const char *descr, *shape;
    size_t len;
    const char *want;
  } bad[] = {{"|u1", "(4, 3, 5)", N * H * W - 1, "truncated"},
             {"<f4", "(4, 3, 5)", N * H * W * 4, "uint8"},
             {"|u1", "(4, 3, 5, 2)", N * H * W * 2, "C 1, 3 or 4"},
             {"|u1", "(60,)", 60, "1-D"}};
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    static uint8_t zeros[N * H * W * 4];
    write_npy(p, bad[k].descr, bad[k].shape, zeros, bad[k].len);
    io_log_start();
    clgan_status st = clgan_dataset_open(p, "train", NULL, &ds, &sum);
    io_log_stop();
    CHECK(st == CLGAN_BAD_FORMAT && strstr(io_log, "faces.npy") && strstr(io_log, bad[k].want),
          "npy %s %s: %s", bad[k].descr, bad[k].shape, io_log);
  }
  write_npy(p, "|u1", "(4, 3, 5)", hwc, N * H * W);
  write_npy(lp, "<i8", "(3,)", lab, 3 * sizeof lab[0]);
  io_log_start();
  clgan_status st = clgan_dataset_open(p, "train", NULL, &ds, &sum);
  io_log_stop();
  CHECK(st == CLGAN_BAD_FORMAT && strstr(io_log, "faces_labels.npy") && strstr(io_log, "3 labels"),
        "npy label count: %s", io_log);
  int64_t neg[N] = {0, -1, 0, 0};
  write_npy(lp, "<i8", "(4,)", neg, sizeof neg);
  io_log_start();
  st = clgan_dataset_open(p, "train", NULL, &ds, &sum);
  io_log_stop();
  CHECK(st == CLGAN_BAD_FORMAT && strstr(io_log, "outside 0..255"), "npy label -1: %s", io_log);
}

static void test_idx_unchanged(const char *base) {
  char dir[600], p[700];
  snprintf(dir, sizeof dir, "%s/idx", base);
  mkdir(dir, 0755);
  uint8_t img[2 * 4 * 3];
  for (int i = 0; i < 24; i++) img[i] = (uint8_t)(i * 9);
  snprintf(p, sizeof p, "%s/train-images-idx3-ubyte", dir);
  clgan_idx_write_images(p, img, 2, 4, 3);
  clgan_dataset a, b;
  clgan_data_summary sum;
  CHECK(clgan_dataset_load(dir, "train", &a) == CLGAN_OK, "IDX load");
  CHECK(clgan_dataset_open(dir, "train", NULL, &b, &sum) == CLGAN_OK && sum.kind == CLGAN_SOURCE_IDX,
        "IDX open");
  CHECK(a.count == b.count && a.rows == b.rows && b.channels == 1 && a.images && b.images &&
            !memcmp(a.images, b.images, 24), "IDX through the source equals clgan_dataset_load");
  char fa[CLGAN_FINGERPRINT_MAX], fb[CLGAN_FINGERPRINT_MAX];
  clgan_dataset_fingerprint(&a, fa, sizeof fa);
  clgan_dataset_fingerprint(&b, fb, sizeof fb);
  CHECK(!strcmp(fa, fb) && !strncmp(fa, "2x4x3-", 6), "IDX fingerprint %s", fa);
  clgan_dataset_free(&a);
  clgan_dataset_free(&b);
  clgan_data_opts rgb = {.channels = 3};
  CHECK(clgan_dataset_open(dir, "train", &rgb, &b, &sum) == CLGAN_OK && b.channels == 3 &&
            b.images && !memcmp(b.images + 12, b.images, 12), "IDX to RGB copies the plane");
  clgan_dataset_free(&b);
}

/* The decode cache: written on the first open, read on the second (same bytes, nothing
 * decoded), missed when a file's time changes, rebuilt with a warning when damaged. */
static void test_cache(const char *base) {
  char dir[600], cache[600], p[700];
  snprintf(dir, sizeof dir, "%s/cached", base);
  snprintf(cache, sizeof cache, "%s/cache", base);
  mkdir(dir, 0755);
  mkdirs(dir, "x");
  mkdirs(dir, "y");
  for (int i = 0; i < 4; i++) {
    snprintf(p, sizeof p, "%s/%s/%d.png", dir, i % 2 ? "x" : "y", i);
    write_png(p, 10 + i, 9, PNG_COLOR_TYPE_RGB, 8);
  }
  clgan_data_opts o = {.image_size = 6, .cache_dir = cache};
  clgan_dataset a, b;
  clgan_data_summary sa, sb;
  CHECK(clgan_dataset_open(dir, "train", &o, &a, &sa) == CLGAN_OK && !sa.cached && sa.cache[0] &&
            io_file_exists(sa.cache), "first open writes the cache %s", sa.cache);
  CHECK(clgan_dataset_open(dir, "train", &o, &b, &sb) == CLGAN_OK && sb.cached && b.map &&
            !strcmp(sa.cache, sb.cache), "second open reads it");
  size_t n = (size_t)a.count * clgan_dataset_image_bytes(&a);
  CHECK(a.count == b.count && a.channels == b.channels && a.rows == b.rows && a.classes == b.classes &&
            a.images && b.images && !memcmp(a.images, b.images, n) && b.labels &&
            !memcmp(a.labels, b.labels, (size_t)a.count) && !strcmp(sa.classes, sb.classes),
        "the cached data set equals the decoded one");
  clgan_dataset_free(&b);
  clgan_data_opts gray = o;
  gray.channels = 1;
  CHECK(clgan_dataset_open(dir, "train", &gray, &b, &sb) == CLGAN_OK && !sb.cached &&
            strcmp(sa.cache, sb.cache) && b.channels == 1, "other options: another cache file");
  clgan_dataset_free(&b);
  /* Damaged: one byte of the data flipped, then the file cut. */
  size_t len = 0;
  unsigned char *bytes = io_read_bytes(sa.cache, &len);
  bytes[len - 3] ^= 0x40;
  io_write_bytes(sa.cache, bytes, len);
  io_log_start();
  clgan_status st = clgan_dataset_open(dir, "train", &o, &b, &sb);
  io_log_stop();
  CHECK(st == CLGAN_OK && !sb.cached && strstr(io_log, "CRC-32") && strstr(io_log, sa.cache) &&
            b.images && !memcmp(a.images, b.images, n), "a flipped byte: decoded again, %s", io_log);
  clgan_dataset_free(&b);
  CHECK(clgan_dataset_open(dir, "train", &o, &b, &sb) == CLGAN_OK && sb.cached, "and rewritten");
  clgan_dataset_free(&b);
  io_write_bytes(sa.cache, bytes, 5000);
  io_log_start();
  st = clgan_dataset_open(dir, "train", &o, &b, &sb);
  io_log_stop();
  CHECK(st == CLGAN_OK && !sb.cached && strstr(io_log, "size"), "a cut cache: %s", io_log);
  clgan_dataset_free(&b);
  free(bytes);
  /* A file touched: its time is in the fingerprint. */
  snprintf(p, sizeof p, "%s/x/1.png", dir);
  struct timespec times[2] = {{.tv_sec = 1000000000, .tv_nsec = 0}, {.tv_sec = 1000000000, .tv_nsec = 0}};
  utimensat(AT_FDCWD, p, times, 0);
  CHECK(clgan_dataset_open(dir, "train", &o, &b, &sb) == CLGAN_OK && !sb.cached &&
            strcmp(sa.cache, sb.cache), "a touched file: a fresh decode");
  clgan_dataset_free(&b);
  clgan_data_opts off = {.image_size = 6, .cache_dir = cache, .no_cache = 1};
  CHECK(clgan_dataset_open(dir, "train", &off, &b, &sb) == CLGAN_OK && !sb.cached && !sb.cache[0],
        "no_cache");
  clgan_dataset_free(&b);
  clgan_dataset_free(&a);
}

/* The decode cache of a .npy array and a CIFAR-10 folder (issue 13): the second open maps the
 * converted set; a rewritten array (same size, other bytes) is read again. */
static void test_cache_arrays(const char *base) {
  char p[700], cache[600], dir[600];
  enum { N = 3, H = 8, W = 6 };
  uint8_t hwc[N * H * W * 3];
  for (int i = 0; i < N * H * W * 3; i++) hwc[i] = (uint8_t)(i * 5 + 3);
  snprintf(p, sizeof p, "%s/arr_cached.npy", base);
  snprintf(cache, sizeof cache, "%s/cache_arrays", base);
  write_npy(p, "|u1", "(3, 8, 6, 3)", hwc, sizeof hwc);
  clgan_data_opts o = {.image_size = 4, .cache_dir = cache};
  clgan_dataset a, b;
  clgan_data_summary sa, sb;
  CHECK(clgan_dataset_open(p, "train", &o, &a, &sa) == CLGAN_OK && !sa.cached &&
            io_file_exists(sa.cache), ".npy: the first open writes the cache '%s'", sa.cache);
  CHECK(clgan_dataset_open(p, "train", &o, &b, &sb) == CLGAN_OK && sb.cached && b.map &&
            sb.kind == CLGAN_SOURCE_NPY && sb.resized == N && b.rows == 4 && b.channels == 3,
        ".npy: the second open maps it");
  size_t n = (size_t)a.count * clgan_dataset_image_bytes(&a);
  CHECK(a.count == b.count && a.images && b.images && !memcmp(a.images, b.images, n),
        ".npy: the cached images are the converted ones");
  clgan_dataset_free(&b);
  for (int i = 0; i < N * H * W * 3; i++) hwc[i] = (uint8_t)(255 - hwc[i]);
  write_npy(p, "|u1", "(3, 8, 6, 3)", hwc, sizeof hwc);
  CHECK(clgan_dataset_open(p, "train", &o, &b, &sb) == CLGAN_OK && !sb.cached && b.images &&
            a.images && memcmp(a.images, b.images, n) != 0, ".npy rewritten: read again");
  clgan_dataset_free(&a);
  clgan_dataset_free(&b);
  snprintf(dir, sizeof dir, "%s/cifar_cached", base);
  mkdir(dir, 0755);
  static uint8_t recs[2 * 3073];
  for (int r = 0; r < 2; r++) cifar_record(recs + r * 3073, r + 1, r * 7);
  snprintf(p, sizeof p, "%s/data_batch_1.bin", dir);
  io_write_bytes(p, recs, sizeof recs);
  CHECK(clgan_dataset_open(dir, "train", &o, &a, &sa) == CLGAN_OK && !sa.cached &&
            clgan_dataset_open(dir, "train", &o, &b, &sb) == CLGAN_OK && sb.cached &&
            sb.kind == CLGAN_SOURCE_CIFAR10 && b.labels && b.labels[1] == 2 && b.classes == 3 &&
            !memcmp(a.images, b.images, (size_t)a.count * clgan_dataset_image_bytes(&a)),
        "CIFAR-10: the second open maps the cache");
  clgan_dataset_free(&a);
  clgan_dataset_free(&b);
}

int main(void) {
  const char *dir = io_tmpdir("sources");
  /* Decode caches of the opens without a cache_dir stay in the scratch folder. */
  char xdg[600];
  snprintf(xdg, sizeof xdg, "%s/xdg", dir);
  setenv("XDG_CACHE_HOME", xdg, 1);
  test_png_round_trips(dir);
  test_jpeg_round_trips(dir);
  test_resize();
  test_folder(dir);
  test_cifar(dir);
  test_npy(dir);
  test_idx_unchanged(dir);
  test_cache(dir);
  test_cache_arrays(dir);
  io_rm_tree(dir);
  return test_finish();
}
