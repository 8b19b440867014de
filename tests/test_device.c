/* The device layer: listing, opening, buffers and views, run-time kernels from a folder,
 * the launch function, profiling (counts, and times that are positive and no longer than the
 * wall clock around them), and the build-log path for a kernel that fails to compile. Every
 * status is checked. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static char logged[16384];

static void capture(const char *level, const char *text, void *user) {
  (void)user;
  size_t used = strlen(logged);
  snprintf(logged + used, sizeof logged - used, "%s: %s\n", level, text);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

#define CHECK_ST(call)                                                                \
  do {                                                                                \
    clgan_status st_ = (call);                                                        \
    CHECK(st_ == CLGAN_OK, "%s: %s", #call, clgan_status_name(st_));                  \
  } while (0)

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  CHECK(f != NULL, "cannot write %s", path);
  if (!f) return;
  fputs(text, f);
  fclose(f);
}

int main(void) {
  clgan_device_info *list = NULL;
  int count = 0;
  clgan_status st = clgan_devices_list(&list, &count);
  clgan_device *dev = test_open_device(); /* skips or fails here when there is no device */
  CHECK(st == CLGAN_OK && count > 0, "devices_list: %s, %d devices", clgan_status_name(st), count);
  for (int i = 0; i < count; i++) {
    CHECK(list[i].index == i, "flat indices are 0..n-1 in order");
    CHECK(list[i].name[0] != '\0' && list[i].compute_units > 0 && list[i].global_mem > 0,
          "device %d reports name, compute units and memory", i);
  }
  free(list);
  const clgan_device_info *info = clgan_device_get_info(dev);
  printf("device under test: %s [%s]\n", info->name, info->platform_name);

  /* Buffers, views and transfers. */
  size_t align = clgan_device_align(dev);
  CHECK(align >= 256 && (align & (align - 1)) == 0, "alignment %zu is a power of two >= 256", align);
  clgan_buffer buf = {0}, view = {0}, badview = {0};
  size_t total = 2 * align + 1024;
  CHECK(clgan_buffer_alloc(dev, &buf, total) == CLGAN_OK, "alloc");
  float host[256], back[256];
  for (int i = 0; i < 256; i++) host[i] = (float)i;
  CHECK(clgan_buffer_zero(dev, &buf) == CLGAN_OK, "zero");
  CHECK(clgan_buffer_write(dev, &buf, align, sizeof host, host) == CLGAN_OK, "write at offset");
  CHECK(clgan_buffer_view(dev, &buf, align, sizeof host, &view) == CLGAN_OK, "view");
  CHECK(clgan_buffer_read(dev, &view, 0, sizeof back, back) == CLGAN_OK, "read through view");
  CHECK(memcmp(host, back, sizeof host) == 0, "a view sees its parent's bytes");
  CHECK(clgan_buffer_view(dev, &buf, 4, 16, &badview) == CLGAN_INVALID_ARGUMENT,
        "a misaligned view is refused");
  CHECK(clgan_buffer_view(dev, &buf, 0, total + align, &badview) == CLGAN_INVALID_ARGUMENT,
        "a view past the end is refused");
  CHECK(clgan_buffer_read(dev, &buf, total - 4, 8, back) == CLGAN_INVALID_ARGUMENT,
        "a read past the end is refused");

  /* The embedded kernels build. */
  clgan_kernel *k = NULL;
  CHECK(clgan_kernel_get(dev, "bench.cl", "noop", &k) == CLGAN_OK && k, "embedded bench.cl builds");
  clgan_kernel *k2 = NULL;
  CHECK_ST(clgan_kernel_get(dev, "bench.cl", "noop", &k2));
  CHECK(k != NULL && k == k2, "a kernel handle is cached");
  clgan_set_log(capture, NULL);
  CHECK(clgan_kernel_get(dev, "bench.cl", "no_such_kernel", &k) == CLGAN_KERNEL_NOT_FOUND,
        "a missing kernel name is KERNEL_NOT_FOUND");
  CHECK(clgan_kernel_get(dev, "no_such_file.cl", "x", &k) == CLGAN_KERNEL_NOT_FOUND,
        "a missing kernel file is KERNEL_NOT_FOUND");
  clgan_set_log(NULL, NULL);
  clgan_device_close(dev);

  /* Kernels from a folder (CLGAN_KERNEL_DIR), a launch, profiling, and a broken kernel. */
  char dir[] = "/tmp/clgan-test-kernels-XXXXXX";
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  char path[256];
  snprintf(path, sizeof path, "%s/axpy.cl", dir);
  write_text(path,
             "__kernel void axpy_forward(__global float *y, __global const float *x, float a,"
             " int n) {\n  int i = get_global_id(0);\n  if (i >= n) return;\n"
             "  y[i] += a * x[i];\n}\n");
  snprintf(path, sizeof path, "%s/broken.cl", dir);
  write_text(path, "__kernel void broken_forward(__global float *y) {\n  y[0] = undeclared_thing;\n}\n");
  dev = test_open_device_cfg((clgan_device_cfg){.kernel_dir = dir, .profile = 1});
  CHECK(clgan_kernel_get(dev, "axpy.cl", "axpy_forward", &k) == CLGAN_OK, "axpy.cl from a folder");
  clgan_buffer x = {0}, y = {0};
  int n = 1000; /* not a multiple of the work-group size: the kernel guards its index */
  float *hx = malloc((size_t)n * 4), *hy = malloc((size_t)n * 4), *want = malloc((size_t)n * 4);
  for (int i = 0; i < n; i++) {
    hx[i] = (float)i;
    hy[i] = 1.0f;
    want[i] = 1.0f + 0.5f * (float)i;
  }
  CHECK_ST(clgan_buffer_alloc(dev, &x, (size_t)n * 4));
  CHECK_ST(clgan_buffer_alloc(dev, &y, (size_t)n * 4 + 64));
  CHECK_ST(clgan_buffer_write(dev, &x, 0, (size_t)n * 4, hx));
  CHECK_ST(clgan_buffer_write(dev, &y, 0, (size_t)n * 4, hy));
  double t0 = now_ms();
  st = CLGAN_LAUNCH(dev, k, CLGAN_RANGE_1D(n), CLGAN_BUF(&y), CLGAN_BUF(&x), CLGAN_FLOAT(0.5f),
                    CLGAN_INT(n));
  CHECK(st == CLGAN_OK, "launch: %s", clgan_status_name(st));
  st = CLGAN_LAUNCH(dev, k, CLGAN_RANGE_1D(n), CLGAN_BUF(&y), CLGAN_BUF(&x), CLGAN_FLOAT(0.0f),
                    CLGAN_INT(n));
  CHECK(st == CLGAN_OK, "second launch: %s", clgan_status_name(st));
  CHECK_ST(clgan_buffer_read(dev, &y, 0, (size_t)n * 4, hy)); /* blocking: both launches ended */
  double wall = now_ms() - t0;
  CHECK_CLOSE("axpy through clgan_launch", hy, want, (size_t)n, 0, 0);
  clgan_profile_entry *prof = NULL;
  int nprof = 0;
  CHECK(clgan_profile_collect(dev, &prof, &nprof) == CLGAN_OK, "profile collect");
  CHECK(nprof == 1 && !strcmp(prof[0].name, "axpy_forward") && prof[0].calls == 2,
        "profile has axpy_forward twice (got %d entries, first %s x %ld)", nprof,
        nprof ? prof[0].name : "-", nprof ? prof[0].calls : 0L);
  /* Device time of two launches: more than nothing, and within the host's wall clock around
   * them (the events' start and end lie inside it), so a unit slip (ns or s as ms) fails. */
  double ms = nprof ? prof[0].ms : -1;
  CHECK(isfinite(ms) && ms > 0 && ms <= wall + 0.01, "axpy_forward device time %.6f ms, "
        "wall clock around it %.3f ms", ms, wall);
  printf("two axpy launches: %.4f ms on the device, %.3f ms wall clock\n", ms, wall);
  free(prof);
  CHECK(clgan_profile_collect(dev, &prof, &nprof) == CLGAN_OK && nprof == 0,
        "collecting clears the record (%d entries left)", nprof);
  free(prof);

  logged[0] = '\0';
  clgan_set_log(capture, NULL);
  st = clgan_kernel_get(dev, "broken.cl", "broken_forward", &k);
  clgan_set_log(NULL, NULL);
  CHECK(st == CLGAN_BUILD_FAILED, "a kernel that does not compile is BUILD_FAILED, got %s",
        clgan_status_name(st));
  CHECK(strstr(logged, "broken.cl") != NULL, "the error names the file: %s", logged);
  CHECK(strstr(logged, "undeclared_thing") != NULL, "the error carries the build log: %s", logged);
  printf("build failure report:\n%s", logged);

  clgan_buffer_free(&x);
  clgan_buffer_free(&y);
  clgan_buffer_free(&view);
  clgan_buffer_free(&buf);
  clgan_buffer_free(&view); /* free twice is harmless */
  clgan_device_close(dev);
  clgan_device_close(NULL);
  remove(path);
  snprintf(path, sizeof path, "%s/axpy.cl", dir);
  remove(path);
  rmdir(dir);
  free(hx);
  free(hy);
  free(want);
  return test_finish();
}
