/* `clgan train`'s side of a training run: the library's run (src/gan/run.c) does the work and
 * keeps the run folder; here the device is opened, the classifier for --eval-every looked up
 * (cached, or trained on the spot with progress lines), and everything the user sees printed:
 * the header, the live line on a terminal or plain lines in a log, the evaluations, the
 * summary, the profile, and the errors worded in the options that fix them. */
#include "cli/run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/evalcli.h"
#include "clgan/data.h"

typedef struct {
  const cli_run_options *ro;
  const char *data_dir;
  int tty; /* the live line: stdout is a terminal and not --quiet */
} printer;

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

/* A terminal gets one line rewritten at every metrics row; a log a line every ten rows and at
 * the end. */
static void on_progress(void *user, const clgan_run_progress *p) {
  const printer *pr = user;
  const clgan_metrics *m = &p->m;
  char eta[32];
  format_eta(eta, sizeof eta, p->eta_s);
  if (pr->tty) {
    printf("\r\033[Kepoch %d  step %ld/%ld  D %.4f  G %.4f  D(x) %.3f  D(G(z)) %.3f  "
           "acc %.1f%%  %.0f img/s  ETA %s", p->epoch + 1, p->step, p->total,
           m->d_loss, m->g_loss, m->d_real, m->d_fake, 100 * m->acc, p->img_s, eta);
    fflush(stdout);
  } else if (!pr->ro->quiet && (p->step % (10L * pr->ro->log_every) == 0 || p->at_end)) {
    printf("epoch %d step %ld/%ld d_loss %.4f g_loss %.4f d_real %.3f d_fake %.3f "
           "acc %.1f%% img/s %.0f eta %s\n", p->epoch + 1, p->step, p->total,
           m->d_loss, m->g_loss, m->d_real, m->d_fake, 100 * m->acc, p->img_s, eta);
    fflush(stdout);
  }
}

static void on_evaluated(void *user, const clgan_run_eval_report *e) {
  const printer *pr = user;
  const clgan_eval_result *r = e->r;
  if (pr->ro->quiet) return;
  printf("%seval step %ld: FID %.3f  KID %.5f  precision %.3f  recall %.3f  density %.3f  "
         "coverage %.3f  class entropy %.3f  (%.1f s)%s\n",
         isatty(STDOUT_FILENO) ? "\r\033[K" : "", e->step, r->fid, r->kid_mean,
         r->prdc.precision, r->prdc.recall, r->prdc.density, r->prdc.coverage,
         r->classes.entropy, e->seconds,
         e->saved_best ? "  best so far: checkpoint-best.safetensors" : "");
  fflush(stdout);
}

static void on_warning(void *user, const char *text) {
  (void)user;
  fprintf(stderr, "clgan train: warning: %s\n", text);
}

/* A folder being decoded: a live count on a terminal, a line every 10% in a log. */
static void on_scan(void *user, int done, int total) {
  const printer *pr = user;
  if (pr->ro->quiet || total < 256) return;
  if (pr->tty) {
    printf("\r\033[Kdecoding %s: %d/%d images", pr->data_dir, done, total);
    if (done == total) printf("\r\033[K");
    fflush(stdout);
  } else if (done == total || done / 64 % ((total / 640) + 1) == 0) {
    printf("decoding %s: %d/%d images\n", pr->data_dir, done, total);
    fflush(stdout);
  }
}

/* What the data source held: the source, the size before and after, classes, skipped files. */
static void print_data(const clgan_run_info *info, const char *data_dir) {
  const clgan_data_summary *d = &info->data;
  printf("  data %s (%s): %d images %dx%d", data_dir, clgan_source_kind_name(d->kind),
         info->count, info->rows, info->cols);
  printf(", %s", info->channels == 3 ? "RGB" : "gray");
  if (d->resized)
    printf(", %d resized (the first from %dx%d; centre crop, antialiased)", d->resized,
           d->src_cols, d->src_rows);
  if (d->kind == CLGAN_SOURCE_FOLDER && d->skipped == 0)
    printf("; %d image files, none skipped", d->files);
  else if (d->kind == CLGAN_SOURCE_FOLDER)
    printf("; %d image files, %d skipped (unreadable%s)", d->files, d->skipped,
           d->cached ? "" : ": each named in a warning");
  printf("\n");
  if (d->cache[0])
    printf("  decode cache %s (%s)\n", d->cache, d->cached ? "read: nothing decoded" : "written");
  if (d->classes[0]) printf("  classes %s\n", d->classes);
  if (info->streamed)
    printf("  streamed: %llu bytes of images over the device budget of %llu (batches uploaded "
           "while the device computes)\n", info->data_bytes, info->budget);
}

/* The classifier lookup stays here: it may train one first, printing its progress. */
static clgan_status on_classifier(void *user, clgan_device *dev, const clgan_dataset *train,
                                  clgan_classifier **out) {
  const printer *pr = user;
  return cli_classifier_for_data(dev, pr->ro->classifier, pr->data_dir, train, pr->ro->quiet,
                                 out, NULL, 0);
}

static void print_summary(const clgan_run_result *res, const cli_run_options *ro,
                          const char *dev_name, const char *dir) {
  const clgan_metrics *m = &res->last;
  if (res->stopped) {
    printf("clgan train: stopped by signal at step %ld; checkpoint saved. Resume with:\n"
           "  clgan train --resume %s/checkpoint.safetensors\n", res->step, dir);
  } else {
    printf("clgan train: %ld steps in %.1f s (%.0f img/s) on %s; last D %.4f, G %.4f, "
           "D(x) %.3f, D(G(z)) %.3f\n  samples  %s/samples/step_%06ld.png\n"
           "  checkpoint %s/checkpoint.safetensors\n  metrics  %s/metrics.csv, %s/losses.png\n",
           res->steps, res->seconds, res->img_s, dev_name, m->d_loss, m->g_loss, m->d_real,
           m->d_fake, dir, res->step, dir, dir, dir);
  }
  if (ro->eval_every > 0 && (res->evals > 0 || res->best_step >= 0))
    printf("  eval     best FID %.3f at step %ld; %d evaluation(s) of %d samples took %.1f s "
           "(%.0f%% of the run)\n           %s/eval.csv, %s/eval.png%s%s%s\n",
           res->best_fid, res->best_step, res->evals, res->eval_count, res->eval_seconds,
           100 * res->eval_seconds / (res->seconds > 0 ? res->seconds : 1), dir, dir,
           ro->keep_best ? ", " : "", ro->keep_best ? dir : "",
           ro->keep_best ? "/checkpoint-best.safetensors" : "");
  fflush(stdout); /* the summary is out even if a driver's exit handlers misbehave */
}

static void print_profile(clgan_device *dev) {
  clgan_profile_entry *prof = NULL;
  int np = 0;
  if (clgan_profile_collect(dev, &prof, &np) != CLGAN_OK) return;
  double sum = 0;
  for (int i = 0; i < np; i++) sum += prof[i].ms;
  printf("device time by kernel (%.1f ms in all):\n", sum);
  for (int i = 0; i < np; i++)
    printf("  %-28s %8ld calls %10.1f ms %5.1f%%\n", prof[i].name, prof[i].calls, prof[i].ms,
           100 * prof[i].ms / (sum > 0 ? sum : 1));
  free(prof);
}

/* The failures whose remedy is an option: the library reported what happened, here the CLI
 * says which option changes it. */
static void explain_failure(clgan_status st, clgan_device *dev, const clgan_train_cfg *cfg,
                            const cli_run_options *ro, const char *dir) {
  if (st == CLGAN_DEVICE_OUT_OF_MEMORY)
    fprintf(stderr, "clgan train: error: the run does not fit in the memory of %s at batch %d: try "
                    "a smaller --batch, or another --device (clgan devices lists their memory)\n",
            dev ? clgan_device_get_info(dev)->name : "the device", cfg->batch);
  if (st == CLGAN_HOST_OUT_OF_MEMORY)
    fprintf(stderr, "clgan train: error: the host ran out of memory at batch %d: try a smaller "
                    "--batch%s\n", cfg->batch, ro->eval_every > 0 ? " or --eval-count" : "");
  if (st == CLGAN_WRITE_FAILED)
    fprintf(stderr, "clgan train: error: a file of the run could not be written in %s (disk full "
                    "or no permission); a checkpoint already there is intact: make room and go "
                    "on with --resume %s/checkpoint.safetensors\n", dir, dir);
}

/* Opens the run and prints its header; refuses a resumed run that is already at its bound. */
static clgan_status open_run(clgan_run **run, clgan_device *dev, const clgan_train_cfg *cfg,
                             const clgan_run_cfg *rc, const clgan_run_callbacks *cb,
                             const cli_run_options *ro) {
  clgan_run_info info;
  clgan_status st = clgan_run_open(run, dev, cfg, rc, cb, &info);
  if (st == CLGAN_INVALID_ARGUMENT && info.count > 0 && cfg->batch > info.count)
    fprintf(stderr, "clgan train: error: use --batch %d or less with this data set\n",
            info.count);
  if (st) return st;
  const clgan_device_info *di = clgan_device_get_info(dev);
  clgan_tuning_status ts;
  char tuning[1400];
  clgan_device_tuning_status(dev, &ts);
  clgan_tuning_describe(&ts, tuning, sizeof tuning);
  if (!ro->quiet) {
    /* The trainer's specs: a preset's are fitted to the data's shape (clgan_preset_fit). */
    const clgan_train_cfg *tc = clgan_trainer_cfg(clgan_run_trainer(*run));
    char gemm[160];
    clgan_device_gemm_describe(dev, gemm, sizeof gemm);
    if (clgan_device_gemm(dev) == CLGAN_GEMM_PACKED)
      printf("clgan train: %s on %s [%s]\n  GEMM %s\n", cfg->model, di->name, di->platform_name,
             gemm);
    else
      printf("clgan train: %s on %s [%s]\n  GEMM tuning %s\n", cfg->model, di->name,
             di->platform_name, tuning);
    print_data(&info, rc->data_dir);
    printf("  G %s\n  D %s\n  batch %d, %ld steps (%ld per epoch)%s, run folder %s\n",
           tc->g_spec, tc->d_spec, cfg->batch, info.total, info.per_epoch,
           ro->resume ? ", resumed" : "", rc->dir);
    int k = cfg->accumulate > 1 ? cfg->accumulate : 1, n = clgan_dist_size(ro->dist);
    if (k > 1 || n > 1)
      printf("  global batch %ld = batch %d x accumulate %d x %d rank(s): one optimizer step "
             "per %ld images, losses averaged over them\n",
             clgan_train_global_batch(cfg), cfg->batch, k, n, clgan_train_global_batch(cfg));
    if (tc->classes > 0) {
      clgan_net_spec d_spec;
      clgan_cond_cfg gc, dc;
      char err[64];
      if (clgan_spec_parse(tc->d_spec, &d_spec, err, sizeof err) == CLGAN_OK) {
        clgan_conditioning(tc, &d_spec, &gc, &dc);
        printf("  conditional on %d classes: G %s, D %s\n", tc->classes,
               clgan_cond_name(gc.kind), clgan_cond_name(dc.kind));
      }
    }
    fflush(stdout);
    cli_tuning_note("train", &ts);
  }
  if (info.start_step >= info.total) {
    fprintf(stderr, "clgan train: error: the checkpoint is at step %ld, which already reaches "
                    "the run's bound of %ld steps; raise --steps or --epochs to go on\n",
            info.start_step, info.total);
    return CLGAN_INVALID_ARGUMENT;
  }
  return CLGAN_OK;
}

/* The device selector of this rank: --device (or $CLGAN_DEVICE) may list one per local rank,
 * comma-separated; one selector is shared. Without either, local ranks take the node's GPUs in
 * turn, or share the default device when there is none. 0, or the exit code. */
static int rank_selector(const char *given, const clgan_dist *dist, char *out, size_t size,
                         const char **sel) {
  int local = clgan_dist_local_rank(dist), nlocal = clgan_dist_local_size(dist);
  const char *text = given ? given : getenv("CLGAN_DEVICE");
  *sel = given;
  if (text && *text && strchr(text, ',')) {
    const char *p = text;
    for (int i = 0; i < local && p; i++) {
      p = strchr(p, ',');
      if (p) p++;
    }
    if (!p) {
      fprintf(stderr, "clgan train: error: --device '%s' lists fewer selectors than the %d "
                      "ranks on this node (one per local rank, comma-separated)\n", text, nlocal);
      return CLGAN_EXIT_USAGE;
    }
    size_t n = strcspn(p, ",");
    snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), p);
    *sel = out;
    return 0;
  }
  if ((text && *text) || nlocal == 1) return 0;
  clgan_device_info *list = NULL;
  int count = 0, gpus = 0;
  if (clgan_devices_list(&list, &count) != CLGAN_OK) return 0; /* the open reports it */
  for (int i = 0; i < count; i++) gpus += list[i].type == CLGAN_DEVICE_GPU;
  for (int i = 0, g = 0; gpus > 0 && i < count; i++) {
    if (list[i].type != CLGAN_DEVICE_GPU) continue;
    if (g++ == local % gpus) {
      snprintf(out, size, "%d", list[i].index);
      *sel = out;
    }
  }
  free(list);
  return 0;
}

int cli_run_training(const clgan_train_cfg *cfg, const cli_run_options *ro_in,
                     volatile sig_atomic_t *stop) {
  /* Data-parallel, rank 0 alone prints progress and the summary; errors come from any rank. */
  cli_run_options quiet_ro = *ro_in;
  int rank = clgan_dist_rank(ro_in->dist), ranks = clgan_dist_size(ro_in->dist);
  if (rank != 0) quiet_ro.quiet = 1, quiet_ro.profile = 0;
  const cli_run_options *ro = &quiet_ro;
  char selector[128];
  int sel_rc = rank_selector(ro->device, ro->dist, selector, sizeof selector, &quiet_ro.device);
  if (sel_rc) return sel_rc;
  clgan_device *dev = NULL;
  clgan_run *run = NULL;
  char dir[1024];
  printer pr = {.ro = ro, .data_dir = clgan_data_dir(ro->data_dir),
                .tty = isatty(STDOUT_FILENO) && !ro->quiet};
  if (ro->out_dir) snprintf(dir, sizeof dir, "%s", ro->out_dir);
  else clgan_run_default_dir(dir, sizeof dir, ro->resume, cfg->model);
  clgan_run_cfg rc = {.data_dir = pr.data_dir, .dir = dir, .resume = ro->resume,
                      .log_every = ro->log_every, .data_limit = ro->data_limit,
                      .eval_every = ro->eval_every,
                      .eval_count = ro->eval_count, .keep_best = ro->keep_best, .stop = stop,
                      .grid_scale = ro->grid_scale,
                      .data = {.image_size = ro->image_size, .channels = ro->channels,
                               .progress = on_scan, .user = &pr,
                               .no_cache = ro->no_data_cache},
                      .dist = ro->dist};
  clgan_run_callbacks cb = {.progress = on_progress, .evaluated = on_evaluated,
                            .warning = on_warning, .classifier = on_classifier, .user = &pr};
  clgan_status st = cli_open_device(ro->device, ro->profile, &dev);
  if (st == CLGAN_OK) st = open_run(&run, dev, cfg, &rc, &cb, ro);
  if (st == CLGAN_OK) {
    st = clgan_run_until(run);
    clgan_run_result res;
    clgan_run_get_result(run, &res);
    if (st == CLGAN_NUMERIC && !(isfinite(res.last.d_loss) && isfinite(res.last.g_loss)))
      fprintf(stderr, "\nclgan train: error: the losses became non-finite at step %ld "
                      "(D %g, G %g); the last checkpoint is intact. Try a lower --lr or "
                      "--clip-grad-norm.\n", res.step, res.last.d_loss, res.last.g_loss);
  }
  if (st == CLGAN_OK) {
    if (pr.tty) printf("\n");
    st = clgan_run_finish(run);
  }
  if (st == CLGAN_OK && rank == 0) {
    clgan_run_result res;
    clgan_run_get_result(run, &res);
    print_summary(&res, ro, clgan_device_get_info(dev)->name, dir);
    if (ro->profile) print_profile(dev);
  }
  explain_failure(st, dev, cfg, ro, dir);
  /* The other ranks may be waiting in a collective for this one: end the job, from here. The
   * checkpoint on disk is whole (written atomically) and --resume continues from it. */
  if (st != CLGAN_OK && ranks > 1)
    clgan_dist_abort(ro->dist, cli_exit_code(st), "training failed (%s); ending every rank. "
                     "A checkpoint already in %s is intact: --resume %s/checkpoint.safetensors "
                     "continues from it", clgan_status_name(st), dir, dir);
  clgan_run_close(run);
  clgan_device_close(dev);
  return st == CLGAN_OK ? 0 : cli_exit_code(st);
}
