/* The training run (include/clgan/gan.h, "A training run"): loads the data onto the device,
 * builds or resumes the trainer, and per step keeps the run folder — metrics every log_every
 * steps (the only waits on the device), sample grids, atomic checkpoints, the loss plot, and
 * the evaluations of --eval-every — until a bound or a signal ends it. It prints nothing: the
 * caller's callbacks word and print, so `clgan train` and the training bench run this code. */
#define _POSIX_C_SOURCE 200809L /* localtime_r */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clgan/data.h"
#include "clgan/gan.h"
#include "clgan/io.h"
#include "util/fsutil.h"
#include "util/clock.h"

static const char *const csv_columns[] = {"step", "epoch", "d_loss", "g_loss", "d_real",
                                          "d_fake", "acc_real", "acc_fake", "acc", "img_per_s",
                                          "wall_s"};
enum { CSV_NCOLS = sizeof csv_columns / sizeof csv_columns[0] };

static const char *const eval_columns[] = {"step", "fid", "kid", "kid_std", "precision",
                                           "recall", "density", "coverage", "class_entropy",
                                           "mean_conf", "eval_s"};
enum { EVAL_NCOLS = sizeof eval_columns / sizeof eval_columns[0] };

/* A plot's two series; on resume reloaded from the run's CSV. */
typedef struct {
  float *step, *a, *b;
  int n, cap;
} history;

/* --eval-every: the classifier, the evaluator holding the real reference, the fixed latent
 * vectors (clgan eval's, seed 1: `clgan eval --checkpoint` at that step gives the same
 * figures), eval.csv and the history behind eval.png (FID as a, KID as b). */
typedef struct {
  clgan_classifier *clf;
  clgan_evaluator *ev;
  clgan_csv *csv;
  float *latent, *pixels;
  int count;
  history hist;
} run_eval;

struct clgan_run {
  clgan_device *dev;
  clgan_train_cfg cfg;
  clgan_run_cfg rc;
  clgan_run_callbacks cb;
  char dir[1024], data_dir[1024], resume[1024];
  clgan_dataset ds;
  clgan_train_data data;
  clgan_trainer *t;
  clgan_csv *csv;
  history hist;      /* step, D loss, G loss for losses.png */
  run_eval eval;
  float *latent, *pixels;   /* the sample grid's fixed latent batch and its images */
  int32_t *grid_labels;     /* conditional: the class grid's labels (a row per class) */
  int count;                /* images in the grid */
  long per_epoch, total, start_step;
  long global;              /* images per optimizer step, every rank's */
  int primary;              /* rank 0, or alone: the one that writes the run folder */
  int stopping;             /* data-parallel: a stop every rank agreed on after the last step */
  int started;
  double t_start, t_window, t_end;
  long window_start;
  clgan_run_result res;
};

static void history_push(history *h, double step, double a, double b) {
  if (h->n == h->cap) {
    int cap = h->cap ? 2 * h->cap : 256;
    float *x = realloc(h->step, (size_t)cap * sizeof *x);
    if (x) h->step = x;
    float *y = realloc(h->a, (size_t)cap * sizeof *y);
    if (y) h->a = y;
    float *z = realloc(h->b, (size_t)cap * sizeof *z);
    if (z) h->b = z;
    if (!x || !y || !z) return; /* the plot loses a point; training goes on */
    h->cap = cap;
  }
  h->step[h->n] = (float)step;
  h->a[h->n] = (float)a;
  h->b[h->n] = (float)b;
  h->n++;
}

static void history_free(history *h) {
  free(h->step);
  free(h->a);
  free(h->b);
}

/* Rows of an earlier CSV of the run up to the step it resumes from: columns ca and cb of each
 * into the history; *best_a / *best_step (may be NULL) receive the lowest value of ca. A file
 * that is not there holds no history. */
static void history_reload(history *h, const char *path, long up_to_step, const char *ca,
                           const char *cb, double *best_a, long *best_step) {
  if (access(path, F_OK) != 0) return;
  clgan_csv_table tab = {0};
  if (clgan_csv_read(path, &tab) != CLGAN_OK) return;
  int cs = clgan_csv_column(&tab, "step"), ia = clgan_csv_column(&tab, ca);
  int ib = clgan_csv_column(&tab, cb);
  for (int i = 0; cs >= 0 && ia >= 0 && ib >= 0 && i < tab.rows; i++) {
    const double *row = tab.values + (size_t)i * (size_t)tab.ncols;
    if (row[cs] > (double)up_to_step) continue;
    history_push(h, row[cs], row[ia], row[ib]);
    if (best_a && row[ia] < *best_a) {
      *best_a = row[ia];
      *best_step = (long)row[cs];
    }
  }
  clgan_csv_table_free(&tab);
}

static void warn(const clgan_run *run, const char *text) {
  if (run->cb.warning) run->cb.warning(run->cb.user, text);
  else clgan_warn("%s", text);
}

static clgan_status write_loss_plot(const clgan_run *run) {
  const history *h = &run->hist;
  if (h->n < 2) return CLGAN_OK;
  char path[1200];
  snprintf(path, sizeof path, "%s/losses.png", run->dir);
  clgan_plot_series s[2] = {
      {.name = "D loss", .x = h->step, .y = h->a, .n = h->n, .rgb = {31, 119, 180}},
      {.name = "G loss", .x = h->step, .y = h->b, .n = h->n, .rgb = {214, 39, 40}},
  };
  return clgan_plot_lines(path, s, 2, "Losses", "step");
}

/* FID and KID on one chart: KID's scale depends on the features' magnitude (the cubic kernel),
 * so it is drawn times the power of ten that brings its largest value nearest FID's. */
static clgan_status write_eval_plot(const clgan_run *run) {
  const history *h = &run->eval.hist;
  if (h->n < 1) return CLGAN_OK;
  double max_fid = 0, max_kid = 0;
  for (int i = 0; i < h->n; i++) {
    if (h->a[i] > max_fid) max_fid = h->a[i];
    if (h->b[i] > max_kid) max_kid = h->b[i];
  }
  int power = max_fid > 0 && max_kid > 0 ? (int)lround(log10(max_fid / max_kid)) : 0;
  if (power < 0) power = 0;
  if (power > 9) power = 9;
  float scale = (float)pow(10.0, power);
  float *kid = malloc((size_t)h->n * sizeof *kid);
  if (!kid) return CLGAN_HOST_OUT_OF_MEMORY;
  for (int i = 0; i < h->n; i++) kid[i] = h->b[i] * scale;
  char path[1200], label[32];
  snprintf(path, sizeof path, "%s/eval.png", run->dir);
  snprintf(label, sizeof label, power ? "KID x %.0f" : "KID", (double)scale);
  clgan_plot_series s[2] = {
      {.name = "FID", .x = h->step, .y = h->a, .n = h->n, .rgb = {31, 119, 180}},
      {.name = label, .x = h->step, .y = kid, .n = h->n, .rgb = {214, 39, 40}},
  };
  clgan_status st = clgan_plot_lines(path, s, 2, "Evaluation (lower is better)", "step");
  free(kid);
  return st;
}

static clgan_status write_samples(clgan_run *run) {
  char path[1200];
  snprintf(path, sizeof path, "%s/samples/step_%06ld.png", run->dir,
           clgan_trainer_step_count(run->t));
  clgan_status st = clgan_generate_labels(clgan_trainer_sampler(run->t), run->latent,
                                          run->grid_labels, run->count, run->cfg.latent,
                                          run->pixels);
  if (st != CLGAN_OK) return st;
  int scale = run->rc.grid_scale > 0
                  ? run->rc.grid_scale
                  : clgan_grid_auto_scale(run->count, run->ds.cols, run->cfg.grid, 2);
  return clgan_png_write_grid_scaled(path, run->pixels, run->count, run->data.channels,
                                     run->ds.rows, run->ds.cols, run->cfg.grid, 2, scale);
}

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

static clgan_status run_eval_open(clgan_run *run) {
  run_eval *e = &run->eval;
  clgan_status st;
  char path[1200];
  e->count = run->rc.eval_count;
  if (run->data.channels > 1) {
    clgan_error("evaluations judge one-channel images (the feature network is a gray "
                "classifier); the data have %d channels: train without --eval-every, or with "
                "--channels 1", run->data.channels);
    return CLGAN_INVALID_ARGUMENT;
  }
  if (!run->cb.classifier) {
    clgan_error("a run with evaluations needs a classifier callback");
    return CLGAN_INVALID_ARGUMENT;
  }
  if ((st = run->cb.classifier(run->cb.user, run->dev, &run->ds, &e->clf))) return st;
  clgan_eval_cfg ecfg = {0};
  if ((st = clgan_evaluator_create(&e->ev, run->dev, e->clf, &run->ds, e->count, &ecfg)))
    return st;
  e->latent = malloc((size_t)e->count * (size_t)run->cfg.latent * sizeof *e->latent);
  e->pixels = malloc((size_t)e->count * clgan_dataset_image_bytes(&run->ds) * sizeof *e->pixels);
  if (!e->latent || !e->pixels) return CLGAN_HOST_OUT_OF_MEMORY;
  clgan_fixed_latent(e->latent, e->count, run->cfg.latent, 1);
  snprintf(path, sizeof path, "%s/eval.csv", run->dir);
  if (run->rc.resume)
    history_reload(&e->hist, path, run->start_step, "fid", "kid", &run->res.best_fid,
                   &run->res.best_step);
  clgan_csv_cfg cfg = {.path = path, .columns = eval_columns, .ncols = EVAL_NCOLS,
                       .append = run->rc.resume != NULL, .keep_until_set = run->rc.resume != NULL,
                       .keep_until = (double)run->start_step};
  return clgan_csv_open(&e->csv, &cfg);
}

/* One evaluation of G at this step: a row of eval.csv, eval.png, and with keep_best the
 * checkpoint of the lowest FID so far. */
static clgan_status run_eval_step(clgan_run *run) {
  run_eval *e = &run->eval;
  clgan_status st;
  double t0 = clgan_now_s();
  long step = clgan_trainer_step_count(run->t);
  clgan_eval_result r;
  if ((st = clgan_generate(clgan_trainer_sampler(run->t), e->latent, e->count, run->cfg.latent,
                           e->pixels)) ||
      (st = clgan_evaluator_score(e->ev, e->pixels, e->count, NULL, &r)))
    return st;
  double secs = clgan_now_s() - t0;
  run->res.eval_seconds += secs;
  run->res.evals++;
  double row[EVAL_NCOLS] = {(double)step, r.fid, r.kid_mean, r.kid_std, r.prdc.precision,
                            r.prdc.recall, r.prdc.density, r.prdc.coverage, r.classes.entropy,
                            r.classes.mean_conf, secs};
  if ((st = clgan_csv_row(e->csv, row, EVAL_NCOLS))) return st;
  history_push(&e->hist, (double)step, r.fid, r.kid_mean);
  /* A figure that failed (reported where it failed) is redrawn at the next evaluation; eval.csv
   * holds its data, so the run goes on. */
  if (write_eval_plot(run) != CLGAN_OK)
    warn(run, "eval.png not updated; training goes on (eval.csv holds the figures)");
  int best = r.fid < run->res.best_fid;
  if (best) {
    run->res.best_fid = r.fid;
    run->res.best_step = step;
  }
  if (best && run->rc.keep_best) {
    char path[1200];
    snprintf(path, sizeof path, "%s/checkpoint-best.safetensors", run->dir);
    if ((st = clgan_trainer_save(run->t, path))) return st;
  }
  clgan_run_eval_report rep = {.step = step, .r = &r, .seconds = secs, .best = best,
                               .saved_best = best && run->rc.keep_best};
  if (run->cb.evaluated) run->cb.evaluated(run->cb.user, &rep);
  return CLGAN_OK;
}

void clgan_run_default_dir(char *dir, size_t size, const char *resume, const char *model) {
  if (resume) {
    snprintf(dir, size, "%s", resume);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else snprintf(dir, size, ".");
    return;
  }
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  char stamp[32];
  strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  snprintf(dir, size, "runs/%s-%s", stamp, model);
}

static clgan_status copy_text(char *dst, size_t size, const char *src, const char *what) {
  if (!src) {
    dst[0] = '\0';
    return CLGAN_OK;
  }
  if (strlen(src) >= size) {
    clgan_error("the run's %s is longer than %zu characters: %s", what, size - 1, src);
    return CLGAN_INVALID_ARGUMENT;
  }
  memcpy(dst, src, strlen(src) + 1);
  return CLGAN_OK;
}

/* Conditional training: the labels on the device, and the class count from them. */
static clgan_status upload_labels(clgan_run *run) {
  clgan_status st;
  const clgan_dataset *ds = &run->ds;
  if (!ds->labels) {
    clgan_error("conditional training needs the training labels, and %s has none (an IDX "
                "folder: train-labels-idx1-ubyte[.gz]; an image folder: one subfolder per class "
                "and no image directly in it; a .npy: <name>_labels.npy beside it)",
                run->data_dir);
    return CLGAN_INVALID_ARGUMENT;
  }
  if (run->cfg.classes == CLGAN_CLASSES_FROM_DATA) run->cfg.classes = ds->classes;
  if (ds->classes > run->cfg.classes) {
    clgan_error("the training labels of %s go up to %d, but the model is conditional on %d "
                "classes", run->data_dir, ds->classes - 1, run->cfg.classes);
    return CLGAN_INVALID_ARGUMENT;
  }
  if (run->cfg.classes < 2) {
    clgan_error("the training labels of %s hold one class only: nothing to condition on",
                run->data_dir);
    return CLGAN_INVALID_ARGUMENT;
  }
  if ((st = clgan_buffer_alloc(run->dev, &run->data.labels, (size_t)ds->count))) return st;
  return clgan_buffer_write(run->dev, &run->data.labels, 0, (size_t)ds->count, ds->labels);
}

/* Data, trainer, resume: everything up to the run folder. */
static clgan_status open_trainer(clgan_run *run, clgan_run_info *info) {
  clgan_status st;
  if ((st = clgan_dataset_open(run->data_dir, "train", &run->rc.data, &run->ds, &info->data)))
    return st;
  if (!run->rc.resume &&
      (st = clgan_preset_fit(&run->cfg, run->ds.channels, run->ds.rows, run->ds.cols)))
    return st;
  if (run->rc.resume) {
    /* The networks are built for the data before the checkpoint is read: a shape that differs
     * must be named here, not as a layer that does not fit. */
    clgan_train_cfg saved;
    int rows = 0, cols = 0, c = run->ds.channels > 1 ? run->ds.channels : 1;
    if ((st = clgan_checkpoint_cfg(run->rc.resume, &saved, &rows, &cols))) return st;
    if (rows != run->ds.rows || cols != run->ds.cols || saved.channels != c) {
      clgan_error("%s was trained on %dx%dx%d images, and %s gives %dx%dx%d: give the --data, "
                  "--image-size and --channels it was trained with", run->rc.resume,
                  saved.channels, rows, cols, run->data_dir, c, run->ds.rows, run->ds.cols);
      return CLGAN_INVALID_ARGUMENT;
    }
  }
  int n = run->ds.count;
  if (run->rc.data_limit > 0 && run->rc.data_limit < n) n = run->rc.data_limit;
  info->count = run->data.count = n; /* the gather reads only rows the permutation names */
  info->rows = run->data.rows = run->ds.rows;
  info->cols = run->data.cols = run->ds.cols;
  info->channels = run->data.channels = run->ds.channels > 1 ? run->ds.channels : 1;
  /* Data that fits the device's budget is uploaded once; more is streamed (issue 13). */
  info->data_bytes = (unsigned long long)n * clgan_dataset_image_bytes(&run->ds);
  if ((st = clgan_data_device_budget(run->dev, &info->budget))) return st;
  info->streamed = info->data_bytes > info->budget;
  if (info->streamed)
    run->data.host_images = run->ds.images;
  else if ((st = clgan_dataset_upload(run->dev, &run->ds, &run->data.images)))
    return st;
  if (run->cfg.classes != 0 && (st = upload_labels(run))) return st;
  if ((st = clgan_trainer_create_dist(&run->t, run->dev, &run->cfg, &run->data, run->rc.dist)))
    return st;
  run->global = clgan_trainer_global_batch(run->t);
  if (run->rc.resume && (st = clgan_trainer_load(run->t, run->rc.resume))) return st;
  run->start_step = info->start_step = clgan_trainer_step_count(run->t);
  run->per_epoch = info->per_epoch = clgan_trainer_steps_per_epoch(run->t);
  run->total = run->cfg.steps;
  if (run->cfg.epochs > 0 &&
      (run->total == 0 || (long)run->cfg.epochs * run->per_epoch < run->total))
    run->total = (long)run->cfg.epochs * run->per_epoch;
  info->total = run->total;
  return CLGAN_OK;
}

/* The run folder: samples/, metrics.csv (and eval.csv), the sample grid's latent batch. */
static clgan_status open_folder(clgan_run *run) {
  clgan_status st;
  char path[1200];
  if (!run->primary) return CLGAN_OK; /* rank 0 keeps the folder */
  snprintf(path, sizeof path, "%s/samples", run->dir);
  if ((st = clgan_make_dirs(path))) return st;
  snprintf(path, sizeof path, "%s/metrics.csv", run->dir);
  if (run->rc.resume)
    history_reload(&run->hist, path, run->start_step, "d_loss", "g_loss", NULL, NULL);
  clgan_csv_cfg csv_cfg = {.path = path, .columns = csv_columns, .ncols = CSV_NCOLS,
                           .append = run->rc.resume != NULL,
                           .keep_until_set = run->rc.resume != NULL,
                           .keep_until = (double)run->start_step};
  if ((st = clgan_csv_open(&run->csv, &csv_cfg))) return st;
  if (run->rc.eval_every > 0 && (st = run_eval_open(run))) return st;
  /* A conditional run's grid is the class grid: a row per class, grid columns. */
  int classes = run->cfg.classes;
  run->count = run->cfg.grid * (classes > 0 ? classes : run->cfg.grid);
  run->latent = malloc((size_t)run->count * (size_t)run->cfg.latent * sizeof *run->latent);
  run->pixels = malloc((size_t)run->count * clgan_dataset_image_bytes(&run->ds) *
                       sizeof *run->pixels);
  if (classes > 0) run->grid_labels = malloc((size_t)run->count * sizeof *run->grid_labels);
  if (!run->latent || !run->pixels || (classes > 0 && !run->grid_labels))
    return CLGAN_HOST_OUT_OF_MEMORY;
  if (classes > 0)
    clgan_class_grid(run->latent, run->grid_labels, classes, run->cfg.grid, run->cfg.latent,
                     run->cfg.seed);
  else
    clgan_fixed_latent(run->latent, run->count, run->cfg.latent, run->cfg.seed);
  return CLGAN_OK;
}

clgan_status clgan_run_open(clgan_run **out, clgan_device *dev, const clgan_train_cfg *cfg,
                            const clgan_run_cfg *rc, const clgan_run_callbacks *cb,
                            clgan_run_info *info) {
  clgan_run_info scratch;
  if (!info) info = &scratch;
  memset(info, 0, sizeof *info);
  *out = NULL;
  if (!dev || !cfg || !rc || !rc->data_dir || !rc->dir || rc->log_every < 1 ||
      rc->data_limit < 0 || rc->eval_every < 0) {
    clgan_error("clgan_run_open: a device, a data folder, a run folder, log_every >= 1 and "
                "data_limit >= 0 are needed");
    return CLGAN_INVALID_ARGUMENT;
  }
  clgan_run *run = calloc(1, sizeof *run);
  if (!run) return CLGAN_HOST_OUT_OF_MEMORY;
  clgan_status st;
  run->dev = dev;
  run->cfg = *cfg;
  run->rc = *rc;
  if (cb) run->cb = *cb;
  run->res.best_fid = INFINITY;
  run->res.best_step = -1;
  run->res.eval_count = rc->eval_count;
  run->primary = clgan_dist_rank(rc->dist) == 0;
  if ((st = copy_text(run->dir, sizeof run->dir, rc->dir, "folder")) ||
      (st = copy_text(run->data_dir, sizeof run->data_dir, rc->data_dir, "data folder")) ||
      (st = copy_text(run->resume, sizeof run->resume, rc->resume, "checkpoint")))
    goto fail;
  run->rc.dir = run->dir;
  run->rc.data_dir = run->data_dir;
  run->rc.resume = rc->resume ? run->resume : NULL;
  if ((st = open_trainer(run, info)) || (st = open_folder(run))) goto fail;
  run->res.step = run->start_step;
  *out = run;
  return CLGAN_OK;
fail:
  clgan_run_close(run);
  return st;
}

static int stop_asked_here(const clgan_run *run) { return run->rc.stop && *run->rc.stop; }

/* Data-parallel, every rank stops after the same step: the one after which any rank had been
 * asked (run_step agrees on it); else a rank would wait in an all-reduce for ever. */
static int stop_asked(const clgan_run *run) {
  return clgan_dist_size(run->rc.dist) > 1 ? run->stopping : stop_asked_here(run);
}

static clgan_status agree_on_stop(clgan_run *run) {
  if (clgan_dist_size(run->rc.dist) == 1) return CLGAN_OK;
  float asked = stop_asked_here(run) ? 1.0f : 0.0f;
  clgan_status st = clgan_dist_allreduce_sum(run->rc.dist, &asked, 1);
  run->stopping = asked > 0.0f;
  return st;
}

/* The grid of step 0 (a new run) and the clocks: the first step of this process. */
static clgan_status begin(clgan_run *run) {
  clgan_status st;
  if (run->primary && !run->rc.resume && (st = write_samples(run))) return st;
  run->t_start = run->t_window = clgan_now_s();
  run->window_start = run->start_step;
  run->started = 1;
  return CLGAN_OK;
}

/* The metrics row of this step: metrics.csv, the loss history and the progress callback. */
static clgan_status log_row(clgan_run *run, long step, int at_end) {
  clgan_status st;
  clgan_metrics *m = &run->res.last;
  if ((st = clgan_trainer_metrics(run->t, m))) return st;
  double now = clgan_now_s();
  double img_s = (double)(step - run->window_start) * (double)run->global * run->cfg.d_steps /
                 (now - run->t_window);
  run->t_window = now;
  run->window_start = step;
  if (!isfinite(m->d_loss) || !isfinite(m->g_loss)) return CLGAN_NUMERIC;
  if (!run->primary) return CLGAN_OK;
  int epoch = (int)((step - 1) / run->per_epoch); /* the epoch this step's batches came from */
  double row[CSV_NCOLS] = {(double)step, (double)epoch, m->d_loss, m->g_loss, m->d_real,
                           m->d_fake, m->acc_real, m->acc_fake, m->acc, img_s,
                           now - run->t_start};
  if ((st = clgan_csv_row(run->csv, row, CSV_NCOLS))) return st;
  history_push(&run->hist, (double)step, m->d_loss, m->g_loss);
  clgan_run_progress p = {
      .step = step, .total = run->total, .epoch = epoch, .at_end = at_end, .m = *m,
      .img_s = img_s,
      .eta_s = (double)(run->total - step) * (double)run->global * run->cfg.d_steps / img_s};
  if (run->cb.progress) run->cb.progress(run->cb.user, &p);
  return CLGAN_OK;
}

int clgan_run_done(const clgan_run *run) {
  return clgan_trainer_step_count(run->t) >= run->total || stop_asked(run);
}

clgan_status clgan_run_step(clgan_run *run) {
  clgan_status st;
  if (clgan_run_done(run)) return CLGAN_OK;
  if (!run->started && (st = begin(run))) return st;
  if ((st = clgan_trainer_step(run->t)) || (st = agree_on_stop(run))) return st;
  long step = clgan_trainer_step_count(run->t);
  run->res.step = step;
  int at_end = step == run->total;
  const clgan_train_cfg *cfg = &run->cfg;
  if ((step % run->rc.log_every == 0 || at_end) && (st = log_row(run, step, at_end))) return st;
  if ((cfg->sample_every > 0 && step % cfg->sample_every == 0) || at_end)
    if (run->primary && (st = write_samples(run))) return st;
  if ((cfg->checkpoint_every > 0 && step % cfg->checkpoint_every == 0) || at_end ||
      stop_asked(run)) {
    char path[1200];
    /* Every rank's metrics window into rank 0's, which the checkpoint holds (a collective). */
    if ((st = clgan_trainer_gather_metrics(run->t))) return st;
    if (!run->primary) return CLGAN_OK;
    snprintf(path, sizeof path, "%s/checkpoint.safetensors", run->dir);
    if ((st = clgan_trainer_save(run->t, path))) return st;
    if (write_loss_plot(run) != CLGAN_OK)
      warn(run, "losses.png not updated; training goes on (metrics.csv holds the losses)");
  }
  if (run->primary && run->rc.eval_every > 0 && (step % run->rc.eval_every == 0 || at_end)) {
    double before = run->res.eval_seconds;
    if ((st = run_eval_step(run))) return st;
    run->t_window += run->res.eval_seconds - before; /* img/s counts training, not evaluation */
  }
  return CLGAN_OK;
}

clgan_status clgan_run_until(clgan_run *run) {
  clgan_status st;
  if (!run->started && (st = begin(run))) return st;
  while (!clgan_run_done(run))
    if ((st = clgan_run_step(run))) return st;
  return CLGAN_OK;
}

clgan_status clgan_run_finish(clgan_run *run) {
  /* The CSVs' last rows reach the disk here: a failed flush fails the run before its summary. */
  clgan_status st = clgan_csv_close(run->csv);
  run->csv = NULL;
  if (st == CLGAN_OK) st = clgan_csv_close(run->eval.csv);
  run->eval.csv = NULL;
  if (st != CLGAN_OK) return st;
  run->t_end = clgan_now_s();
  return CLGAN_OK;
}

void clgan_run_get_result(const clgan_run *run, clgan_run_result *res) {
  *res = run->res;
  res->step = clgan_trainer_step_count(run->t);
  res->steps = res->step - run->start_step;
  res->stopped = stop_asked(run);
  if (run->started) {
    res->seconds = (run->t_end > 0 ? run->t_end : clgan_now_s()) - run->t_start;
    res->img_s = (double)res->steps * (double)run->global * run->cfg.d_steps / res->seconds;
  }
}

clgan_trainer *clgan_run_trainer(clgan_run *run) { return run->t; }

void clgan_run_close(clgan_run *run) {
  if (!run) return;
  /* Closed already when the run ended well; otherwise the run is failing, and a failed close
   * is reported by clgan_csv_close. */
  (void)clgan_csv_close(run->csv);
  run_eval_free(&run->eval);
  history_free(&run->hist);
  free(run->latent);
  free(run->pixels);
  clgan_trainer_free(run->t);
  clgan_buffer_free(&run->data.images);
  clgan_buffer_free(&run->data.labels);
  free(run->grid_labels);
  clgan_dataset_free(&run->ds);
  free(run);
}
