/* Loss plots: a chart of noisy GAN-like curves is a 960x540 RGB PNG with each series' colour
 * on it, a title and tick labels in ink, a white background, the same bytes every time; edge
 * cases (no points, NaN gaps, one point, a constant, huge values, no x) still give a chart.
 * With CLGAN_PLOT_KEEP=folder the charts are kept there for a person to look at.
 * Needs no OpenCL device. */
#include <math.h>
#include <stdint.h>

#include "clgan/io.h"
#include "io_testutil.h"

enum { N = 3000 };
static float steps[N], loss_d[N], loss_g[N];

/* Deterministic noisy curves shaped like GAN training: an early spike, then slow drifts. */
static void make_curves(void) {
  unsigned long long seed = 42;
  float noise[2 * N];
  test_fill_uniform(noise, 2 * N, -1.0f, 1.0f, &seed);
  for (int i = 0; i < N; i++) {
    float t = (float)i / N;
    steps[i] = (float)(i * 10);
    loss_d[i] = 0.55f + 0.15f * expf(-8.0f * t) + 0.12f * noise[i] + (i == 3 ? 4.0f : 0.0f);
    loss_g[i] = 1.6f - 0.5f * t + 0.3f * expf(-10.0f * t) + 0.25f * noise[N + i];
  }
}

/* Pixels within `tol` of rgb in each channel. */
static long count_color(const uint8_t *px, int w, int h, const uint8_t rgb[3], int tol) {
  long n = 0;
  for (long i = 0; i < (long)w * h; i++)
    n += abs(px[3 * i] - rgb[0]) <= tol && abs(px[3 * i + 1] - rgb[1]) <= tol &&
         abs(px[3 * i + 2] - rgb[2]) <= tol;
  return n;
}

static long count_dark(const uint8_t *px, int w, int x0, int y0, int x1, int y1) {
  long n = 0;
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++) {
      const uint8_t *p = px + 3 * ((size_t)y * w + x);
      n += p[0] < 100 && p[1] < 100 && p[2] < 100;
    }
  return n;
}

int main(void) {
  const char *keep = getenv("CLGAN_PLOT_KEEP");
  char dir[512];
  snprintf(dir, sizeof dir, "%s", keep && keep[0] ? keep : io_tmpdir("plot"));
  make_curves();
  const uint8_t blue[3] = {31, 119, 180}, orange[3] = {255, 127, 14};
  clgan_plot_series s[2] = {{"loss_d", steps, loss_d, N, {31, 119, 180}},
                            {"loss_g", steps, loss_g, N, {255, 127, 14}}};
  char path[700], again[700];
  snprintf(path, sizeof path, "%s/losses.png", dir);
  CHECK(clgan_plot_lines(path, s, 2, "clgan: mlp-gan on fashion-mnist", "step") == CLGAN_OK,
        "plot two noisy series");
  uint8_t *px = NULL;
  int w = 0, h = 0;
  CHECK(clgan_png_read(path, 3, &px, &w, &h) == CLGAN_OK, "read the plot back");
  CHECK(w == CLGAN_PLOT_WIDTH && h == CLGAN_PLOT_HEIGHT, "plot is %d x %d", w, h);
  if (px && w == CLGAN_PLOT_WIDTH && h == CLGAN_PLOT_HEIGHT) {
    const uint8_t white[3] = {255, 255, 255};
    long total = (long)w * h, bg = count_color(px, w, h, white, 0);
    CHECK(bg > total / 2 && bg < total - total / 50, "mostly white, not blank: %ld of %ld white",
          bg, total);
    long nb = count_color(px, w, h, blue, 10), no = count_color(px, w, h, orange, 10);
    CHECK(nb > 1500 && no > 1500, "both series drawn in their colours: %ld blue, %ld orange", nb,
          no);
    CHECK(count_dark(px, w, 0, 0, w, 60) > 300, "a title in ink at the top");
    CHECK(count_dark(px, w, 0, 60, 90, h - 80) > 200, "y tick labels left of the plot");
    CHECK(count_dark(px, w, 90, h - 80, w, h - 40) > 200, "x tick labels under the plot");
  }
  free(px);
  snprintf(again, sizeof again, "%s/again.png", dir);
  CHECK(clgan_plot_lines(again, s, 2, "clgan: mlp-gan on fashion-mnist", "step") == CLGAN_OK,
        "plot again");
  size_t l1 = 0, l2 = 0;
  unsigned char *a = io_read_bytes(path, &l1), *b = io_read_bytes(again, &l2);
  CHECK(a && b && l1 == l2 && !memcmp(a, b, l1), "the same data give the same bytes");
  free(a);
  free(b);

  /* Edge cases: each still a valid chart. */
  float gap[7] = {1, 2, NAN, 3, INFINITY, 2, 1}, one = 0.5f, flat[50], huge[3] = {1e30f, -1e30f, 0};
  for (int i = 0; i < 50; i++) flat[i] = 0.25f;
  const struct {
    const char *name;
    clgan_plot_series s;
  } edge[] = {
      {"empty", {"none", NULL, NULL, 0, {0, 0, 0}}},
      {"gaps", {"gaps", NULL, gap, 7, {200, 0, 0}}},
      {"one-point", {"one", NULL, &one, 1, {0, 150, 0}}},
      {"flat", {"flat", NULL, flat, 50, {0, 0, 200}}},
      {"huge", {"huge", NULL, huge, 3, {100, 0, 100}}},
  };
  for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++) {
    snprintf(path, sizeof path, "%s/edge-%s.png", dir, edge[i].name);
    CHECK(clgan_plot_lines(path, &edge[i].s, 1, edge[i].name, NULL) == CLGAN_OK, "edge case %s",
          edge[i].name);
    CHECK(clgan_png_read(path, 3, &px, &w, &h) == CLGAN_OK && w == CLGAN_PLOT_WIDTH,
          "edge case %s reads back", edge[i].name);
    if (px && i > 0)
      CHECK(count_color(px, w, h, edge[i].s.rgb, 20) > 30, "edge case %s: the line is there",
            edge[i].name);
    free(px);
    px = NULL;
  }
  snprintf(path, sizeof path, "%s/none.png", dir);
  CHECK(clgan_plot_lines(path, NULL, 0, NULL, NULL) == CLGAN_OK, "no series at all");
  clgan_plot_series broken = {"broken", NULL, NULL, 5, {0, 0, 0}};
  io_log_start();
  CHECK(clgan_plot_lines(path, &broken, 1, "x", "y") == CLGAN_INVALID_ARGUMENT,
        "5 points without y values are refused");
  CHECK(strstr(io_log, path) != NULL, "the refusal names the file: %s", io_log);
  io_log_stop();
  CHECK(io_count_tmp(dir) == 0, "no temporary file left behind");
  if (!keep || !keep[0]) io_rm_tree(dir);
  return test_finish();
}
