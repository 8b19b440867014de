/* What data parallelism costs per step (issue 14, bench/RESULTS.md "Scale"): run under
 * `mpirun -np N` (or alone, N = 1), each rank trains a preset on its device through the
 * library's run (clgan_run_step, the code `clgan train` runs, all-reduces included) and the
 * line printed by rank 0 gives the step time, the gradient bytes a step all-reduces
 * (d_steps x D's arena + G's arena, floats), and, timed apart with the same sizes, the
 * all-reduces alone and the host staging (the arenas read from and written to the device).
 * usage: [mpirun -np N] clgan_bench_dist [--model NAME] [--batch B] [--steps S] [--data DIR]
 *        [--device SEL] */
#define _XOPEN_SOURCE 700 /* mkdtemp, nftw */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clgan/data.h"
#include "clgan/dist.h"
#include "clgan/gan.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* ms per all-reduce of n floats, over reps after one untimed. */
static double time_allreduce(clgan_dist *d, float *buf, size_t n, int reps) {
  if (clgan_dist_allreduce_sum(d, buf, n) || clgan_dist_barrier(d)) return -1;
  double t0 = now_s();
  for (int i = 0; i < reps; i++)
    if (clgan_dist_allreduce_sum(d, buf, n)) return -1;
  return 1e3 * (now_s() - t0) / reps;
}

/* ms to read an arena's gradients to the host and write them back, as the trainer stages. */
static double time_staging(clgan_device *dev, clgan_net *net, float *host, int reps) {
  size_t bytes = net->arena_n * sizeof(float);
  double t0 = now_s();
  for (int i = 0; i < reps; i++)
    if (clgan_buffer_read(dev, &net->grads, 0, bytes, host) ||
        clgan_buffer_write(dev, &net->grads, 0, bytes, host))
      return -1;
  return 1e3 * (now_s() - t0) / reps;
}

int main(int argc, char **argv) {
  const char *model = "dcgan", *data = NULL, *device = NULL;
  int batch = 0, steps = 20, warmup = 3, rc = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--model")) model = argv[i + 1];
    else if (!strcmp(argv[i], "--batch")) batch = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--steps")) steps = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--data")) data = argv[i + 1];
    else if (!strcmp(argv[i], "--device")) device = argv[i + 1];
    else {
      fprintf(stderr, "clgan_bench_dist: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  clgan_dist *dist = NULL;
  if (clgan_dist_init(&dist)) return 1;
  int rank = clgan_dist_rank(dist), ranks = clgan_dist_size(dist);
  clgan_device *dev = NULL;
  clgan_run *r = NULL;
  clgan_train_cfg cfg;
  char dir[] = "/tmp/clgan_bench_dist.XXXXXX";
  float *host = NULL;
  int made = 0;
  if (clgan_preset(model, &cfg) != CLGAN_OK) {
    fprintf(stderr, "clgan_bench_dist: unknown model %s\n", model);
    rc = 2;
    goto done;
  }
  if (batch > 0) cfg.batch = batch;
  cfg.ranks = ranks;
  cfg.epochs = 0;
  cfg.steps = (long)warmup + steps + 1;
  cfg.sample_every = cfg.checkpoint_every = 0;
  clgan_device_cfg dc = {.selector = device};
  clgan_device_cfg_from_env(&dc);
  if (clgan_device_open(&dev, &dc)) goto done;
  if (rank == 0 && !mkdtemp(dir)) goto done;
  made = rank == 0;
  clgan_run_cfg rcfg = {.data_dir = clgan_data_dir(data), .dir = dir, .dist = dist,
                        .log_every = (int)cfg.steps + 1};
  if (clgan_run_open(&r, dev, &cfg, &rcfg, NULL, NULL)) goto done;
  clgan_trainer *t = clgan_run_trainer(r);
  clgan_metrics m;
  for (int i = 0; i < warmup; i++)
    if (clgan_run_step(r)) goto done;
  if (clgan_trainer_metrics(t, &m) || clgan_dist_barrier(dist)) goto done;
  double t0 = now_s();
  for (int i = 0; i < steps; i++)
    if (clgan_run_step(r)) goto done;
  if (clgan_trainer_metrics(t, &m)) goto done; /* waits for the device */
  double step_ms = 1e3 * (now_s() - t0) / steps;
  clgan_net *g = clgan_trainer_generator(t), *d = clgan_trainer_discriminator(t);
  size_t gn = g->arena_n, dn = d->arena_n;
  host = calloc(gn > dn ? gn : dn, sizeof *host);
  if (!host) goto done;
  int reps = 20;
  double ar_d = time_allreduce(dist, host, dn, reps), ar_g = time_allreduce(dist, host, gn, reps);
  double st_d = time_staging(dev, d, host, reps), st_g = time_staging(dev, g, host, reps);
  if (ar_d < 0 || ar_g < 0 || st_d < 0 || st_g < 0) goto done;
  double ar = cfg.d_steps * ar_d + ar_g, st = ranks > 1 ? cfg.d_steps * st_d + st_g : 0;
  double mb = 4e-6 * (double)(cfg.d_steps * dn + gn);
  if (rank == 0)
    printf("clgan dist %s ranks=%d batch_per_rank=%d global_batch=%ld grad_mb_per_step=%.2f "
           "ms_per_step=%.2f img_per_s=%.0f allreduce_ms_per_step=%.3f staging_ms_per_step=%.3f "
           "comm_share=%.1f%% device=\"%s\"\n",
           model, ranks, cfg.batch, clgan_trainer_global_batch(t), mb, step_ms,
           1e3 * (double)clgan_trainer_global_batch(t) * cfg.d_steps / step_ms,
           ranks > 1 ? ar : 0.0, st, ranks > 1 ? 100 * (ar + st) / step_ms : 0.0,
           clgan_device_get_info(dev)->name);
  rc = 0;
done:
  free(host);
  clgan_run_close(r);
  clgan_device_close(dev);
  if (made) nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
  if (rc == 1) clgan_dist_abort(dist, 1, "clgan_bench_dist failed");
  clgan_dist_finalize(dist);
  return rc;
}
