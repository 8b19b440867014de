/* The test harness: checks that count failures (a test returns non-zero if any failed),
 * tolerance comparisons, and opening the device under test. Every test ends with
 * `return test_finish();`. */
#ifndef CLGAN_TEST_HARNESS_H
#define CLGAN_TEST_HARNESS_H

#include <stddef.h>

#include "clgan/device.h"

extern int test_failures;
extern int test_checks;

void test_fail_at(const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#define CHECK(cond, ...)                                 \
  do {                                                   \
    test_checks++;                                       \
    if (!(cond)) test_fail_at(__FILE__, __LINE__, __VA_ARGS__); \
  } while (0)

/* Compares n values: |got - want| <= atol + rtol * |want|, NaN never passes. Reports the worst
 * element under `what` and returns 1 if all pass. */
int check_close(const char *what, const float *got, const float *want, size_t n, double atol,
                double rtol);
#define CHECK_CLOSE(what, got, want, n, atol, rtol) \
  do {                                              \
    test_checks++;                                  \
    if (!check_close(what, got, want, n, atol, rtol)) test_fail_at(__FILE__, __LINE__, "%s", what); \
  } while (0)

/* Opens the device under test ($CLGAN_DEVICE or the default). No device: exit 77 (skip), or
 * a failure when $CI is set to true or 1. */
clgan_device *test_open_device(void);
/* Same, with profiling on. */
clgan_device *test_open_device_cfg(clgan_device_cfg cfg);

/* Deterministic uniform floats in [lo, hi). */
void test_fill_uniform(float *x, size_t n, float lo, float hi, unsigned long long *state);

/* Runs clgan_gemm with g's shape, transposes, alpha, beta, offsets and leading dimensions (its
 * buffers are ignored) on random A, B and C, and checks all of C, offsets and padding included,
 * against clgan_gemm_reference within clgan_gemm_tolerance; `what` names the case. */
void test_gemm_case(clgan_device *dev, clgan_gemm_args g, unsigned long long *rng,
                    const char *what);
/* The same through clgan_gemm_ex with a bias added after alpha and beta: bias[i] on row i
 * (bias 1) or bias[j] on column j (bias 2); bias 0 is test_gemm_case (clgan_gemm). */
void test_gemm_case_bias(clgan_device *dev, clgan_gemm_args g, int bias, unsigned long long *rng,
                         const char *what);

/* Collects (and so clears) dev's profile and returns its entry named `name`, all zero if there
 * is none; *entries (may be NULL) gets the number of entries. */
clgan_profile_entry test_profile_take(clgan_device *dev, const char *name, int *entries);

/* Prints a summary and returns the process exit code. */
int test_finish(void);

#endif
