/* Training throughput: img/s and ms per step of a preset on Fashion-MNIST, measured after a
 * warm-up (kernel builds, CLBlast compiles) with the device drained before and after; then, in
 * a second pass with profiling events, where the device time goes per kernel. The steps are
 * the library's training run (clgan_run_step), the code `clgan train` runs.
 * Prints a line that bench/compare.sh pairs with the PyTorch peer's line. */
#define _XOPEN_SOURCE 700 /* mkdtemp, nftw */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clgan/data.h"
#include "clgan/gan.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int sync_every, log_every, conditional;

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* The timed steps are clgan_run_step, the step of `clgan train`: the trainer's step and the
 * run's cadences. The run's bound lies one step past the timed window and samples and
 * checkpoints fall due only at the end, so the window holds no file writes; metrics rows (a
 * blocking read each) only with --log-every. The run folder is a scratch folder, removed. */
static int run(const char *model, const char *data_dir, const char *device, int steps,
               int warmup, int profile) {
  clgan_device *dev = NULL;
  clgan_run *r = NULL;
  clgan_train_cfg cfg;
  char dir[] = "/tmp/clgan_bench_train.XXXXXX";
  int rc = 1, made = 0;
  if (clgan_preset(model, &cfg) != CLGAN_OK) {
    fprintf(stderr, "unknown model %s\n", model);
    return 2;
  }
  cfg.epochs = 0;
  cfg.steps = (long)warmup + steps + 1;
  cfg.sample_every = cfg.checkpoint_every = 0;
  if (conditional) cfg.classes = CLGAN_CLASSES_FROM_DATA; /* README "Conditional GANs" */
  clgan_device_cfg dc = {.selector = device, .profile = profile};
  clgan_device_cfg_from_env(&dc);
  if (clgan_device_open(&dev, &dc)) goto done;
  if (!mkdtemp(dir)) {
    perror("clgan_bench_train: mkdtemp");
    goto done;
  }
  made = 1;
  clgan_run_cfg rcfg = {.data_dir = data_dir, .dir = dir,
                        .log_every = log_every > 0 ? log_every : (int)cfg.steps + 1};
  if (clgan_run_open(&r, dev, &cfg, &rcfg, NULL, NULL)) goto done;
  clgan_trainer *t = clgan_run_trainer(r);
  for (int i = 0; i < warmup; i++)
    if (clgan_run_step(r)) goto done;
  clgan_metrics m;
  if (clgan_trainer_metrics(t, &m) || clgan_device_finish(dev)) goto done;
  if (profile) {
    clgan_profile_entry *e = NULL;
    int n = 0;
    clgan_profile_collect(dev, &e, &n); /* drop the warm-up's events */
    free(e);
  }
  double t0 = now_s();
  for (int i = 0; i < steps; i++) {
    if (clgan_run_step(r)) goto done;
    if (sync_every > 0 && (i + 1) % sync_every == 0 && clgan_device_finish(dev)) goto done;
  }
  if (clgan_trainer_metrics(t, &m) || clgan_device_finish(dev)) goto done;
  double dt = now_s() - t0;
  const clgan_device_info *info = clgan_device_get_info(dev);
  if (!profile) {
    printf("clgan %s%s batch=%d steps=%d steps_per_s=%.1f img_per_s=%.0f ms_per_step=%.2f "
           "device=\"%s\"\n",
           model, conditional ? " conditional" : "", cfg.batch, steps, steps / dt, steps * (double)cfg.batch * cfg.d_steps / dt,
           1e3 * dt / steps, info->name);
  } else {
    clgan_profile_entry *e = NULL;
    int n = 0;
    if (clgan_profile_collect(dev, &e, &n)) goto done;
    double sum = 0;
    for (int i = 0; i < n; i++) sum += e[i].ms;
    printf("clgan %s: device time per step by kernel (profiled pass, %.2f ms/step of device "
           "time, %.2f ms/step wall)\n", model, sum / steps, 1e3 * dt / steps);
    for (int i = 0; i < n; i++)
      printf("  %-22s %6.1f calls/step %8.3f ms/step %5.1f%%\n", e[i].name,
             (double)e[i].calls / steps, e[i].ms / steps, 100 * e[i].ms / sum);
    free(e);
  }
  rc = 0;
done:
  clgan_run_close(r);
  clgan_device_close(dev);
  if (made) nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
  return rc;
}

int main(int argc, char **argv) {
  const char *model = "mlp", *data = NULL, *device = NULL;
  int steps = 200, warmup = 20, profile = 1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
    else if (!strcmp(argv[i], "--data") && i + 1 < argc) data = argv[++i];
    else if (!strcmp(argv[i], "--device") && i + 1 < argc) device = argv[++i];
    else if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) warmup = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--no-profile")) profile = 0;
    else if (!strcmp(argv[i], "--conditional")) conditional = 1;
    else if (!strcmp(argv[i], "--sync-every") && i + 1 < argc) sync_every = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--log-every") && i + 1 < argc) log_every = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: clgan_bench_train [--model mlp|mlp-bn|mlp-tf] [--steps N] "
                      "[--warmup N] [--data DIR] [--device SEL] [--no-profile] [--sync-every N] "
                      "[--log-every N] [--conditional]\n");
      return 2;
    }
  }
  data = clgan_data_dir(data);
  if (steps < 1 || warmup < 1) return 2;
  int rc = run(model, data, device, steps, warmup, 0);
  if (rc == 0 && profile) rc = run(model, data, device, steps < 50 ? steps : 50, warmup, 1);
  return rc;
}
