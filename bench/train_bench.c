/* Training throughput: img/s and ms per step of a preset on Fashion-MNIST, measured after a
 * warm-up (kernel builds, CLBlast compiles) with the device drained before and after; then, in
 * a second pass with profiling events, where the device time goes per kernel. The steps are
 * the library's training run (clgan_run_step), the code `clgan train` runs.
 * Prints a line that bench/compare.sh pairs with the PyTorch peer's line, with the GEMM work of
 * a step (the FLOPs of the products clgan_train_gemm_shapes records: the same for the peer,
 * which runs the same model and step) and the GEMM tuning in use.
 *
 * --startup: the time from launch to the end of the first training step, by phase, as
 * `clgan train` goes through them (bench/startup.sh runs it on a cold and a warm PoCL cache). */
#define _XOPEN_SOURCE 700 /* mkdtemp, nftw */
#define _DEFAULT_SOURCE   /* CLOCK_BOOTTIME */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clgan/data.h"
#include "clgan/gan.h"
#include "clgan/io.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int sync_every, log_every, conditional, batch, image_size;

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
  if (batch > 0) cfg.batch = batch;
  if (conditional) cfg.classes = CLGAN_CLASSES_FROM_DATA; /* README "Conditional GANs" */
  clgan_device_cfg dc = {.selector = device, .profile = profile};
  clgan_device_cfg_from_env(&dc);
  if (clgan_device_open(&dev, &dc)) goto done;
  /* 2mnk per product, times its calls per step. */
  double gflop_step = 0;
  if (!profile && !image_size) { /* clgan_train_gemm_shapes builds for 28x28 gray images */
    clgan_tune_shape shapes[CLGAN_TUNE_MAX_SHAPES];
    int nshapes = 0;
    if (clgan_train_gemm_shapes(dev, &cfg, shapes, CLGAN_TUNE_MAX_SHAPES, &nshapes)) goto done;
    for (int i = 0; i < nshapes; i++)
      gflop_step += 2e-9 * (double)shapes[i].m * (double)shapes[i].n * (double)shapes[i].k *
                    (shapes[i].count > 0 ? shapes[i].count : 1);
  }
  if (!mkdtemp(dir)) {
    perror("clgan_bench_train: mkdtemp");
    goto done;
  }
  made = 1;
  clgan_run_cfg rcfg = {.data_dir = data_dir, .dir = dir,
                        .log_every = log_every > 0 ? log_every : (int)cfg.steps + 1};
  rcfg.data.image_size = image_size;
  clgan_run_info rinfo = {0};
  if (clgan_run_open(&r, dev, &cfg, &rcfg, NULL, &rinfo)) goto done;
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
  double t0 = now_s(), wait0 = clgan_trainer_data_wait(t);
  for (int i = 0; i < steps; i++) {
    if (clgan_run_step(r)) goto done;
    if (sync_every > 0 && (i + 1) % sync_every == 0 && clgan_device_finish(dev)) goto done;
  }
  if (clgan_trainer_metrics(t, &m) || clgan_device_finish(dev)) goto done;
  double dt = now_s() - t0, wait = clgan_trainer_data_wait(t) - wait0;
  const clgan_device_info *info = clgan_device_get_info(dev);
  if (!profile) {
    clgan_tuning_status ts;
    char tuning[1400];
    clgan_device_tuning_status(dev, &ts);
    clgan_tuning_describe(&ts, tuning, sizeof tuning);
    printf("clgan %s%s batch=%d steps=%d steps_per_s=%.1f img_per_s=%.0f ms_per_step=%.2f "
           "gemm_gflop_per_step=%.4f gemm_gflops=%.1f device=\"%s\" gemm=%s tuning=\"%s\"\n",
           model, conditional ? " conditional" : "", cfg.batch, steps, steps / dt,
           steps * (double)cfg.batch * cfg.d_steps / dt, 1e3 * dt / steps, gflop_step,
           gflop_step * steps / dt, info->name, clgan_gemm_kind_name(clgan_device_gemm(dev)),
           tuning);
    /* Streamed data (CLGAN_DATA_DEVICE_BUDGET below the set): the host's wait for batches. */
    printf("clgan %s data: %s (%llu bytes, budget %llu) data_wait_ms_per_step=%.3f "
           "data_wait_share=%.2f%%\n", model, rinfo.streamed ? "streamed" : "uploaded",
           rinfo.data_bytes, rinfo.budget, 1e3 * wait / steps, 100 * wait / dt);
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

/* Seconds since this process was started, from /proc/self/stat's start time (clock ticks since
 * boot) against CLOCK_BOOTTIME: exec, the dynamic loader and the libraries' constructors come
 * before main. -1 where /proc is not there. */
static double since_exec(void) {
  FILE *f = fopen("/proc/self/stat", "r");
  if (!f) return -1;
  char buf[1024];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
  unsigned long long start = 0;
  for (int field = 2; p && field < 22; field++) p = strchr(p + 1, ' ');
  if (!p || sscanf(p + 1, "%llu", &start) != 1) return -1;
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec - (double)start / (double)sysconf(_SC_CLK_TCK);
}

/* The phases of `clgan train` up to its first step, each timed: device open (the driver loaded,
 * tuning applied), the training set read and uploaded, the trainer created, the step-0 sample
 * grid (clgan_run_step writes it before the first step: the generator's kernels built, a PNG
 * written), and the first step and its metrics read (the rest of the kernels and CLBlast's GEMM
 * program built). */
static int startup(const char *model, const char *data_dir, const char *device) {
  double t_main = since_exec(), t0 = now_s(), t;
  clgan_device *dev = NULL;
  clgan_trainer *tr = NULL;
  clgan_dataset ds = {0};
  clgan_train_data data = {0};
  float *latent = NULL, *pixels = NULL;
  int rc = 1;
  clgan_train_cfg cfg;
  if (clgan_preset(model, &cfg) != CLGAN_OK) return 2;
  clgan_device_cfg dc = {.selector = device};
  clgan_device_cfg_from_env(&dc);
  if (clgan_device_open(&dev, &dc)) goto done;
  double t_open = (t = now_s()) - t0;
  /* As clgan train reads it: through the data sources, with the decode cache of a gzip'd IDX
   * split (the first run inflates and writes it, later ones map it). */
  if (clgan_dataset_open(data_dir, "train", NULL, &ds, NULL)) goto done;
  double t_read = now_s() - t;
  t = now_s();
  data.count = ds.count;
  data.rows = ds.rows;
  data.cols = ds.cols;
  if (clgan_dataset_upload(dev, &ds, &data.images) || clgan_device_finish(dev)) goto done;
  double t_upload = now_s() - t;
  t = now_s();
  if (clgan_trainer_create(&tr, dev, &cfg, &data)) goto done;
  double t_create = now_s() - t;
  t = now_s();
  int count = cfg.grid * cfg.grid;
  latent = malloc((size_t)count * (size_t)cfg.latent * sizeof *latent);
  pixels = malloc((size_t)count * (size_t)(ds.rows * ds.cols) * sizeof *pixels);
  if (!latent || !pixels) goto done;
  clgan_fixed_latent(latent, count, cfg.latent, cfg.seed);
  if (clgan_generate(clgan_trainer_sampler(tr), latent, count, cfg.latent, pixels) ||
      clgan_png_write_grid("/tmp/clgan_bench_startup.png", pixels, count, 1, ds.rows, ds.cols,
                           cfg.grid, 2))
    goto done;
  remove("/tmp/clgan_bench_startup.png");
  double t_grid = now_s() - t;
  t = now_s();
  clgan_metrics m;
  if (clgan_trainer_step(tr) || clgan_trainer_metrics(tr, &m)) goto done;
  double t_step = now_s() - t;
  clgan_tuning_status ts;
  char tuning[1400];
  clgan_device_tuning_status(dev, &ts);
  clgan_tuning_describe(&ts, tuning, sizeof tuning);
  printf("startup %s: exec to main %.3f s, device open %.3f s, data read %.3f s, upload %.3f s, "
         "trainer %.3f s, step-0 grid %.3f s, first step %.3f s; launch to first step %.3f s "
         "(gemm %s, tuning %s)\n",
         model, t_main, t_open, t_read, t_upload, t_create, t_grid, t_step,
         (t_main > 0 ? t_main : 0) + now_s() - t0, clgan_gemm_kind_name(clgan_device_gemm(dev)),
         tuning);
  rc = 0;
done:
  free(latent);
  free(pixels);
  clgan_trainer_free(tr);
  clgan_buffer_free(&data.images);
  clgan_dataset_free(&ds);
  clgan_device_close(dev);
  return rc;
}

int main(int argc, char **argv) {
  const char *model = "mlp", *data = NULL, *device = NULL;
  int steps = 200, warmup = 20, profile = 1, startup_only = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
    else if (!strcmp(argv[i], "--data") && i + 1 < argc) data = argv[++i];
    else if (!strcmp(argv[i], "--device") && i + 1 < argc) device = argv[++i];
    else if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) warmup = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--no-profile")) profile = 0;
    else if (!strcmp(argv[i], "--conditional")) conditional = 1;
    else if (!strcmp(argv[i], "--startup")) startup_only = 1;
    else if (!strcmp(argv[i], "--sync-every") && i + 1 < argc) sync_every = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--log-every") && i + 1 < argc) log_every = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--image-size") && i + 1 < argc) image_size = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: clgan_bench_train [--model mlp|mlp-bn|mlp-tf] [--steps N] "
                      "[--warmup N] [--data DIR] [--device SEL] [--no-profile] [--sync-every N] "
                      "[--log-every N] [--startup] [--conditional] [--batch N] [--image-size S]\n");
      return 2;
    }
  }
  data = clgan_data_dir(data);
  if (startup_only) return startup(model, data, device);
  if (steps < 1 || warmup < 1) return 2;
  int rc = run(model, data, device, steps, warmup, 0);
  if (rc == 0 && profile) rc = run(model, data, device, steps < 50 ? steps : 50, warmup, 1);
  return rc;
}
