/* Conv op speed on the DCGAN layer shapes: ms per forward and per backward (dx, dw, db; the
 * first discriminator layer without dx, as training runs it), wall time with the queue drained
 * around each timed loop, then where the device time goes per kernel in a profiled pass.
 * With --gemm, also each of the layer's GEMMs alone.
 * usage: clgan_bench_conv [--batch N] [--reps N] [--device SEL] [--gemm] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clgan/ops.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
  const char *name;
  int transposed, need_dx;
  clgan_conv_shape sh;
} layer;

typedef struct {
  clgan_buffer x, y, w, b, dx, dw, db, col;
} layer_bufs;

static clgan_status run_op(clgan_device *dev, const layer *l, layer_bufs *b, int backward) {
  if (!backward)
    return l->transposed ? clgan_convT2d_forward(dev, &l->sh, &b->y, &b->x, &b->w, &b->b, &b->col)
                         : clgan_conv2d_forward(dev, &l->sh, &b->y, &b->x, &b->w, &b->b, &b->col);
  clgan_buffer *dx = l->need_dx ? &b->dx : NULL;
  return l->transposed ? clgan_convT2d_backward(dev, &l->sh, dx, &b->dw, &b->db, &b->y, &b->x,
                                                &b->w, &b->col, 0)
                       : clgan_conv2d_backward(dev, &l->sh, dx, &b->dw, &b->db, &b->y, &b->x,
                                               &b->w, &b->col, 0);
}

static int bench_layer(clgan_device *dev, const layer *l, int reps) {
  layer_bufs b = {0};
  int ho, wo, rc = 1;
  if (l->transposed) clgan_convT2d_out_hw(&l->sh, &ho, &wo);
  else clgan_conv2d_out_hw(&l->sh, &ho, &wo);
  const clgan_conv_shape *s = &l->sh;
  size_t nx = (size_t)s->n * s->c_in * s->h_in * s->w_in, ny = (size_t)s->n * s->c_out * ho * wo;
  size_t nw = (size_t)s->c_in * s->c_out * s->kh * s->kw;
  size_t nws = l->transposed ? clgan_convT2d_workspace(s) : clgan_conv2d_workspace(s);
  if (clgan_buffer_alloc(dev, &b.x, nx * 4) || clgan_buffer_alloc(dev, &b.dx, nx * 4) ||
      clgan_buffer_alloc(dev, &b.y, ny * 4) || clgan_buffer_alloc(dev, &b.w, nw * 4) ||
      clgan_buffer_alloc(dev, &b.dw, nw * 4) || clgan_buffer_alloc(dev, &b.b, 4096) ||
      clgan_buffer_alloc(dev, &b.db, 4096) || clgan_buffer_alloc(dev, &b.col, nws * 4))
    goto done;
  if (clgan_rand_uniform(dev, &b.x, (int)nx, -1, 1, 1, 0, 0) ||
      clgan_rand_uniform(dev, &b.w, (int)nw, -0.05f, 0.05f, 1, 0, 1) ||
      clgan_fill(dev, &b.b, 1024, 0.1f))
    goto done;
  double ms[2];
  for (int bwd = 0; bwd < 2; bwd++) {
    if (run_op(dev, l, &b, bwd) || clgan_device_finish(dev)) goto done; /* warm-up, builds */
    clgan_profile_entry *e = NULL;
    int n = 0;
    if (clgan_profile_collect(dev, &e, &n)) goto done;
    free(e);
    double t0 = now_s();
    for (int r = 0; r < reps; r++)
      if (run_op(dev, l, &b, bwd)) goto done;
    if (clgan_device_finish(dev)) goto done;
    ms[bwd] = 1e3 * (now_s() - t0) / reps;
    if (clgan_profile_collect(dev, &e, &n)) goto done;
    printf("  %-34s %-8s %8.2f ms  [", l->name, bwd ? "backward" : "forward", ms[bwd]);
    for (int i = 0; i < n; i++)
      printf("%s%s %.2f", i ? ", " : "", e[i].name, e[i].ms / reps);
    printf("]\n");
    free(e);
  }
  printf("conv_bench %s fwd_ms=%.2f bwd_ms=%.2f workspace_mb=%.1f\n", l->name, ms[0], ms[1],
         (double)nws * 4 / 1e6);
  rc = 0;
done:;
  clgan_buffer *all[] = {&b.x, &b.y, &b.w, &b.b, &b.dx, &b.dw, &b.db, &b.col};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) clgan_buffer_free(all[i]);
  if (rc) fprintf(stderr, "conv_bench: %s failed\n", l->name);
  return rc;
}

/* The three GEMMs a layer runs (src/ops/conv.c), each alone: wall ms with the queue drained.
 * Geometry of the Conv2d that the layer is or transposes: image channels C, window positions
 * P per sample, window channels O, K = C*KH*KW. */
static int bench_gemms(clgan_device *dev, const layer *l, int reps) {
  const clgan_conv_shape *s = &l->sh;
  int ho, wo;
  size_t o, k, np;
  if (l->transposed) {
    o = (size_t)s->c_in, k = (size_t)s->c_out * s->kh * s->kw;
    np = (size_t)s->n * s->h_in * s->w_in;
  } else {
    clgan_conv2d_out_hw(s, &ho, &wo);
    o = (size_t)s->c_out, k = (size_t)s->c_in * s->kh * s->kw, np = (size_t)s->n * ho * wo;
  }
  clgan_buffer a = {0}, b = {0}, c = {0};
  size_t big = (o > k ? o : k) * np;
  int rc = 1;
  if (clgan_buffer_alloc(dev, &a, big * 4) || clgan_buffer_alloc(dev, &b, big * 4) ||
      clgan_buffer_alloc(dev, &c, big * 4) || clgan_fill(dev, &a, (int)big, 0.01f) ||
      clgan_fill(dev, &b, (int)big, 0.01f))
    goto done;
  const clgan_gemm_args g[3] = {
      {.m = o, .n = np, .k = k, .alpha = 1, .a = &a, .lda = k, .b = &b, .ldb = np, .c = &c,
       .ldc = np},
      {.trans_a = 1, .m = k, .n = np, .k = o, .alpha = 1, .a = &a, .lda = k, .b = &b, .ldb = np,
       .c = &c, .ldc = np},
      {.m = o, .n = k, .k = np, .alpha = 1, .a = &a, .lda = np, .b = &b, .ldb = k, .c = &c,
       .ldc = k},
  };
  static const char *what[3] = {"W col (NN)", "W^T window (TN)", "dW window colT (NN)"};
  for (int i = 0; i < 3; i++) {
    if (clgan_gemm(dev, &g[i]) || clgan_device_finish(dev)) goto done;
    double t0 = now_s();
    for (int r = 0; r < reps; r++)
      if (clgan_gemm(dev, &g[i])) goto done;
    if (clgan_device_finish(dev)) goto done;
    double ms = 1e3 * (now_s() - t0) / reps;
    printf("  %-34s gemm %-21s m=%5zu n=%5zu k=%5zu %8.2f ms %6.1f GFLOPS\n", l->name, what[i],
           g[i].m, g[i].n, g[i].k, ms, 2e-6 * (double)g[i].m * g[i].n * g[i].k / ms);
  }
  clgan_profile_entry *e = NULL;
  int n = 0;
  clgan_profile_collect(dev, &e, &n);
  free(e);
  rc = 0;
done:
  clgan_buffer_free(&a), clgan_buffer_free(&b), clgan_buffer_free(&c);
  return rc;
}

int main(int argc, char **argv) {
  int batch = 64, reps = 5, gemms = 0;
  const char *sel = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--device") && i + 1 < argc) sel = argv[++i];
    else if (!strcmp(argv[i], "--gemm")) gemms = 1;
    else {
      fprintf(stderr, "usage: %s [--batch N] [--reps N] [--device SEL] [--gemm]\n", argv[0]);
      return 2;
    }
  }
  if (batch < 1 || reps < 1) return 2;
  clgan_device *dev = NULL;
  clgan_device_cfg cfg = {.selector = sel, .profile = 1};
  clgan_device_cfg_from_env(&cfg);
  if (clgan_device_open(&dev, &cfg)) return 1;
  printf("device: %s, batch %d, %d reps; time per call, then device ms per call by kernel\n",
         clgan_device_get_info(dev)->name, batch, reps);
  const layer layers[] = {
      {"G convT 256->128 7->14 k4 s2 p1", 1, 1, {batch, 256, 7, 7, 128, 4, 4, 2, 1}},
      {"G convT 128->1 14->28 k4 s2 p1", 1, 1, {batch, 128, 14, 14, 1, 4, 4, 2, 1}},
      {"D conv 1->32 28->14 k4 s2 p1 (no dx)", 0, 0, {batch, 1, 28, 28, 32, 4, 4, 2, 1}},
      {"D conv 32->64 14->7 k4 s2 p1", 0, 1, {batch, 32, 14, 14, 64, 4, 4, 2, 1}},
  };
  int rc = 0;
  for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++)
    rc |= bench_layer(dev, &layers[i], reps) || (gemms && bench_gemms(dev, &layers[i], reps));
  clgan_device_close(dev);
  return rc;
}
