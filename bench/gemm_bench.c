/* GEMM and launch benchmark: GFLOPS of CLBlast on the training shapes (clgan_tune_default_shapes),
 * 512^3 and 1024^3, first with CLBlast's defaults and then with clgan's tuning (the shipped table
 * and the user's cache, as clgan_device_open applies them); the cost of the first GEMM of each
 * (program build); and the cost of launching an empty kernel back to back and with a wait after
 * each. Every GEMM result is checked against clgan_gemm_reference (on a band of rows for the large
 * shapes). Figures and the command are in bench/RESULTS.md.
 *
 * usage: clgan_bench_gemm [--device SEL] [--untuned-only | --tuned-only] [--seconds S]
 *        clgan_bench_gemm --startup [--device SEL]     (cold/warm start: time to first result)
 *        clgan_bench_gemm --peak [--device SEL] [--seconds S]
 *            (the device's GEMM peak as clgan runs it: tuning as clgan_device_open applies it,
 *            large products; one line, `peak gemm_gflops=X shape=MxNxK`, for bench/compare.sh)
 *
 * Untuned runs first: CLBlast keeps overridden parameters for the rest of the process. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clgan/device.h"
#include "clgan/tune.h"

#define MAX_SHAPES (CLGAN_TUNE_MAX_SHAPES + 2)

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
  clgan_tune_shape s;
  clgan_buffer a, b, c;
  float *ha, *hb, *hc, *ref;
  size_t check_rows;
  double gflops[2]; /* untuned, tuned */
  double first_s[2];
} bench_shape;

static void fill(float *x, size_t n, unsigned long long *s) {
  for (size_t i = 0; i < n; i++) {
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    x[i] = (float)((double)(*s >> 11) / 9007199254740992.0 * 2.0 - 1.0);
  }
}

static clgan_gemm_args args_for(bench_shape *b) {
  const clgan_tune_shape *s = &b->s;
  return (clgan_gemm_args){.trans_a = s->trans_a, .trans_b = s->trans_b, .m = s->m, .n = s->n,
                           .k = s->k, .alpha = 1.0f, .beta = 0.0f, .a = &b->a,
                           .lda = s->trans_a ? s->m : s->k, .b = &b->b,
                           .ldb = s->trans_b ? s->k : s->n, .c = &b->c, .ldc = s->n};
}

static int setup(clgan_device *dev, bench_shape *b, unsigned long long *rng) {
  const clgan_tune_shape *s = &b->s;
  size_t na = s->m * s->k, nb = s->k * s->n, nc = s->m * s->n;
  b->ha = malloc(na * 4);
  b->hb = malloc(nb * 4);
  b->hc = malloc(nc * 4);
  b->ref = malloc(nc * 4);
  if (!b->ha || !b->hb || !b->hc || !b->ref) return 0;
  fill(b->ha, na, rng);
  fill(b->hb, nb, rng);
  /* The reference costs m*n*k on the host: a band of rows is enough for the large shapes. */
  b->check_rows = s->m * s->n * s->k > 64ull * 1024 * 1024 ? 16 : s->m;
  clgan_gemm_args g = args_for(b);
  g.m = b->check_rows;
  clgan_gemm_reference(&g, b->ha, b->hb, b->ref);
  return clgan_buffer_alloc(dev, &b->a, na * 4) == CLGAN_OK &&
         clgan_buffer_alloc(dev, &b->b, nb * 4) == CLGAN_OK &&
         clgan_buffer_alloc(dev, &b->c, nc * 4) == CLGAN_OK &&
         clgan_buffer_write(dev, &b->a, 0, na * 4, b->ha) == CLGAN_OK &&
         clgan_buffer_write(dev, &b->b, 0, nb * 4, b->hb) == CLGAN_OK;
}

static void release(bench_shape *b) {
  clgan_buffer_free(&b->a);
  clgan_buffer_free(&b->b);
  clgan_buffer_free(&b->c);
  free(b->ha);
  free(b->hb);
  free(b->hc);
  free(b->ref);
}

/* First call (timed: it may build CLBlast's program), check, then the best of three timings of
 * enough back-to-back calls to fill `seconds` / 3. Returns 0 on a failure or a wrong result. */
static int run_shape(clgan_device *dev, bench_shape *b, int which, double seconds) {
  clgan_gemm_args g = args_for(b);
  const clgan_tune_shape *s = &b->s;
  double t0 = now_s();
  if (clgan_gemm(dev, &g) != CLGAN_OK || clgan_device_finish(dev) != CLGAN_OK) return 0;
  b->first_s[which] = now_s() - t0;
  if (clgan_buffer_read(dev, &b->c, 0, s->m * s->n * 4, b->hc) != CLGAN_OK) return 0;
  double atol = 1e-4 + 2e-6 * (double)s->k, rtol = 1e-4;
  for (size_t i = 0; i < b->check_rows * s->n; i++) {
    if (!(fabs((double)b->hc[i] - b->ref[i]) <= atol + rtol * fabs((double)b->ref[i]))) {
      fprintf(stderr, "bench: %zux%zux%zu: element %zu is %g, want %g\n", s->m, s->n, s->k, i,
              (double)b->hc[i], (double)b->ref[i]);
      return 0;
    }
  }
  double flops = 2.0 * (double)s->m * (double)s->n * (double)s->k;
  t0 = now_s();
  if (clgan_gemm(dev, &g) != CLGAN_OK || clgan_device_finish(dev) != CLGAN_OK) return 0;
  double one = now_s() - t0;
  int reps = (int)(seconds / 3.0 / (one > 1e-6 ? one : 1e-6));
  if (reps < 2) reps = 2;
  if (reps > 2000) reps = 2000;
  double best = INFINITY;
  for (int trial = 0; trial < 3; trial++) {
    t0 = now_s();
    for (int r = 0; r < reps; r++)
      if (clgan_gemm(dev, &g) != CLGAN_OK) return 0;
    if (clgan_device_finish(dev) != CLGAN_OK) return 0;
    double dt = (now_s() - t0) / reps;
    if (dt < best) best = dt;
  }
  b->gflops[which] = flops / best * 1e-9;
  return 1;
}

/* --peak: the best GFLOPS of a few large products with the tuning clgan_device_open applies:
 * the squares where CLBlast's tiles fill the device, and dcgan's largest GEMM, G's first
 * transposed convolution (2048 x 3136 x 256, src/ops/conv.c). */
static int peak(const char *sel, double seconds) {
  clgan_device_cfg cfg = {.selector = sel};
  clgan_device_cfg_from_env(&cfg);
  clgan_device *dev = NULL;
  if (clgan_device_open(&dev, &cfg) != CLGAN_OK) return 1;
  static const clgan_tune_shape shapes[] = {{512, 512, 512, 0, 0, 1},
                                            {1024, 1024, 1024, 0, 0, 1},
                                            {2048, 3136, 256, 0, 0, 1}};
  double best = 0;
  const clgan_tune_shape *at = &shapes[0];
  unsigned long long rng = 7;
  int ok = 1;
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0] && ok; i++) {
    bench_shape b;
    memset(&b, 0, sizeof b);
    b.s = shapes[i];
    ok = setup(dev, &b, &rng) && run_shape(dev, &b, 1, seconds);
    if (ok && b.gflops[1] > best) {
      best = b.gflops[1];
      at = &shapes[i];
    }
    release(&b);
  }
  clgan_tuning_status ts;
  char tuning[1400];
  clgan_device_tuning_status(dev, &ts);
  clgan_tuning_describe(&ts, tuning, sizeof tuning);
  if (ok)
    printf("peak gemm_gflops=%.1f shape=%zux%zux%zu gemm=%s tuning=\"%s\" device=\"%s\"\n",
           best, at->m, at->n, at->k, clgan_gemm_kind_name(clgan_device_gemm(dev)), tuning,
           clgan_device_get_info(dev)->name);
  else
    fprintf(stderr, "bench: a GEMM failed or gave a wrong result\n");
  clgan_device_close(dev);
  return ok ? 0 : 1;
}

/* The tuning clgan_device_open applies: the shipped table, then the user's cache. */
static int apply_tuning(clgan_device *dev) {
  clgan_tuning entries[16];
  int n = clgan_tuning_builtin(dev, entries, 8), m = 0;
  char path[1024], key[512];
  clgan_tuning_default_path(path, sizeof path);
  clgan_device_tuning_key(dev, key, sizeof key);
  if (clgan_tuning_load(path, key, entries + n, 8, &m) != CLGAN_OK) m = 0;
  printf("tuning applied: %d shipped entries, %d from %s\n", n, m, path);
  for (int i = 0; i < n + m; i++) {
    printf("  %-12s", entries[i].kernel);
    for (int j = 0; j < entries[i].count; j++)
      printf("%s%s=%zu", j ? "," : " ", entries[i].names[j], entries[i].values[j]);
    printf("\n");
  }
  return clgan_tuning_apply(dev, entries, n + m) == CLGAN_OK;
}

/* noop takes no arguments, so clgan_launch rather than CLGAN_LAUNCH (which needs one). */
static void launch_cost(clgan_device *dev) {
  clgan_kernel *k = NULL;
  double t0 = now_s();
  if (clgan_kernel_get(dev, "bench.cl", "noop", &k) != CLGAN_OK) return;
  double build = now_s() - t0;
  t0 = now_s();
  if (clgan_launch(dev, k, CLGAN_RANGE_1D(1), 0, NULL) != CLGAN_OK ||
      clgan_device_finish(dev) != CLGAN_OK)
    return;
  printf("empty kernel: build %.3f s, first launch + wait %.3f s\n", build, now_s() - t0);
  const int n = 2000;
  double best_async = INFINITY, best_sync = INFINITY;
  for (int trial = 0; trial < 3; trial++) {
    t0 = now_s();
    for (int i = 0; i < n; i++) clgan_launch(dev, k, CLGAN_RANGE_1D(1), 0, NULL);
    clgan_device_finish(dev);
    double dt = (now_s() - t0) / n;
    if (dt < best_async) best_async = dt;
    t0 = now_s();
    for (int i = 0; i < n / 4; i++) {
      clgan_launch(dev, k, CLGAN_RANGE_1D(1), 0, NULL);
      clgan_device_finish(dev);
    }
    dt = (now_s() - t0) / (n / 4);
    if (dt < best_sync) best_sync = dt;
  }
  printf("empty kernel launch: %.1f us back to back, %.1f us with clgan_device_finish after each "
         "(best of 3 x %d)\n", best_async * 1e6, best_sync * 1e6, n);
}

/* Time to first result as a program sees it: device open (tuning applied as usual), the first
 * clgan kernel (build, launch, wait) and the first GEMM (CLBlast's program build) at a training
 * shape. Run it on an empty and on a warm driver cache (POCL_CACHE_DIR for PoCL). */
static int startup(const char *sel) {
  double t0 = now_s();
  clgan_device_cfg cfg = {.selector = sel};
  clgan_device_cfg_from_env(&cfg);
  clgan_device *dev = NULL;
  if (clgan_device_open(&dev, &cfg) != CLGAN_OK) return 1;
  double t_open = now_s() - t0;
  clgan_kernel *k = NULL;
  t0 = now_s();
  if (clgan_kernel_get(dev, "bench.cl", "noop", &k) != CLGAN_OK ||
      clgan_launch(dev, k, CLGAN_RANGE_1D(1), 0, NULL) != CLGAN_OK ||
      clgan_device_finish(dev) != CLGAN_OK)
    return 1;
  double t_kernel = now_s() - t0;
  bench_shape b;
  memset(&b, 0, sizeof b);
  b.s = (clgan_tune_shape){128, 256, 784, 0, 1, 1};
  unsigned long long rng = 1;
  if (!setup(dev, &b, &rng)) return 1;
  clgan_gemm_args g = args_for(&b);
  t0 = now_s();
  if (clgan_gemm(dev, &g) != CLGAN_OK || clgan_device_finish(dev) != CLGAN_OK) return 1;
  double t_gemm = now_s() - t0;
  printf("startup (%s): device open %.3f s, first clgan kernel (build+run) %.3f s, first GEMM "
         "128x256x784 (CLBlast build+run) %.3f s\n",
         cfg.no_tuning ? "untuned" : "tuning applied", t_open, t_kernel, t_gemm);
  release(&b);
  clgan_device_close(dev);
  return 0;
}

int main(int argc, char **argv) {
  const char *sel = NULL;
  int untuned = 1, tuned = 1, startup_only = 0, peak_only = 0;
  double seconds = 1.0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--device") && i + 1 < argc)
      sel = argv[++i];
    else if (!strcmp(argv[i], "--startup"))
      startup_only = 1;
    else if (!strcmp(argv[i], "--peak"))
      peak_only = 1;
    else if (!strcmp(argv[i], "--untuned-only"))
      tuned = 0;
    else if (!strcmp(argv[i], "--tuned-only"))
      untuned = 0;
    else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
      seconds = atof(argv[++i]);
    else {
      fprintf(stderr, "usage: %s [--device SEL] [--untuned-only | --tuned-only] [--seconds S] "
                      "[--startup | --peak]\n", argv[0]);
      return 2;
    }
  }
  if (!(seconds > 0)) seconds = 1.0;
  if (startup_only) return startup(sel);
  if (peak_only) return peak(sel, seconds);

  double t0 = now_s();
  clgan_device_cfg cfg = {.selector = sel, .no_tuning = 1};
  clgan_device_cfg_from_env(&cfg);
  clgan_device *dev = NULL;
  if (clgan_device_open(&dev, &cfg) != CLGAN_OK) return 1;
  const clgan_device_info *info = clgan_device_get_info(dev);
  printf("device: %s [%s %s], %u compute units; open %.3f s\n", info->name, info->platform_name,
         info->driver, info->compute_units, now_s() - t0);

  bench_shape shapes[MAX_SHAPES];
  memset(shapes, 0, sizeof shapes);
  clgan_tune_shape set[CLGAN_TUNE_MAX_SHAPES];
  int n = clgan_tune_default_shapes(set, CLGAN_TUNE_MAX_SHAPES);
  for (int i = 0; i < n; i++) shapes[i].s = set[i];
  shapes[n++].s = (clgan_tune_shape){512, 512, 512, 0, 0, 1};
  shapes[n++].s = (clgan_tune_shape){1024, 1024, 1024, 0, 0, 1};
  unsigned long long rng = 42;
  int ok = 1;
  for (int i = 0; i < n && ok; i++) ok = setup(dev, &shapes[i], &rng);
  if (!ok) {
    fprintf(stderr, "bench: setting up the shapes failed\n");
    return 1;
  }

  for (int which = 0; which < 2 && ok; which++) {
    if ((which == 0 && !untuned) || (which == 1 && !tuned)) continue;
    if (which == 1 && !apply_tuning(dev)) ok = 0;
    for (int i = 0; i < n && ok; i++) ok = run_shape(dev, &shapes[i], which, seconds);
  }
  if (!ok) {
    fprintf(stderr, "bench: a GEMM failed or gave a wrong result\n");
    return 1;
  }

  printf("\n%-22s %10s %10s %7s %12s %12s\n", "GEMM (m x n x k)", "untuned", "tuned", "ratio",
         "1st untuned", "1st tuned");
  double tot[2] = {0, 0};
  int nset = n - 2;
  for (int i = 0; i < n; i++) {
    const bench_shape *b = &shapes[i];
    char name[64];
    snprintf(name, sizeof name, "%zu x %zu x %zu %s%s", b->s.m, b->s.n, b->s.k,
             b->s.trans_a ? "T" : "N", b->s.trans_b ? "T" : "N");
    printf("%-22s %10.1f %10.1f %6.1fx %11.3fs %11.3fs\n", name, b->gflops[0], b->gflops[1],
           b->gflops[0] > 0 ? b->gflops[1] / b->gflops[0] : 0.0, b->first_s[0], b->first_s[1]);
    if (i < nset)
      for (int w = 0; w < 2; w++)
        if (b->gflops[w] > 0)
          tot[w] += 2.0 * (double)b->s.m * (double)b->s.n * (double)b->s.k / (b->gflops[w] * 1e9);
  }
  if (tot[0] > 0 && tot[1] > 0)
    printf("%-22s %8.2fms %8.2fms %6.1fx   (one pass over the training shapes)\n", "training set",
           tot[0] * 1e3, tot[1] * 1e3, tot[0] / tot[1]);
  printf("(GFLOPS; best of 3 timings of back-to-back GEMMs then one wait; '1st' = first call "
         "including CLBlast's program build)\n\n");
  launch_cost(dev);
  for (int i = 0; i < n; i++) release(&shapes[i]);
  clgan_device_close(dev);
  return 0;
}
