/* Line charts of training metrics, rasterised here and written as PNG: no plotting library,
 * no fonts on the system. See clgan/io.h (clgan_plot_lines).
 *
 * Lines are anti-aliased by coverage: each series is first drawn into a coverage layer (the
 * largest coverage of any segment near a pixel, from its distance to the segment), then blended
 * once, so the joints of a polyline do not darken where segments overlap. Text is a 5x7 bitmap
 * font (font5x7.h) drawn at integer scales. Noisy series (more points than the plot has room
 * for) are drawn faint, with a centred moving average on top; the y range leaves out the most
 * extreme 0.5% of raw points on each side so one early spike does not flatten the rest. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/io.h"
#include "io/font5x7.h"

#define W CLGAN_PLOT_WIDTH
#define H CLGAN_PLOT_HEIGHT

/* Layout in pixels. */
#define LEFT 96
#define RIGHT (W - 32)
#define TOP 64
#define BOTTOM (H - 84)
#define TEXT 2  /* scale of tick labels, legend and axis label */
#define TITLE 3 /* scale of the title */

/* Series with more points than this are smoothed; with this many or fewer, points get dots. */
#define SMOOTH_ABOVE 150
#define DOTS_UPTO 40

typedef struct {
  uint8_t *px; /* (H, W, 3) */
} canvas;

static const uint8_t white[3] = {255, 255, 255}, ink[3] = {40, 40, 40}, grid[3] = {228, 228, 228},
                     axis[3] = {90, 90, 90}, muted[3] = {110, 110, 110};

static void blend(canvas *c, int x, int y, const uint8_t rgb[3], float a) {
  if (x < 0 || y < 0 || x >= W || y >= H || a <= 0.0f) return;
  uint8_t *p = c->px + ((size_t)y * W + x) * 3;
  if (a > 1.0f) a = 1.0f;
  for (int k = 0; k < 3; k++) p[k] = (uint8_t)lrintf((float)p[k] * (1.0f - a) + (float)rgb[k] * a);
}

static void fill(canvas *c, int x0, int y0, int x1, int y1, const uint8_t rgb[3]) {
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++) blend(c, x, y, rgb, 1.0f);
}

/* ---- Text ----------------------------------------------------------------------------------- */

static int text_width(const char *s, int scale) {
  int n = (int)strlen(s);
  return n ? (n * (FONT_W + 1) - 1) * scale : 0;
}

/* Draws s with its top-left corner at (x, y); the cap height is 7 * scale. */
static void draw_text(canvas *c, int x, int y, const char *s, int scale, const uint8_t rgb[3]) {
  for (; *s; s++, x += (FONT_W + 1) * scale) {
    unsigned char ch = (unsigned char)*s;
    const uint8_t *g = ch >= FONT_FIRST && ch <= FONT_LAST ? font5x7[ch - FONT_FIRST] : font5x7_box;
    for (int r = 0; r < FONT_H; r++)
      for (int col = 0; col < FONT_W; col++)
        if (g[r] >> (FONT_W - 1 - col) & 1)
          fill(c, x + col * scale, y + r * scale, x + (col + 1) * scale, y + (r + 1) * scale, rgb);
  }
}

/* ---- Anti-aliased polylines ----------------------------------------------------------------- */

typedef struct {
  float *cov; /* coverage over the plot area, (BOTTOM - TOP, RIGHT - LEFT) */
} layer;

/* Liang-Barsky: clips the segment to the rectangle; returns 0 if nothing is left. */
static int clip(double *ax, double *ay, double *bx, double *by, double x0, double y0, double x1,
                double y1) {
  double t0 = 0.0, t1 = 1.0, dx = *bx - *ax, dy = *by - *ay;
  double p[4] = {-dx, dx, -dy, dy}, q[4] = {*ax - x0, x1 - *ax, *ay - y0, y1 - *ay};
  for (int i = 0; i < 4; i++) {
    if (p[i] == 0.0) {
      if (q[i] < 0.0) return 0;
      continue;
    }
    double t = q[i] / p[i];
    if (p[i] < 0.0 && t > t0) t0 = t;
    if (p[i] > 0.0 && t < t1) t1 = t;
  }
  if (t0 > t1) return 0;
  double sx = *ax + t0 * dx, sy = *ay + t0 * dy;
  *bx = *ax + t1 * dx;
  *by = *ay + t1 * dy;
  *ax = sx;
  *ay = sy;
  return 1;
}

/* Adds a segment of the given half width (canvas pixel coordinates) to the layer. */
static void layer_segment(layer *l, double ax, double ay, double bx, double by, double hw) {
  double m = hw + 2.0;
  if (!clip(&ax, &ay, &bx, &by, LEFT - m, TOP - m, RIGHT + m, BOTTOM + m)) return;
  int x0 = (int)floor(fmin(ax, bx) - m), x1 = (int)ceil(fmax(ax, bx) + m);
  int y0 = (int)floor(fmin(ay, by) - m), y1 = (int)ceil(fmax(ay, by) + m);
  if (x0 < LEFT) x0 = LEFT;
  if (y0 < TOP) y0 = TOP;
  if (x1 > RIGHT) x1 = RIGHT;
  if (y1 > BOTTOM) y1 = BOTTOM;
  double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++) {
      double px = x + 0.5 - ax, py = y + 0.5 - ay;
      double t = len2 > 0.0 ? (px * dx + py * dy) / len2 : 0.0;
      t = t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;
      double ex = px - t * dx, ey = py - t * dy;
      float cov = (float)(hw + 0.5 - sqrt(ex * ex + ey * ey));
      if (cov <= 0.0f) continue;
      float *p = &l->cov[(size_t)(y - TOP) * (RIGHT - LEFT) + (x - LEFT)];
      if (cov > *p) *p = cov > 1.0f ? 1.0f : cov;
    }
}

static void layer_composite(canvas *c, layer *l, const uint8_t rgb[3], float alpha) {
  for (int y = TOP; y < BOTTOM; y++)
    for (int x = LEFT; x < RIGHT; x++) {
      float *p = &l->cov[(size_t)(y - TOP) * (RIGHT - LEFT) + (x - LEFT)];
      if (*p > 0.0f) blend(c, x, y, rgb, *p * alpha);
      *p = 0.0f;
    }
}

/* ---- Scales and ticks ----------------------------------------------------------------------- */

typedef struct {
  double lo, hi;
} range;

/* 1, 2 or 5 times a power of ten, giving about `target` steps over the span. */
static double nice_step(double span, int target) {
  double raw = span / target, mag = pow(10.0, floor(log10(raw))), norm = raw / mag;
  return (norm < 1.5 ? 1.0 : norm < 3.0 ? 2.0 : norm < 7.0 ? 5.0 : 10.0) * mag;
}

/* A tick label: as many decimals as the step needs; k and M suffixes for big round steps. */
static void tick_label(char *out, size_t size, double v, double step, double span_max) {
  const char *suffix = "";
  int zero = fabs(v) < step * 1e-6; /* no "-0", no "0k" */
  if (span_max >= 1e6 && span_max < 1e9 && step >= 1e5) {
    v /= 1e6, step /= 1e6, suffix = "M";
  } else if (span_max >= 1e4 && span_max < 1e9 && step >= 1e3) {
    v /= 1e3, step /= 1e3, suffix = "k";
  }
  if (zero) v = 0.0, suffix = "";
  int decimals = (int)ceil(-log10(step) - 1e-9);
  if (decimals < 0) decimals = 0;
  if (decimals > 6 || fabs(v) >= 1e9) snprintf(out, size, "%.3g%s", v, suffix);
  else snprintf(out, size, "%.*f%s", decimals, v, suffix);
}

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

/* Centred moving average over `window` points; NaN and Inf are skipped, and a point with no
 * finite neighbour stays NaN. */
static void moving_average(float *out, const float *y, int n, int window) {
  int half = window / 2;
  double sum = 0.0;
  int count = 0, lo = 0, hi = 0; /* the window is [lo, hi) */
  for (int i = 0; i < n; i++) {
    int want_lo = i - half < 0 ? 0 : i - half, want_hi = i + half + 1 > n ? n : i + half + 1;
    for (; hi < want_hi; hi++)
      if (isfinite(y[hi])) sum += y[hi], count++;
    for (; lo < want_lo; lo++)
      if (isfinite(y[lo])) sum -= y[lo], count--;
    out[i] = count ? (float)(sum / count) : NAN;
  }
}

static int smooth_window(int n) {
  int w = n / 40;
  if (w < 5) w = 5;
  if (w > 501) w = 501;
  return w | 1;
}

static double series_x(const clgan_plot_series *s, int i) { return s->x ? s->x[i] : (double)i; }

/* ---- The chart ------------------------------------------------------------------------------ */

/* What the drawing phases share: the canvas, the coverage layer, the series with their moving
 * averages (smooth[s] NULL where a series is drawn raw) and the ranges the axes span. */
typedef struct {
  canvas c;
  layer l;
  const clgan_plot_series *series;
  int nseries;
  float **smooth;
  float *ys; /* scratch: every finite y, sorted for the range */
  size_t ny; /* how many points are finite */
  int smoothed_window;
  range xr, yr;
} chart;

/* Canvas pixel coordinates of a data point. */
static double chart_px(const chart *ch, double v) {
  return LEFT + (v - ch->xr.lo) / (ch->xr.hi - ch->xr.lo) * (RIGHT - LEFT - 1) + 0.5;
}
static double chart_py(const chart *ch, double v) {
  return BOTTOM - 1 - (v - ch->yr.lo) / (ch->yr.hi - ch->yr.lo) * (BOTTOM - TOP - 1) + 0.5;
}

static clgan_status check_series(const char *path, const clgan_plot_series *series,
                                 int nseries) {
  if (!path || nseries < 0 || (nseries && !series)) return CLGAN_INVALID_ARGUMENT;
  for (int s = 0; s < nseries; s++)
    if (series[s].n < 0 || (series[s].n && !series[s].y)) {
      clgan_error("%s: plot %s: series %d has %d points and %s y values",
                  clgan_status_message(CLGAN_INVALID_ARGUMENT), path, s, series[s].n,
                  series[s].y ? "some" : "no");
      return CLGAN_INVALID_ARGUMENT;
    }
  return CLGAN_OK;
}

/* A white canvas, an empty layer and room for the smoothed series; 0 when out of memory. */
static int chart_alloc(chart *ch, const clgan_plot_series *series, int nseries) {
  size_t total = 0;
  for (int s = 0; s < nseries; s++) total += (size_t)series[s].n;
  ch->series = series;
  ch->nseries = nseries;
  ch->c.px = malloc((size_t)W * H * 3);
  ch->l.cov = calloc((size_t)(RIGHT - LEFT) * (BOTTOM - TOP), sizeof(float));
  ch->smooth = calloc((nseries > 0 ? (size_t)nseries : 1), sizeof *ch->smooth);
  ch->ys = malloc(sizeof *ch->ys * (total ? total : 1));
  if (!ch->c.px || !ch->l.cov || !ch->smooth || !ch->ys) return 0;
  memset(ch->c.px, 255, (size_t)W * H * 3);
  return 1;
}

static void chart_free(chart *ch) {
  for (int s = 0; ch->smooth && s < ch->nseries; s++) free(ch->smooth[s]);
  free(ch->smooth);
  free(ch->ys);
  free(ch->l.cov);
  free(ch->c.px);
}

/* The moving averages of the noisy series, and the ranges: x over every finite point; y over
 * the raw points less the extreme tails, widened to keep every smoothed point in view. Returns
 * 0 when out of memory. */
static int chart_ranges(chart *ch) {
  const clgan_plot_series *series = ch->series;
  range xr = {DBL_MAX, -DBL_MAX}, yr = {DBL_MAX, -DBL_MAX};
  for (int s = 0; s < ch->nseries; s++) {
    const clgan_plot_series *sr = &series[s];
    for (int i = 0; i < sr->n; i++) {
      double x = series_x(sr, i);
      if (!isfinite(x) || !isfinite(sr->y[i])) continue;
      xr.lo = fmin(xr.lo, x), xr.hi = fmax(xr.hi, x);
      ch->ys[ch->ny++] = sr->y[i];
    }
    if (sr->n > SMOOTH_ABOVE) {
      ch->smooth[s] = malloc(sizeof(float) * (size_t)sr->n);
      if (!ch->smooth[s]) return 0;
      ch->smoothed_window = smooth_window(sr->n);
      moving_average(ch->smooth[s], sr->y, sr->n, ch->smoothed_window);
    }
  }
  if (ch->ny > 0) {
    qsort(ch->ys, ch->ny, sizeof *ch->ys, cmp_float);
    size_t cut = ch->ny >= 200 ? ch->ny / 200 : 0;
    yr.lo = ch->ys[cut], yr.hi = ch->ys[ch->ny - 1 - cut];
    for (int s = 0; s < ch->nseries; s++)
      for (int i = 0; ch->smooth[s] && i < series[s].n; i++)
        if (isfinite(ch->smooth[s][i]) && isfinite(series_x(&series[s], i)))
          yr.lo = fmin(yr.lo, ch->smooth[s][i]), yr.hi = fmax(yr.hi, ch->smooth[s][i]);
  } else {
    xr = (range){0.0, 1.0};
    yr = (range){0.0, 1.0};
  }
  if (xr.hi - xr.lo <= fabs(xr.hi) * 1e-9) xr.lo -= 1.0, xr.hi += 1.0;
  if (yr.hi - yr.lo <= fabs(yr.hi) * 1e-6) {
    double pad = fabs(yr.hi) > 0 ? fabs(yr.hi) * 0.1 : 1.0;
    yr.lo -= pad, yr.hi += pad;
  }
  double ypad = (yr.hi - yr.lo) * 0.05;
  yr.lo -= ypad, yr.hi += ypad;
  ch->xr = xr;
  ch->yr = yr;
  return 1;
}

/* Grid lines, ticks and their labels. */
static void draw_grid(chart *ch) {
  canvas *c = &ch->c;
  range xr = ch->xr, yr = ch->yr;
  char label[64];
  double xstep = nice_step(xr.hi - xr.lo, 8), ystep = nice_step(yr.hi - yr.lo, 6);
  double xmax_abs = fmax(fabs(xr.lo), fabs(xr.hi)), ymax_abs = fmax(fabs(yr.lo), fabs(yr.hi));
  for (double v = ceil(xr.lo / xstep - 1e-9) * xstep; v <= xr.hi + xstep * 1e-9; v += xstep) {
    int x = (int)floor(chart_px(ch, v));
    fill(c, x, TOP, x + 1, BOTTOM, grid);
    fill(c, x, BOTTOM, x + 1, BOTTOM + 6, axis);
    tick_label(label, sizeof label, v, xstep, xmax_abs);
    draw_text(c, x - text_width(label, TEXT) / 2, BOTTOM + 12, label, TEXT, ink);
  }
  for (double v = ceil(yr.lo / ystep - 1e-9) * ystep; v <= yr.hi + ystep * 1e-9; v += ystep) {
    int y = (int)floor(chart_py(ch, v));
    fill(c, LEFT, y, RIGHT, y + 1, grid);
    fill(c, LEFT - 6, y, LEFT, y + 1, axis);
    tick_label(label, sizeof label, v, ystep, ymax_abs);
    draw_text(c, LEFT - 12 - text_width(label, TEXT), y - 7 * TEXT / 2, label, TEXT, ink);
  }
}

/* Series: faint raw lines under smoothed ones, each layer blended once. */
static void draw_series(chart *ch) {
  for (int pass = 0; pass < 2; pass++)
    for (int s = 0; s < ch->nseries; s++) {
      const clgan_plot_series *sr = &ch->series[s];
      const float *smooth = ch->smooth[s];
      const float *y = pass == 0 ? sr->y : smooth;
      if (!y || (pass == 1 && !smooth)) continue;
      double hw = smooth && pass == 0 ? 0.5 : 1.25;
      float alpha = smooth && pass == 0 ? 0.3f : 1.0f;
      int prev = -1;
      for (int i = 0; i < sr->n; i++) {
        double x = series_x(sr, i);
        if (!isfinite(x) || !isfinite(y[i])) {
          prev = -1;
          continue;
        }
        double px = chart_px(ch, x), py = chart_py(ch, y[i]);
        int next_ok = i + 1 < sr->n && isfinite(series_x(sr, i + 1)) && isfinite(y[i + 1]);
        /* A dot for sparse series (say, one value per epoch) and for points standing alone. */
        if (!smooth && (sr->n <= DOTS_UPTO || (prev < 0 && !next_ok)))
          layer_segment(&ch->l, px, py, px, py, 2.5);
        if (prev >= 0)
          layer_segment(&ch->l, chart_px(ch, series_x(sr, prev)), chart_py(ch, y[prev]), px, py,
                        hw);
        prev = i;
      }
      layer_composite(&ch->c, &ch->l, sr->rgb, alpha);
    }
}

/* Frame, title, axis label, and a note when nothing could be drawn. */
static void draw_frame(chart *ch, const char *title, const char *xlabel) {
  canvas *c = &ch->c;
  fill(c, LEFT - 1, TOP - 1, RIGHT + 1, TOP, axis);
  fill(c, LEFT - 1, BOTTOM, RIGHT + 1, BOTTOM + 1, axis);
  fill(c, LEFT - 1, TOP - 1, LEFT, BOTTOM + 1, axis);
  fill(c, RIGHT, TOP - 1, RIGHT + 1, BOTTOM + 1, axis);
  if (title) draw_text(c, (W - text_width(title, TITLE)) / 2, 18, title, TITLE, ink);
  if (xlabel)
    draw_text(c, (LEFT + RIGHT - text_width(xlabel, TEXT)) / 2, BOTTOM + 44, xlabel, TEXT, muted);
  if (ch->ny == 0) {
    const char *none = "no finite values to plot";
    draw_text(c, (LEFT + RIGHT - text_width(none, TEXT)) / 2, (TOP + BOTTOM) / 2, none, TEXT,
              muted);
  }
}

/* Where a legend box of lw x lh goes in a corner (0-3: bit 0 left, bit 1 bottom). */
static void legend_origin(int corner, int lw, int lh, int *x0, int *y0) {
  *x0 = corner & 1 ? LEFT + 12 : RIGHT - 12 - lw;
  *y0 = corner & 2 ? BOTTOM - 12 - lh : TOP + 12;
}

/* The corner whose lw x lh box has the fewest points of the drawn lines under it, sampled every
 * few pixels along each segment. */
static int legend_corner(const chart *ch, int lw, int lh) {
  int best = 0;
  long best_count = -1;
  for (int corner = 0; corner < 4; corner++) {
    int x0, y0;
    legend_origin(corner, lw, lh, &x0, &y0);
    long count = 0;
    for (int s = 0; s < ch->nseries; s++) {
      const clgan_plot_series *sr = &ch->series[s];
      const float *y = ch->smooth[s] ? ch->smooth[s] : sr->y;
      for (int i = 0; i < sr->n; i++) {
        int k = i + 1 < sr->n ? i + 1 : i;
        double ax = chart_px(ch, series_x(sr, i)), ay = chart_py(ch, y[i]);
        double bx = chart_px(ch, series_x(sr, k)), by = chart_py(ch, y[k]);
        if (!isfinite(ax) || !isfinite(ay) || !isfinite(bx) || !isfinite(by)) continue;
        if (!clip(&ax, &ay, &bx, &by, LEFT, TOP, RIGHT, BOTTOM)) continue;
        int steps = 1 + (int)(hypot(bx - ax, by - ay) / 4.0);
        for (int t = 0; t < steps; t++) {
          double px = ax + (bx - ax) * t / steps, py = ay + (by - ay) * t / steps;
          count += px >= x0 && px < x0 + lw && py >= y0 && py < y0 + lh;
        }
      }
    }
    if (best_count < 0 || count < best_count) best_count = count, best = corner;
  }
  return best;
}

/* The legend, in the corner with the fewest points under it. */
static void draw_legend(chart *ch) {
  const clgan_plot_series *series = ch->series;
  int nseries = ch->nseries;
  canvas *c = &ch->c;
  if (nseries <= 0) return;
  char note[64] = "";
  if (ch->smoothed_window)
    snprintf(note, sizeof note, "faint: raw, bold: mean of %d", ch->smoothed_window);
  int lw = text_width(note, TEXT), lh = 14 + nseries * 24 + (note[0] ? 24 : 0);
  for (int s = 0; s < nseries; s++) {
    int tw = 36 + text_width(series[s].name ? series[s].name : "", TEXT);
    if (tw > lw) lw = tw;
  }
  lw += 24;
  int x0, y0;
  legend_origin(legend_corner(ch, lw, lh), lw, lh, &x0, &y0);
  fill(c, x0, y0, x0 + lw, y0 + lh, white);
  fill(c, x0, y0, x0 + lw, y0 + 1, grid);
  fill(c, x0, y0 + lh - 1, x0 + lw, y0 + lh, grid);
  fill(c, x0, y0, x0 + 1, y0 + lh, grid);
  fill(c, x0 + lw - 1, y0, x0 + lw, y0 + lh, grid);
  for (int s = 0; s < nseries; s++) {
    int y = y0 + 12 + s * 24;
    fill(c, x0 + 12, y + 6, x0 + 36, y + 9, series[s].rgb);
    draw_text(c, x0 + 44, y, series[s].name ? series[s].name : "", TEXT, ink);
  }
  if (note[0]) draw_text(c, x0 + 12, y0 + 12 + nseries * 24, note, TEXT, muted);
}

clgan_status clgan_plot_lines(const char *path, const clgan_plot_series *series, int nseries,
                              const char *title, const char *xlabel) {
  clgan_status st = check_series(path, series, nseries);
  if (st != CLGAN_OK) return st;
  chart ch;
  memset(&ch, 0, sizeof ch);
  if (!chart_alloc(&ch, series, nseries) || !chart_ranges(&ch)) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    clgan_error("%s: plot %s", clgan_status_message(st), path);
    chart_free(&ch);
    return st;
  }
  draw_grid(&ch);
  draw_series(&ch);
  draw_frame(&ch, title, xlabel);
  draw_legend(&ch);
  st = clgan_png_write_rgb(path, ch.c.px, W, H);
  chart_free(&ch);
  return st;
}
