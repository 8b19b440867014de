/* PNG grids: a grid written and read back through libpng has the documented size, every tile
 * where it belongs, gray padding, and values mapped -1 -> 0, 1 -> 255 (clamped, NaN black).
 * Also RGB grids, grids scaled up (nearest neighbour, against a C reference) with borders,
 * automatic column counts, and refusals of bad arguments and bad files.
 * Needs no OpenCL device. */
#include <math.h>
#include <stdint.h>

#include "clgan/io.h"
#include "io_testutil.h"

/* Pixel value that the tile pattern gives: a byte k, stored as the float 2k/255 - 1. */
static int pattern(int i, int c, int y, int x) { return (i * 53 + c * 101 + y * 17 + x * 29) % 256; }

static void test_gray_grid(const char *dir) {
  enum { N = 5, H = 3, W = 4, COLS = 3, PAD = 2 };
  float img[N * H * W];
  for (int i = 0; i < N; i++)
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++)
        img[(i * H + y) * W + x] = 2.0f * (float)pattern(i, 0, y, x) / 255.0f - 1.0f;
  /* Image 4 carries the special values in its first row: the mapping's fixed points. */
  const float special[W] = {-1.0f, 1.0f, 0.0f, 0.5f};
  const int special_want[W] = {0, 255, 128, 191};
  for (int x = 0; x < W; x++) img[(4 * H + 0) * W + x] = special[x];
  const float clamped[W] = {-7.0f, 3.0f, NAN, -0.5f};
  const int clamped_want[W] = {0, 255, 0, 64};
  for (int x = 0; x < W; x++) img[(4 * H + 1) * W + x] = clamped[x];

  char path[700];
  snprintf(path, sizeof path, "%s/grid.png", dir);
  CHECK(clgan_png_write_grid(path, img, N, 1, H, W, COLS, PAD) == CLGAN_OK, "write gray grid");
  uint8_t *pix = NULL;
  int gw = 0, gh = 0;
  CHECK(clgan_png_read_gray(path, &pix, &gw, &gh) == CLGAN_OK, "read gray grid");
  int want_w = COLS * (W + PAD) + PAD, want_h = 2 * (H + PAD) + PAD;
  CHECK(gw == want_w && gh == want_h, "grid is %d x %d, want %d x %d", gw, gh, want_w, want_h);
  if (!pix || gw != want_w || gh != want_h) {
    free(pix);
    return;
  }
  int tile_bad = 0, pad_bad = 0;
  for (int gy = 0; gy < gh; gy++)
    for (int gx = 0; gx < gw; gx++) {
      int cx = (gx - PAD) / (W + PAD), cy = (gy - PAD) / (H + PAD);
      int x = (gx - PAD) % (W + PAD), y = (gy - PAD) % (H + PAD);
      int i = cy * COLS + cx;
      int inside = gx >= PAD && gy >= PAD && x < W && y < H && i < N;
      int v = pix[gy * gw + gx];
      if (!inside) {
        pad_bad += v != 128;
        continue;
      }
      int want = pattern(i, 0, y, x);
      if (i == 4 && y == 0) want = special_want[x];
      if (i == 4 && y == 1) want = clamped_want[x];
      if (v != want && tile_bad++ < 5)
        fprintf(stderr, "  tile %d (%d, %d) at grid (%d, %d): %d, want %d\n", i, y, x, gy, gx, v,
                want);
    }
  CHECK(tile_bad == 0, "%d tile pixels misplaced or mismapped", tile_bad);
  CHECK(pad_bad == 0, "%d padding pixels (and the empty sixth cell) are not gray 128", pad_bad);
  free(pix);

  /* Column counts: automatic is ceil(sqrt(count)); more columns than images is capped. */
  CHECK(clgan_png_write_grid(path, img, N, 1, H, W, 0, 0) == CLGAN_OK, "auto columns");
  CHECK(clgan_png_read_gray(path, &pix, &gw, &gh) == CLGAN_OK, "read auto grid");
  CHECK(gw == 3 * W && gh == 2 * H, "5 tiles, automatic: 3 columns, 2 rows; got %d x %d", gw, gh);
  free(pix);
  CHECK(clgan_png_write_grid(path, img, N, 1, H, W, 50, 1) == CLGAN_OK, "50 columns");
  CHECK(clgan_png_read_gray(path, &pix, &gw, &gh) == CLGAN_OK, "read wide grid");
  CHECK(gw == N * (W + 1) + 1 && gh == H + 2, "one row of 5; got %d x %d", gw, gh);
  free(pix);
  CHECK(io_count_tmp(dir) == 0, "no temporary file left behind");
}

static void test_rgb_grid(const char *dir) {
  enum { N = 4, C = 3, H = 5, W = 2, COLS = 2, PAD = 1 };
  float img[N * C * H * W];
  for (int i = 0; i < N; i++)
    for (int c = 0; c < C; c++)
      for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
          img[((i * C + c) * H + y) * W + x] = 2.0f * (float)pattern(i, c, y, x) / 255.0f - 1.0f;
  char path[700];
  snprintf(path, sizeof path, "%s/rgb.png", dir);
  CHECK(clgan_png_write_grid(path, img, N, C, H, W, COLS, PAD) == CLGAN_OK, "write RGB grid");
  uint8_t *pix = NULL;
  int gw = 0, gh = 0;
  CHECK(clgan_png_read(path, 3, &pix, &gw, &gh) == CLGAN_OK, "read RGB grid");
  CHECK(gw == COLS * (W + PAD) + PAD && gh == 2 * (H + PAD) + PAD, "RGB grid %d x %d", gw, gh);
  int bad = 0;
  for (int i = 0; pix && gw == 7 && i < N; i++)
    for (int c = 0; c < C; c++)
      for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
          int gx = PAD + (i % COLS) * (W + PAD) + x, gy = PAD + (i / COLS) * (H + PAD) + y;
          bad += pix[(gy * gw + gx) * 3 + c] != pattern(i, c, y, x);
        }
  CHECK(pix && gw == 7 && bad == 0, "%d RGB samples misplaced (NCHW planes to RGB pixels)", bad);
  free(pix);

  /* The gray reader converts RGB; a gray image read as RGB repeats its value. */
  uint8_t rgb[2 * 1 * 3] = {255, 255, 255, 0, 0, 0};
  snprintf(path, sizeof path, "%s/two.png", dir);
  CHECK(clgan_png_write_rgb(path, rgb, 2, 1) == CLGAN_OK, "write 2x1 RGB");
  CHECK(clgan_png_read_gray(path, &pix, &gw, &gh) == CLGAN_OK && gw == 2 && gh == 1,
        "read RGB as gray");
  CHECK(pix && pix[0] == 255 && pix[1] == 0, "white and black stay white and black");
  free(pix);
  uint8_t gray[3] = {10, 20, 30};
  CHECK(clgan_png_write_gray(path, gray, 3, 1) == CLGAN_OK, "write gray over the same file");
  CHECK(clgan_png_read(path, 3, &pix, &gw, &gh) == CLGAN_OK && gw == 3, "read gray as RGB");
  CHECK(pix && pix[3] == 20 && pix[4] == 20 && pix[5] == 20, "gray to RGB repeats the value");
  free(pix);
}

/* The reference of a scaled grid: pixel (gx, gy) of a grid of ncols columns, tiles of
 * (h * scale) x (w * scale) pixels, pad pixels of border; -1 for the gray border. */
static int scaled_ref(int gx, int gy, int n, int h, int w, int ncols, int pad, int scale,
                      int *tile, int *y, int *x) {
  int tw = w * scale, th = h * scale;
  if (gx < pad || gy < pad) return -1;
  int cx = (gx - pad) / (tw + pad), cy = (gy - pad) / (th + pad);
  int px = (gx - pad) % (tw + pad), py = (gy - pad) % (th + pad);
  if (px >= tw || py >= th || cx >= ncols || cy * ncols + cx >= n) return -1;
  *tile = cy * ncols + cx;
  *y = py / scale;
  *x = px / scale;
  return 0;
}

static void test_scaled_grid(const char *dir) {
  enum { N = 5, H = 3, W = 4, COLS = 3, PAD = 1, SCALE = 3 };
  float img[N * H * W];
  for (int i = 0; i < N; i++)
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++)
        img[(i * H + y) * W + x] = 2.0f * (float)pattern(i, 0, y, x) / 255.0f - 1.0f;
  char path[700];
  snprintf(path, sizeof path, "%s/scaled.png", dir);
  CHECK(clgan_png_write_grid_scaled(path, img, N, 1, H, W, COLS, PAD, SCALE) == CLGAN_OK,
        "write a grid at scale 3");
  uint8_t *pix = NULL;
  int gw = 0, gh = 0;
  CHECK(clgan_png_read_gray(path, &pix, &gw, &gh) == CLGAN_OK, "read the scaled grid");
  int want_w = COLS * (W * SCALE + PAD) + PAD, want_h = 2 * (H * SCALE + PAD) + PAD;
  CHECK(gw == want_w && gh == want_h, "scaled grid is %d x %d, want %d x %d", gw, gh, want_w,
        want_h);
  int bad = 0, border = 0;
  for (int gy = 0; pix && gw == want_w && gh == want_h && gy < gh; gy++)
    for (int gx = 0; gx < gw; gx++) {
      int i, y, x, v = pix[gy * gw + gx];
      if (scaled_ref(gx, gy, N, H, W, COLS, PAD, SCALE, &i, &y, &x) < 0) {
        border++;
        bad += v != 128;
      } else {
        bad += v != pattern(i, 0, y, x);
      }
    }
  CHECK(bad == 0, "%d pixels of the scaled grid differ from the nearest-neighbour reference", bad);
  /* The border: 1-pixel lines between and around 3 x 2 cells, and the empty sixth cell. */
  int lines = want_w * want_h - COLS * 2 * (W * SCALE) * (H * SCALE);
  CHECK(border == lines + (W * SCALE) * (H * SCALE), "%d border pixels, want %d", border,
        lines + (W * SCALE) * (H * SCALE));
  free(pix);

  /* RGB at scale 2: every channel of the block is its source pixel's. */
  enum { C = 3 };
  float rgb[2 * C * H * W];
  for (int i = 0; i < 2; i++)
    for (int c = 0; c < C; c++)
      for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
          rgb[((i * C + c) * H + y) * W + x] = 2.0f * (float)pattern(i, c, y, x) / 255.0f - 1.0f;
  CHECK(clgan_png_write_grid_scaled(path, rgb, 2, C, H, W, 2, 2, 2) == CLGAN_OK, "RGB scale 2");
  CHECK(clgan_png_read(path, 3, &pix, &gw, &gh) == CLGAN_OK, "read the RGB grid");
  bad = 0;
  for (int gy = 0; pix && gw == 2 * (2 * W + 2) + 2 && gy < gh; gy++)
    for (int gx = 0; gx < gw; gx++) {
      int i, y, x;
      for (int c = 0; c < C; c++) {
        int v = pix[(gy * gw + gx) * C + c];
        if (scaled_ref(gx, gy, 2, H, W, 2, 2, 2, &i, &y, &x) < 0) bad += v != 128;
        else bad += v != pattern(i, c, y, x);
      }
    }
  CHECK(pix && gw == 2 * (2 * W + 2) + 2 && gh == 2 * H + 4 && bad == 0,
        "RGB scaled grid %d x %d, %d samples off", gw, gh, bad);
  free(pix);

  /* The automatic scale: the smallest that makes the grid >= 256 pixels wide. */
  CHECK(clgan_grid_auto_scale(16, 28, 4, 2) == 3, "4x4 of 28x28: scale 3 (346 pixels), got %d",
        clgan_grid_auto_scale(16, 28, 4, 2));
  CHECK(clgan_grid_auto_scale(64, 28, 8, 2) == 2, "8x8 of 28x28: scale 2, got %d",
        clgan_grid_auto_scale(64, 28, 8, 2));
  CHECK(clgan_grid_auto_scale(100, 28, 0, 2) == 1, "10x10 of 28x28: scale 1 (302 pixels)");
  CHECK(clgan_grid_auto_scale(1, 1, 0, 0) == 256, "one 1-pixel image: scale 256");
  io_log_start();
  CHECK(clgan_png_write_grid_scaled(path, img, N, 1, H, W, COLS, PAD, 0) ==
            CLGAN_INVALID_ARGUMENT, "scale 0 refused");
  CHECK(clgan_png_write_grid_scaled(path, img, N, 1, H, W, COLS, PAD, -2) ==
            CLGAN_INVALID_ARGUMENT, "scale -2 refused");
  CHECK(clgan_png_write_grid_scaled(path, img, N, 1, H, W, COLS, PAD, 20000) ==
            CLGAN_INVALID_ARGUMENT, "a grid over 32768 pixels a side refused");
  io_log_stop();
}

static void test_refusals(const char *dir) {
  float one[4] = {0};
  char path[700], bad[700];
  snprintf(path, sizeof path, "%s/refused.png", dir);
  io_log_start();
  CHECK(clgan_png_write_grid(path, one, 1, 2, 2, 2, 1, 0) == CLGAN_INVALID_ARGUMENT,
        "2 channels refused");
  CHECK(clgan_png_write_grid(path, one, 0, 1, 2, 2, 1, 0) == CLGAN_INVALID_ARGUMENT,
        "0 images refused");
  CHECK(clgan_png_write_grid(path, one, 1, 1, 2, 2, 1, -1) == CLGAN_INVALID_ARGUMENT,
        "negative pad refused");
  CHECK(clgan_png_write_grid(path, one, 1, 1, 40000, 1, 1, 0) == CLGAN_INVALID_ARGUMENT,
        "a 40000-pixel-high grid refused");
  CHECK(!io_file_exists(path), "nothing written for refused calls");

  snprintf(bad, sizeof bad, "%s/text.png", dir);
  io_write_bytes(bad, "hello, this is not a PNG", 24);
  io_log_start();
  uint8_t *pix = NULL;
  int w, h;
  CHECK_REFUSED("not a PNG", clgan_png_read_gray(bad, &pix, &w, &h), CLGAN_BAD_FORMAT, bad,
                "not a PNG");

  /* A real PNG cut short. */
  uint8_t img[64 * 64];
  for (int i = 0; i < 64 * 64; i++) img[i] = (uint8_t)(i * 7 + i / 64);
  CHECK(clgan_png_write_gray(path, img, 64, 64) == CLGAN_OK, "write 64x64");
  size_t len = 0;
  unsigned char *raw = io_read_bytes(path, &len);
  snprintf(bad, sizeof bad, "%s/cut.png", dir);
  io_write_bytes(bad, raw, len / 2);
  free(raw);
  io_log_start();
  CHECK_REFUSED("truncated PNG", clgan_png_read_gray(bad, &pix, &w, &h), CLGAN_BAD_FORMAT, bad,
                NULL);
  CHECK(pix == NULL, "no pixels after a failure");
  io_log_start();
  snprintf(bad, sizeof bad, "%s/missing.png", dir);
  CHECK_REFUSED("missing PNG", clgan_png_read_gray(bad, &pix, &w, &h), CLGAN_IO_ERROR, bad, NULL);
  snprintf(bad, sizeof bad, "%s/no/such/folder/x.png", dir);
  CHECK(clgan_png_write_gray(bad, img, 8, 8) == CLGAN_OK, "writing creates parent folders");
  char unwritable[1200];
  io_unwritable_path(dir, "x.png", unwritable, sizeof unwritable);
  io_log_start();
  CHECK_REFUSED("a folder that cannot be made", clgan_png_write_gray(unwritable, img, 8, 8),
                CLGAN_WRITE_FAILED, "plain-file", NULL);
  io_log_stop();
}

int main(void) {
  const char *dir = io_tmpdir("png");
  char keep[512];
  snprintf(keep, sizeof keep, "%s", dir);
  test_gray_grid(keep);
  test_rgb_grid(keep);
  test_scaled_grid(keep);
  test_refusals(keep);
  io_rm_tree(keep);
  return test_finish();
}
