/* The library's training run (clgan_run_*) on a small synthetic IDX data set: the run folder's
 * files at their cadences, the progress callback's rows against metrics.csv, a stop through the
 * flag, a resume that continues exactly (the same metrics at the same step as the run that was
 * not stopped), the warning callback for a plot that cannot be written, and the refusals that
 * leave the caller what it needs to word them. */
#define _XOPEN_SOURCE 700 /* mkdtemp, nftw */
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clgan/gan.h"
#include "clgan/io.h"
#include "harness.h"

enum { COUNT = 64, SIDE = 28, BATCH = 16, STEPS = 12 };

static void put_be32(FILE *f, unsigned v) {
  unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                        (unsigned char)(v >> 8), (unsigned char)v};
  fwrite(b, 1, 4, f);
}

/* train-images and train-labels of COUNT pseudo-random images. */
static int write_data(const char *dir) {
  char path[1200];
  snprintf(path, sizeof path, "%s/train-images-idx3-ubyte", dir);
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  put_be32(f, 0x00000803);
  put_be32(f, COUNT);
  put_be32(f, SIDE);
  put_be32(f, SIDE);
  unsigned long long s = 7;
  for (int i = 0; i < COUNT * SIDE * SIDE; i++) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    fputc((int)(s >> 56), f);
  }
  if (fclose(f)) return 0;
  snprintf(path, sizeof path, "%s/train-labels-idx1-ubyte", dir);
  if (!(f = fopen(path, "wb"))) return 0;
  put_be32(f, 0x00000801);
  put_be32(f, COUNT);
  for (int i = 0; i < COUNT; i++) fputc(i % 10, f);
  return fclose(f) == 0;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static int exists(const char *dir, const char *name) {
  char path[1200];
  struct stat sb;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0;
}

typedef struct {
  int rows, warnings;
  long steps[8];
  clgan_metrics m[8];
  long stop_at;                   /* sets *stop after this step's row */
  volatile sig_atomic_t *stop;
  char warning[256];
} seen;

static void on_progress(void *user, const clgan_run_progress *p) {
  seen *s = user;
  if (s->rows < 8) {
    s->steps[s->rows] = p->step;
    s->m[s->rows] = p->m;
  }
  s->rows++;
  CHECK(p->total == STEPS, "progress: total %ld, want %d", p->total, STEPS);
  CHECK(p->epoch == (int)((p->step - 1) / (COUNT / BATCH)), "progress: epoch %d at step %ld",
        p->epoch, p->step);
  CHECK(p->at_end == (p->step == STEPS), "progress: at_end %d at step %ld", p->at_end, p->step);
  if (s->stop && p->step == s->stop_at) *s->stop = 1;
}

static void on_warning(void *user, const char *text) {
  seen *s = user;
  s->warnings++;
  snprintf(s->warning, sizeof s->warning, "%s", text);
}

static clgan_train_cfg small_cfg(void) {
  clgan_train_cfg cfg;
  clgan_preset("mlp", &cfg);
  cfg.batch = BATCH;
  cfg.epochs = 0;
  cfg.steps = STEPS;
  cfg.sample_every = 6;
  cfg.checkpoint_every = 6;
  cfg.grid = 4;
  return cfg;
}

/* Opens a run in dir, runs it to the end (or the stop), finishes it; the result in *res. */
static clgan_status run_to_end(clgan_device *dev, const char *data, const char *dir,
                               const char *resume, seen *s, clgan_run_result *res,
                               clgan_run_info *info) {
  clgan_train_cfg cfg = small_cfg();
  clgan_run_cfg rc = {.data_dir = data, .dir = dir, .resume = resume, .log_every = 4,
                      .stop = s->stop};
  clgan_run_callbacks cb = {.progress = on_progress, .warning = on_warning, .user = s};
  clgan_run *run = NULL;
  clgan_status st = clgan_run_open(&run, dev, &cfg, &rc, &cb, info);
  if (st == CLGAN_OK) st = clgan_run_until(run);
  if (st == CLGAN_OK) st = clgan_run_finish(run);
  if (st == CLGAN_OK) {
    clgan_run_get_result(run, res);
    /* At the bound a step does nothing. */
    long before = clgan_trainer_step_count(clgan_run_trainer(run));
    CHECK(clgan_run_step(run) == CLGAN_OK && clgan_run_done(run) &&
              clgan_trainer_step_count(clgan_run_trainer(run)) == before,
          "a step of a finished run changed it");
  }
  clgan_run_close(run);
  return st;
}

static int csv_rows(const char *dir, long *last_step) {
  char path[1200];
  snprintf(path, sizeof path, "%s/metrics.csv", dir);
  clgan_csv_table tab = {0};
  if (clgan_csv_read(path, &tab) != CLGAN_OK) return -1;
  int rows = tab.rows, cs = clgan_csv_column(&tab, "step");
  *last_step = rows > 0 && cs >= 0 ? (long)tab.values[(size_t)(rows - 1) * tab.ncols + cs] : -1;
  clgan_csv_table_free(&tab);
  return rows;
}

static void test_full_run(clgan_device *dev, const char *data, const char *dir, seen *s) {
  clgan_run_result res;
  clgan_run_info info;
  CHECK(run_to_end(dev, data, dir, NULL, s, &res, &info) == CLGAN_OK, "full run failed");
  CHECK(info.count == COUNT && info.rows == SIDE && info.per_epoch == COUNT / BATCH &&
            info.total == STEPS && info.start_step == 0,
        "info: %d images, %ld per epoch, total %ld, start %ld", info.count, info.per_epoch,
        info.total, info.start_step);
  CHECK(s->rows == 3 && s->steps[0] == 4 && s->steps[2] == STEPS, "%d progress rows", s->rows);
  CHECK(res.step == STEPS && res.steps == STEPS && !res.stopped && res.seconds > 0 &&
            res.img_s > 0,
        "result: step %ld, %ld steps, stopped %d", res.step, res.steps, res.stopped);
  CHECK(res.last.d_loss == s->m[2].d_loss && isfinite(res.last.g_loss),
        "result's last metrics are not the last row's");
  CHECK(res.evals == 0 && res.best_step == -1, "evaluations without eval_every");
  const char *files[] = {"metrics.csv", "losses.png", "checkpoint.safetensors",
                         "samples/step_000000.png", "samples/step_000006.png",
                         "samples/step_000012.png"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
    CHECK(exists(dir, files[i]), "the run folder lacks %s", files[i]);
  CHECK(!exists(dir, "eval.csv"), "eval.csv without eval_every");
  long last = 0;
  CHECK(csv_rows(dir, &last) == 3 && last == STEPS, "metrics.csv: rows up to step %ld", last);
  CHECK(s->warnings == 0, "a warning in a run that wrote everything: %s", s->warning);
}

/* Stopped after step 4, then resumed to the bound: the rows match the full run's. */
static void test_stop_and_resume(clgan_device *dev, const char *data, const char *dir,
                                 const seen *full) {
  static volatile sig_atomic_t stop;
  seen s = {.stop = &stop, .stop_at = 4};
  clgan_run_result res;
  clgan_run_info info;
  CHECK(run_to_end(dev, data, dir, NULL, &s, &res, &info) == CLGAN_OK, "stopped run failed");
  CHECK(res.stopped && res.step == 4 && s.rows == 1, "stop: at step %ld, stopped %d", res.step,
        res.stopped);
  CHECK(exists(dir, "checkpoint.safetensors"), "a stop without a checkpoint");
  stop = 0;
  char ck[1200];
  snprintf(ck, sizeof ck, "%s/checkpoint.safetensors", dir);
  seen r = {.stop = &stop, .stop_at = -1};
  CHECK(run_to_end(dev, data, dir, ck, &r, &res, &info) == CLGAN_OK, "resumed run failed");
  CHECK(info.start_step == 4 && res.steps == STEPS - 4 && res.step == STEPS,
        "resume: from %ld, %ld steps", info.start_step, res.steps);
  CHECK(r.rows == 2 && r.steps[1] == STEPS, "resume: %d rows", r.rows);
  CHECK(r.rows == 2 && r.m[1].d_loss == full->m[2].d_loss && r.m[1].g_loss == full->m[2].g_loss,
        "resumed step %d: D %.9g G %.9g, the full run %.9g %.9g", STEPS, r.m[1].d_loss,
        r.m[1].g_loss, full->m[2].d_loss, full->m[2].g_loss);
  long last = 0;
  CHECK(csv_rows(dir, &last) == 3 && last == STEPS, "resumed metrics.csv: up to step %ld", last);
}

static void test_refusals(clgan_device *dev, const char *data, const char *dir) {
  clgan_train_cfg cfg = small_cfg();
  clgan_run *run = NULL;
  clgan_run_info info;
  /* An evaluation needs a classifier: no callback is refused, after the data is known. */
  clgan_run_cfg rc = {.data_dir = data, .dir = dir, .log_every = 4, .eval_every = 6,
                      .eval_count = 10};
  CHECK(clgan_run_open(&run, dev, &cfg, &rc, NULL, &info) == CLGAN_INVALID_ARGUMENT && !run,
        "eval_every without a classifier callback was accepted");
  CHECK(info.count == COUNT, "info after a refusal: %d images", info.count);
  /* A batch larger than the data: the caller learns the data's size to word its advice. */
  cfg.batch = COUNT + 1;
  rc.eval_every = 0;
  CHECK(clgan_run_open(&run, dev, &cfg, &rc, NULL, &info) == CLGAN_INVALID_ARGUMENT && !run,
        "a batch above the data set was accepted");
  CHECK(info.count == COUNT && info.total == 0, "info after a refused batch: %d images",
        info.count);
  rc.log_every = 0;
  cfg.batch = BATCH;
  CHECK(clgan_run_open(&run, dev, &cfg, &rc, NULL, NULL) == CLGAN_INVALID_ARGUMENT,
        "log_every 0 was accepted");
}

int main(void) {
  clgan_device *dev = test_open_device();
  char tmp[] = "/tmp/clgan_test_run.XXXXXX";
  CHECK(mkdtemp(tmp) != NULL, "mkdtemp");
  char data[256], dir[256];
  snprintf(data, sizeof data, "%s/data", tmp);
  mkdir(data, 0755);
  CHECK(write_data(data), "cannot write the data set");

  seen full = {0};
  snprintf(dir, sizeof dir, "%s/full", tmp);
  test_full_run(dev, data, dir, &full);
  snprintf(dir, sizeof dir, "%s/resumed", tmp);
  test_stop_and_resume(dev, data, dir, &full);

  /* losses.png cannot be written (a folder is in its way): a warning, and the run goes on. */
  snprintf(dir, sizeof dir, "%s/noplot", tmp);
  mkdir(dir, 0755);
  char plot[1300];
  snprintf(plot, sizeof plot, "%s/losses.png", dir);
  CHECK(mkdir(plot, 0755) == 0, "mkdir %s", plot);
  seen s = {0};
  clgan_run_result res;
  CHECK(run_to_end(dev, data, dir, NULL, &s, &res, NULL) == CLGAN_OK, "run without its plot failed");
  /* The checkpoint of step 6 has one loss row (no plot yet), step 12's two. */
  CHECK(s.warnings == 1 && strstr(s.warning, "losses.png") && exists(dir, "checkpoint.safetensors"),
        "%d warnings (%s)", s.warnings, s.warning);

  snprintf(dir, sizeof dir, "%s/refused", tmp);
  test_refusals(dev, data, dir);

  nftw(tmp, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
  clgan_device_close(dev);
  return test_finish();
}
