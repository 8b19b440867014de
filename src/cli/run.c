/* The training run: loads the data onto the device, builds or resumes the trainer, and loops —
 * step, metrics every --log-every steps (the only waits on the device), sample grids, atomic
 * checkpoints, the loss plot — until a bound or a signal ends it. */
#include "cli/run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/evalcli.h"
#include "clgan/data.h"
#include "clgan/io.h"
#include "util/fsutil.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const char *const csv_columns[] = {"step", "epoch", "d_loss", "g_loss", "d_real",
                                          "d_fake", "acc_real", "acc_fake", "acc", "img_per_s",
                                          "wall_s"};
enum { CSV_NCOLS = sizeof csv_columns / sizeof csv_columns[0] };

/* Loss history for losses.png; on resume it is reloaded from metrics.csv. */
typedef struct {
  float *step, *d_loss, *g_loss;
  int n, cap;
} history;

static void history_push(history *h, double step, double d, double g) {
  if (h->n == h->cap) {
    int cap = h->cap ? 2 * h->cap : 256;
    float *a = realloc(h->step, (size_t)cap * sizeof *a);
    if (a) h->step = a;
    float *b = realloc(h->d_loss, (size_t)cap * sizeof *b);
    if (b) h->d_loss = b;
    float *c = realloc(h->g_loss, (size_t)cap * sizeof *c);
    if (c) h->g_loss = c;
    if (!a || !b || !c) return; /* the plot loses a point; training goes on */
    h->cap = cap;
  }
  h->step[h->n] = (float)step;
  h->d_loss[h->n] = (float)d;
  h->g_loss[h->n] = (float)g;
  h->n++;
}

/* Called after clgan_csv_open has kept the resumed log's rows up to the checkpoint and dropped
 * a partial last line, so the file reads cleanly; a log that is not there is no history. */
static void history_load(history *h, const char *csv_path, long up_to_step) {
  clgan_csv_table tab = {0};
  if (access(csv_path, F_OK) != 0 || clgan_csv_read(csv_path, &tab) != CLGAN_OK) return;
  int cs = clgan_csv_column(&tab, "step"), cd = clgan_csv_column(&tab, "d_loss");
  int cg = clgan_csv_column(&tab, "g_loss");
  for (int i = 0; cs >= 0 && cd >= 0 && cg >= 0 && i < tab.rows; i++) {
    const double *row = tab.values + (size_t)i * (size_t)tab.ncols;
    if (row[cs] <= (double)up_to_step) history_push(h, row[cs], row[cd], row[cg]);
  }
  clgan_csv_table_free(&tab);
}

static void history_free(history *h) {
  free(h->step);
  free(h->d_loss);
  free(h->g_loss);
}

static clgan_status write_plot(const char *dir, const history *h) {
  if (h->n < 2) return CLGAN_OK;
  char path[1200];
  snprintf(path, sizeof path, "%s/losses.png", dir);
  clgan_plot_series s[2] = {
      {.name = "D loss", .x = h->step, .y = h->d_loss, .n = h->n, .rgb = {31, 119, 180}},
      {.name = "G loss", .x = h->step, .y = h->g_loss, .n = h->n, .rgb = {214, 39, 40}},
  };
  return clgan_plot_lines(path, s, 2, "Losses", "step");
}

/* --eval-every: the classifier, the evaluator holding the real reference, the fixed latent
 * vectors (clgan eval's, seed 1: `clgan eval --checkpoint` at that step gives the same figures),
 * eval.csv and the history behind eval.png. */
static const char *const eval_columns[] = {"step", "fid", "kid", "kid_std", "precision",
                                           "recall", "density", "coverage", "class_entropy",
                                           "mean_conf", "eval_s"};
enum { EVAL_NCOLS = sizeof eval_columns / sizeof eval_columns[0] };

typedef struct {
  clgan_classifier *clf;
  clgan_evaluator *ev;
  clgan_csv *csv;
  float *latent, *pixels;
  int count;
  history hist; /* step, FID (as d_loss), KID (as g_loss) */
  double best_fid, seconds;
  long best_step;
  int runs;
} run_eval;

static void run_eval_free(run_eval *e) {
  /* A run that ends well closed eval.csv already and checked it; here the run is failing, and
   * a failed close is reported by clgan_csv_close. */
  (void)clgan_csv_close(e->csv);
  clgan_evaluator_free(e->ev);
  clgan_classifier_free(e->clf);
  free(e->latent);
  free(e->pixels);
  history_free(&e->hist);
}

/* Rows of an earlier eval.csv up to the step a run resumes from: the plot's history and the
 * best FID so far. */
static void run_eval_reload(run_eval *e, const char *csv_path, long up_to_step) {
  clgan_csv_table tab = {0};
  if (clgan_csv_read(csv_path, &tab) != CLGAN_OK) return;
  int cs = clgan_csv_column(&tab, "step"), cf = clgan_csv_column(&tab, "fid");
  int ck = clgan_csv_column(&tab, "kid");
  for (int i = 0; cs >= 0 && cf >= 0 && ck >= 0 && i < tab.rows; i++) {
    const double *row = tab.values + (size_t)i * (size_t)tab.ncols;
    if (row[cs] > (double)up_to_step) continue;
    history_push(&e->hist, row[cs], row[cf], row[ck]);
    if (row[cf] < e->best_fid) {
      e->best_fid = row[cf];
      e->best_step = (long)row[cs];
    }
  }
  clgan_csv_table_free(&tab);
}

static clgan_status run_eval_open(run_eval *e, clgan_device *dev, const clgan_run_options *ro,
                                  const char *data_dir, const clgan_dataset *ds, int latent,
                                  const char *dir, long start_step) {
  clgan_status st;
  char path[1200];
  e->best_fid = INFINITY;
  e->best_step = -1;
  e->count = ro->eval_count;
  if ((st = cli_classifier_for_data(dev, ro->classifier, data_dir, ds, ro->quiet, &e->clf, NULL,
                                    0)))
    return st;
  clgan_eval_cfg ecfg = {0};
  if ((st = clgan_evaluator_create(&e->ev, dev, e->clf, ds, e->count, &ecfg))) return st;
  e->latent = malloc((size_t)e->count * (size_t)latent * sizeof *e->latent);
  e->pixels = malloc((size_t)e->count * (size_t)(ds->rows * ds->cols) * sizeof *e->pixels);
  if (!e->latent || !e->pixels) return CLGAN_HOST_OUT_OF_MEMORY;
  clgan_fixed_latent(e->latent, e->count, latent, 1);
  snprintf(path, sizeof path, "%s/eval.csv", dir);
  if (ro->resume) run_eval_reload(e, path, start_step);
  clgan_csv_cfg cfg = {.path = path, .columns = eval_columns, .ncols = EVAL_NCOLS,
                       .append = ro->resume != NULL, .keep_until_set = ro->resume != NULL,
                       .keep_until = (double)start_step};
  return clgan_csv_open(&e->csv, &cfg);
}

/* FID and KID on one chart: KID's scale depends on the features' magnitude (the cubic kernel),
 * so it is drawn times the power of ten that brings its largest value nearest FID's. */
static clgan_status run_eval_plot(const run_eval *e, const char *dir) {
  const history *h = &e->hist;
  if (h->n < 1) return CLGAN_OK;
  double max_fid = 0, max_kid = 0;
  for (int i = 0; i < h->n; i++) {
    if (h->d_loss[i] > max_fid) max_fid = h->d_loss[i];
    if (h->g_loss[i] > max_kid) max_kid = h->g_loss[i];
  }
  int power = max_fid > 0 && max_kid > 0 ? (int)lround(log10(max_fid / max_kid)) : 0;
  if (power < 0) power = 0;
  if (power > 9) power = 9;
  float scale = (float)pow(10.0, power);
  float *kid = malloc((size_t)h->n * sizeof *kid);
  if (!kid) return CLGAN_HOST_OUT_OF_MEMORY;
  for (int i = 0; i < h->n; i++) kid[i] = h->g_loss[i] * scale;
  char path[1200], label[32];
  snprintf(path, sizeof path, "%s/eval.png", dir);
  snprintf(label, sizeof label, power ? "KID x %.0f" : "KID", (double)scale);
  clgan_plot_series s[2] = {
      {.name = "FID", .x = h->step, .y = h->d_loss, .n = h->n, .rgb = {31, 119, 180}},
      {.name = label, .x = h->step, .y = kid, .n = h->n, .rgb = {214, 39, 40}},
  };
  clgan_status st = clgan_plot_lines(path, s, 2, "Evaluation (lower is better)", "step");
  free(kid);
  return st;
}

/* One evaluation of G at this step: a row of eval.csv, eval.png, and with --keep-best the
 * checkpoint of the lowest FID so far. */
static clgan_status run_eval_step(run_eval *e, clgan_trainer *t, const clgan_run_options *ro,
                                  const char *dir) {
  clgan_status st;
  double t0 = now_s();
  long step = clgan_trainer_step_count(t);
  const clgan_train_cfg *cfg = clgan_trainer_cfg(t);
  clgan_eval_result r;
  if ((st = clgan_generate(clgan_trainer_generator(t), e->latent, e->count, cfg->latent,
                           e->pixels)) ||
      (st = clgan_evaluator_score(e->ev, e->pixels, e->count, NULL, &r)))
    return st;
  double secs = now_s() - t0;
  e->seconds += secs;
  e->runs++;
  double row[EVAL_NCOLS] = {(double)step, r.fid, r.kid_mean, r.kid_std, r.prdc.precision,
                            r.prdc.recall, r.prdc.density, r.prdc.coverage, r.classes.entropy,
                            r.classes.mean_conf, secs};
  if ((st = clgan_csv_row(e->csv, row, EVAL_NCOLS))) return st;
  history_push(&e->hist, (double)step, r.fid, r.kid_mean);
  /* A figure that failed (reported where it failed) is redrawn at the next evaluation; eval.csv
   * holds its data, so the run goes on. */
  if (run_eval_plot(e, dir) != CLGAN_OK)
    fprintf(stderr, "clgan train: warning: eval.png not updated; training goes on (eval.csv "
                    "holds the figures)\n");
  int best = r.fid < e->best_fid;
  if (best) {
    e->best_fid = r.fid;
    e->best_step = step;
  }
  if (best && ro->keep_best) {
    char path[1200];
    snprintf(path, sizeof path, "%s/checkpoint-best.safetensors", dir);
    if ((st = clgan_trainer_save(t, path))) return st;
  }
  if (!ro->quiet) {
    printf("%seval step %ld: FID %.3f  KID %.5f  precision %.3f  recall %.3f  density %.3f  "
           "coverage %.3f  class entropy %.3f  (%.1f s)%s\n",
           isatty(STDOUT_FILENO) ? "\r\033[K" : "", step, r.fid, r.kid_mean, r.prdc.precision,
           r.prdc.recall, r.prdc.density, r.prdc.coverage, r.classes.entropy, secs,
           best && ro->keep_best ? "  best so far: checkpoint-best.safetensors" : "");
    fflush(stdout);
  }
  return CLGAN_OK;
}

static clgan_status write_samples(clgan_trainer *t, const char *dir, const float *latent,
                                  int count, int rows, int cols, float *pixels) {
  char path[1200];
  snprintf(path, sizeof path, "%s/samples/step_%06ld.png", dir, clgan_trainer_step_count(t));
  const clgan_train_cfg *cfg = clgan_trainer_cfg(t);
  clgan_status st = clgan_generate(clgan_trainer_generator(t), latent, count, cfg->latent, pixels);
  if (st != CLGAN_OK) return st;
  return clgan_png_write_grid(path, pixels, count, 1, rows, cols, cfg->grid, 2);
}

static void format_eta(char *out, size_t size, double seconds) {
  if (!(seconds >= 0) || seconds > 1e7) {
    snprintf(out, size, "--:--");
    return;
  }
  long s = (long)seconds;
  if (s >= 3600)
    snprintf(out, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else
    snprintf(out, size, "%02ld:%02ld", s / 60, s % 60);
}

int clgan_run_training(const clgan_train_cfg *cfg_in, const clgan_run_options *ro,
                       volatile sig_atomic_t *stop) {
  clgan_status st = CLGAN_OK;
  clgan_train_cfg cfg = *cfg_in;
  clgan_device *dev = NULL;
  clgan_dataset ds = {0};
  clgan_train_data data = {0};
  clgan_trainer *t = NULL;
  clgan_csv *csv = NULL;
  history hist = {0};
  run_eval eval = {0};
  float *latent = NULL, *pixels = NULL;
  char dir[1024], path[1200];
  int tty = isatty(STDOUT_FILENO) && !ro->quiet;

  const char *data_dir = cli_data_dir(ro->data_dir);
  if (ro->out_dir) {
    snprintf(dir, sizeof dir, "%s", ro->out_dir);
  } else if (ro->resume) {
    snprintf(dir, sizeof dir, "%s", ro->resume);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");
  } else {
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf(dir, sizeof dir, "runs/%s-%s", stamp, cfg.model);
  }

  if ((st = cli_open_device(ro->device, ro->profile, &dev))) goto done;
  if ((st = clgan_dataset_load(data_dir, "train", &ds))) goto done;
  data.count = ds.count;
  data.rows = ds.rows;
  data.cols = ds.cols;
  if ((st = clgan_dataset_upload(dev, &ds, &data.images))) goto done;
  if ((st = clgan_trainer_create(&t, dev, &cfg, &data))) {
    if (st == CLGAN_INVALID_ARGUMENT && cfg.batch > data.count)
      fprintf(stderr, "clgan train: error: use --batch %d or less with this data set\n",
              data.count);
    goto done;
  }
  if (ro->resume && (st = clgan_trainer_load(t, ro->resume))) goto done;

  snprintf(path, sizeof path, "%s/samples", dir);
  if ((st = clgan_make_dirs(path))) goto done;
  snprintf(path, sizeof path, "%s/metrics.csv", dir);
  long start_step = clgan_trainer_step_count(t);
  clgan_csv_cfg csv_cfg = {.path = path, .columns = csv_columns, .ncols = CSV_NCOLS,
                           .append = ro->resume != NULL, .keep_until_set = ro->resume != NULL,
                           .keep_until = (double)start_step};
  if ((st = clgan_csv_open(&csv, &csv_cfg))) goto done;
  if (ro->resume) history_load(&hist, path, start_step);
  if (ro->eval_every > 0 &&
      (st = run_eval_open(&eval, dev, ro, data_dir, &ds, cfg.latent, dir, start_step)))
    goto done;

  long per_epoch = clgan_trainer_steps_per_epoch(t);
  long total = cfg.steps;
  if (cfg.epochs > 0 && (total == 0 || (long)cfg.epochs * per_epoch < total))
    total = (long)cfg.epochs * per_epoch;
  int count = cfg.grid * cfg.grid;
  latent = malloc((size_t)count * (size_t)cfg.latent * sizeof *latent);
  pixels = malloc((size_t)count * (size_t)(ds.rows * ds.cols) * sizeof *pixels);
  if (!latent || !pixels) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto done;
  }
  clgan_fixed_latent(latent, count, cfg.latent, cfg.seed);
  const clgan_device_info *info = clgan_device_get_info(dev);
  if (!ro->quiet)
    printf("clgan train: %s on %s [%s]\n  data %s: %d images %dx%d\n  G %s\n  D %s\n"
           "  batch %d, %ld steps (%ld per epoch)%s, run folder %s\n",
           cfg.model, info->name, info->platform_name, data_dir, ds.count, ds.rows, ds.cols,
           cfg.g_spec, cfg.d_spec, cfg.batch, total, per_epoch,
           ro->resume ? ", resumed" : "", dir);
  if (start_step >= total) {
    fprintf(stderr, "clgan train: error: the checkpoint is at step %ld, which already reaches "
                    "the run's bound of %ld steps; raise --steps or --epochs to go on\n",
            start_step, total);
    st = CLGAN_INVALID_ARGUMENT;
    goto done;
  }
  if (!ro->resume && (st = write_samples(t, dir, latent, count, ds.rows, ds.cols, pixels)))
    goto done;

  double t_start = now_s(), t_window = t_start;
  long window_start = start_step;
  clgan_metrics m = {0};
  double img_s = 0;
  while (clgan_trainer_step_count(t) < total && !*stop) {
    if ((st = clgan_trainer_step(t))) goto done;
    long step = clgan_trainer_step_count(t);
    int at_end = step == total;
    if (step % ro->log_every == 0 || at_end) {
      if ((st = clgan_trainer_metrics(t, &m))) goto done;
      double now = now_s();
      img_s = (double)(step - window_start) * cfg.batch * cfg.d_steps / (now - t_window);
      t_window = now;
      window_start = step;
      if (!isfinite(m.d_loss) || !isfinite(m.g_loss)) {
        fprintf(stderr, "\nclgan train: error: the losses became non-finite at step %ld "
                        "(D %g, G %g); the last checkpoint is intact. Try a lower --lr or "
                        "--clip-grad-norm.\n", step, m.d_loss, m.g_loss);
        st = CLGAN_NUMERIC;
        goto done;
      }
      int epoch = (int)((step - 1) / per_epoch); /* the epoch this step's batches came from */
      double row[CSV_NCOLS] = {(double)step, (double)epoch, m.d_loss, m.g_loss,
                               m.d_real, m.d_fake, m.acc_real, m.acc_fake, m.acc, img_s,
                               now - t_start};
      if ((st = clgan_csv_row(csv, row, CSV_NCOLS))) goto done;
      history_push(&hist, (double)step, m.d_loss, m.g_loss);
      char eta[32];
      format_eta(eta, sizeof eta, (double)(total - step) * cfg.batch * cfg.d_steps / img_s);
      if (tty) {
        printf("\r\033[Kepoch %d  step %ld/%ld  D %.4f  G %.4f  D(x) %.3f  D(G(z)) %.3f  "
               "acc %.1f%%  %.0f img/s  ETA %s", epoch + 1, step, total,
               m.d_loss, m.g_loss, m.d_real, m.d_fake, 100 * m.acc, img_s, eta);
        fflush(stdout);
      } else if (!ro->quiet && (step % (10L * ro->log_every) == 0 || at_end)) {
        printf("epoch %d step %ld/%ld d_loss %.4f g_loss %.4f d_real %.3f d_fake %.3f "
               "acc %.1f%% img/s %.0f eta %s\n", epoch + 1, step, total,
               m.d_loss, m.g_loss, m.d_real, m.d_fake, 100 * m.acc, img_s, eta);
        fflush(stdout);
      }
    }
    if ((cfg.sample_every > 0 && step % cfg.sample_every == 0) || at_end)
      if ((st = write_samples(t, dir, latent, count, ds.rows, ds.cols, pixels))) goto done;
    if ((cfg.checkpoint_every > 0 && step % cfg.checkpoint_every == 0) || at_end || *stop) {
      snprintf(path, sizeof path, "%s/checkpoint.safetensors", dir);
      if ((st = clgan_trainer_save(t, path))) goto done;
      if (write_plot(dir, &hist) != CLGAN_OK)
        fprintf(stderr, "clgan train: warning: losses.png not updated; training goes on "
                        "(metrics.csv holds the losses)\n");
    }
    if (ro->eval_every > 0 && (step % ro->eval_every == 0 || at_end)) {
      double before = eval.seconds;
      if ((st = run_eval_step(&eval, t, ro, dir))) goto done;
      t_window += eval.seconds - before; /* img/s counts training, not evaluation */
    }
  }
  if (tty) printf("\n");
  /* The CSVs' last rows reach the disk here: a failed flush fails the run before its summary. */
  st = clgan_csv_close(csv);
  csv = NULL;
  if (st == CLGAN_OK) st = clgan_csv_close(eval.csv);
  eval.csv = NULL;
  if (st != CLGAN_OK) goto done;
  double elapsed = now_s() - t_start;
  long step = clgan_trainer_step_count(t);
  if (*stop) {
    printf("clgan train: stopped by signal at step %ld; checkpoint saved. Resume with:\n"
           "  clgan train --resume %s/checkpoint.safetensors\n", step, dir);
  } else {
    printf("clgan train: %ld steps in %.1f s (%.0f img/s) on %s; last D %.4f, G %.4f, "
           "D(x) %.3f, D(G(z)) %.3f\n  samples  %s/samples/step_%06ld.png\n"
           "  checkpoint %s/checkpoint.safetensors\n  metrics  %s/metrics.csv, %s/losses.png\n",
           step - start_step, elapsed, (double)(step - start_step) * cfg.batch * cfg.d_steps / elapsed,
           info->name, m.d_loss, m.g_loss, m.d_real, m.d_fake, dir, step, dir, dir, dir);
  }
  if (ro->eval_every > 0 && (eval.runs > 0 || eval.best_step >= 0))
    printf("  eval     best FID %.3f at step %ld; %d evaluation(s) of %d samples took %.1f s "
           "(%.0f%% of the run)\n           %s/eval.csv, %s/eval.png%s%s%s\n",
           eval.best_fid, eval.best_step, eval.runs, eval.count, eval.seconds,
           100 * eval.seconds / (elapsed > 0 ? elapsed : 1), dir, dir,
           ro->keep_best ? ", " : "", ro->keep_best ? dir : "",
           ro->keep_best ? "/checkpoint-best.safetensors" : "");
  fflush(stdout); /* the summary is out even if a driver's exit handlers misbehave */
  if (ro->profile) {
    clgan_profile_entry *prof = NULL;
    int np = 0;
    if (clgan_profile_collect(dev, &prof, &np) == CLGAN_OK) {
      double sum = 0;
      for (int i = 0; i < np; i++) sum += prof[i].ms;
      printf("device time by kernel (%.1f ms in all):\n", sum);
      for (int i = 0; i < np; i++)
        printf("  %-28s %8ld calls %10.1f ms %5.1f%%\n", prof[i].name, prof[i].calls, prof[i].ms,
               100 * prof[i].ms / (sum > 0 ? sum : 1));
      free(prof);
    }
  }
done:
  if (st == CLGAN_DEVICE_OUT_OF_MEMORY)
    fprintf(stderr, "clgan train: error: the run does not fit in the memory of %s at batch %d: try "
                    "a smaller --batch, or another --device (clgan devices lists their memory)\n",
            dev ? clgan_device_get_info(dev)->name : "the device", cfg.batch);
  if (st == CLGAN_HOST_OUT_OF_MEMORY)
    fprintf(stderr, "clgan train: error: the host ran out of memory at batch %d: try a smaller "
                    "--batch%s\n", cfg.batch, ro->eval_every > 0 ? " or --eval-count" : "");
  if (st == CLGAN_WRITE_FAILED)
    fprintf(stderr, "clgan train: error: a file of the run could not be written in %s (disk full "
                    "or no permission); a checkpoint already there is intact: make room and go "
                    "on with --resume %s/checkpoint.safetensors\n", dir, dir);
  /* Closed already when the run ended well; otherwise the run is failing, and a failed close
   * is reported by clgan_csv_close. */
  (void)clgan_csv_close(csv);
  run_eval_free(&eval);
  history_free(&hist);
  free(latent);
  free(pixels);
  clgan_trainer_free(t);
  clgan_buffer_free(&data.images);
  clgan_dataset_free(&ds);
  clgan_device_close(dev);
  return st == CLGAN_OK ? 0 : cli_exit_code(st);
}
