/* clgan gemm-check: a quick proof that the device and its GEMM code (CLBlast, or clgan's packed
 * kernels on a CPU) work — GEMMs of the shapes
 * training uses, in every transpose combination, against the C reference, with their speed. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "util/clock.h"

static float rnd(unsigned *s) {
  *s = *s * 1664525u + 1013904223u;
  return (float)((*s >> 8) & 0xFFFF) / 32768.0f - 1.0f;
}

int cmd_gemm_check(int argc, char **argv) {
  const char *sel = NULL;
  int reps = 20;
  const cli_opt opts[] = {
      {"device", "SEL", CLI_STR, &sel, "OpenCL device (index, P:D, type or name; $CLGAN_DEVICE)", NULL},
      {"reps", "N", CLI_INT, &reps, "timed repetitions per shape", NULL},
  };
  int rc = cli_parse("gemm-check", "Runs GEMMs of the MLP GAN's shapes on the device through "
                     "its GEMM code (CLBlast,\nor clgan's packed kernels on a CPU device; "
                     "$CLGAN_GEMM chooses), checks each against a C\nreference and prints its "
                     "GFLOPS.",
                     opts, 2, argc, argv);
  if (rc) return rc < 0 ? 0 : rc;
  if (reps < 1) {
    fprintf(stderr, "clgan gemm-check: error: --reps must be at least 1\n");
    return CLGAN_EXIT_USAGE;
  }
  clgan_device *dev = NULL;
  clgan_status st = cli_open_device(sel, 0, &dev);
  if (st != CLGAN_OK) return cli_exit_code(st);
  const clgan_device_info *info = clgan_device_get_info(dev);
  char gemm[160];
  clgan_device_gemm_describe(dev, gemm, sizeof gemm);
  printf("device %d (%d:%d): %s [%s]\nGEMM: %s\n", info->index, info->platform, info->device,
         info->name, info->platform_name, gemm);

  /* (m, n, k, trans_a, trans_b): the forward, input-gradient and weight-gradient products of a
   * 128-sample batch through the mlp GAN's 784x256 layer. */
  static const size_t shapes[][5] = {
      {128, 256, 784, 0, 1}, {128, 784, 256, 0, 0}, {256, 784, 128, 1, 0}, {128, 128, 100, 0, 1},
  };
  int failures = 0;
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0] && st == CLGAN_OK; s++) {
    size_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
    int ta = (int)shapes[s][3], tb = (int)shapes[s][4];
    clgan_gemm_args g = {.trans_a = ta, .trans_b = tb, .m = m, .n = n, .k = k, .alpha = 1.0f,
                         .beta = 0.0f, .lda = ta ? m : k, .ldb = tb ? k : n, .ldc = n};
    float *a = malloc(m * k * sizeof *a), *b = malloc(k * n * sizeof *b);
    float *c = malloc(m * n * sizeof *c), *ref = malloc(m * n * sizeof *ref);
    clgan_buffer da = {0}, db = {0}, dc = {0};
    unsigned seed = 42u + (unsigned)s;
    if (!a || !b || !c || !ref) {
      st = CLGAN_HOST_OUT_OF_MEMORY;
      goto next;
    }
    for (size_t i = 0; i < m * k; i++) a[i] = rnd(&seed);
    for (size_t i = 0; i < k * n; i++) b[i] = rnd(&seed);
    if ((st = clgan_buffer_alloc(dev, &da, m * k * 4)) || (st = clgan_buffer_alloc(dev, &db, k * n * 4)) ||
        (st = clgan_buffer_alloc(dev, &dc, m * n * 4)) || (st = clgan_buffer_write(dev, &da, 0, m * k * 4, a)) ||
        (st = clgan_buffer_write(dev, &db, 0, k * n * 4, b)))
      goto next;
    g.a = &da;
    g.b = &db;
    g.c = &dc;
    if ((st = clgan_gemm(dev, &g)) || (st = clgan_buffer_read(dev, &dc, 0, m * n * 4, c))) goto next;
    clgan_gemm_reference(&g, a, b, ref);
    double max_err = clgan_gemm_error_ratio(k, c, ref, m * n, NULL);
    double t0 = clgan_now_s();
    for (int r = 0; r < reps && st == CLGAN_OK; r++) st = clgan_gemm(dev, &g);
    if (st == CLGAN_OK) st = clgan_device_finish(dev);
    double dt = (clgan_now_s() - t0) / reps;
    int ok = max_err <= 1.0;
    failures += !ok;
    printf("  gemm %4zu x %4zu x %4zu  %s%s  %7.2f GFLOPS  error/tolerance %.3f  %s\n", m, n, k,
           ta ? "T" : "N", tb ? "T" : "N", 2.0 * m * n * k / dt * 1e-9, max_err,
           ok ? "ok" : "MISMATCH");
  next:
    clgan_buffer_free(&da);
    clgan_buffer_free(&db);
    clgan_buffer_free(&dc);
    free(a);
    free(b);
    free(c);
    free(ref);
  }
  clgan_device_close(dev);
  if (st != CLGAN_OK) return cli_exit_code(st);
  if (failures) {
    fprintf(stderr, "clgan gemm-check: error: %d GEMM result(s) differ from the reference\n",
            failures);
    return CLGAN_EXIT_FAILURE;
  }
  printf("gemm-check: all results match the reference\n");
  return 0;
}
