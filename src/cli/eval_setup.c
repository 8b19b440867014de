/* The pieces clgan eval and clgan train --eval-every share (cli/evalcli.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/evalcli.h"
#include "util/fsutil.h"

static void print_progress(const char *line, void *user) {
  (void)user;
  printf("  %s\n", line);
  fflush(stdout);
}

static clgan_status train_and_cache(clgan_device *dev, const char *dir, const clgan_dataset *train,
                                    const char *path, int quiet, clgan_classifier **out) {
  clgan_dataset test = {0};
  clgan_status st = clgan_dataset_load(dir, "t10k", &test);
  if (st) {
    clgan_error("training the evaluation classifier needs the labelled test split (t10k-images "
                "and t10k-labels) in %s", dir);
    return CLGAN_INVALID_ARGUMENT;
  }
  if (!quiet) {
    printf("clgan: no classifier cached for the data in %s: training one first (Fashion-MNIST: "
           "a few minutes on a 2-core CPU); it is kept in %s for later evaluations\n", dir, path);
    fflush(stdout);
  }
  clgan_classifier_cfg cfg = {.seed = 1, .progress = quiet ? NULL : print_progress};
  double acc = 0;
  if ((st = clgan_classifier_train(out, dev, &cfg, train, &test, &acc))) goto done;
  if ((st = clgan_make_parent_dirs(path)) || (st = clgan_classifier_save(*out, path))) goto done;
  if (!quiet) printf("clgan: classifier test accuracy %.2f %% -> %s\n", 100 * acc, path);
done:
  clgan_dataset_free(&test);
  return st;
}

clgan_status cli_classifier_for_data(clgan_device *dev, const char *path, const char *dir,
                                     const clgan_dataset *train, int quiet,
                                     clgan_classifier **out, char *where, size_t where_size) {
  char fp[CLGAN_FINGERPRINT_MAX], cache[1024];
  clgan_status st;
  *out = NULL;
  clgan_dataset_fingerprint(train, fp, sizeof fp);
  if (!path) {
    clgan_classifier_cache_path(fp, cache, sizeof cache);
    path = cache;
    struct stat sb;
    if (stat(path, &sb) != 0) {
      if (where) snprintf(where, where_size, "%s", path);
      return train_and_cache(dev, dir, train, path, quiet, out);
    }
  }
  if (where) snprintf(where, where_size, "%s", path);
  if ((st = clgan_classifier_load(out, dev, path))) return st;
  const char *theirs = clgan_classifier_fingerprint(*out);
  if (strcmp(theirs, fp) != 0) {
    clgan_error("the classifier %s was trained on other data (fingerprint %s) than the training "
                "split of %s (fingerprint %s): leave out --classifier, or train one with "
                "clgan classifier train --data %s", path, theirs, dir, fp, dir);
    clgan_classifier_free(*out);
    *out = NULL;
    return CLGAN_INVALID_ARGUMENT;
  }
  return CLGAN_OK;
}

void cli_print_eval(FILE *f, const clgan_eval_result *r, int indent) {
  const clgan_class_stats *c = &r->classes;
  fprintf(f, "%*sFID        %.4f\n", indent, "", r->fid);
  fprintf(f, "%*sKID        %.6f +- %.6f (%d subsets of %d)\n", indent, "", r->kid_mean,
          r->kid_std, r->kid_subsets, r->kid_subset_size);
  fprintf(f, "%*sprecision  %.4f  (k = %d)\n", indent, "", r->prdc.precision, r->k_pr);
  fprintf(f, "%*srecall     %.4f  (k = %d)\n", indent, "", r->prdc.recall, r->k_pr);
  fprintf(f, "%*sdensity    %.4f  (k = %d)\n", indent, "", r->prdc.density, r->k_dc);
  fprintf(f, "%*scoverage   %.4f  (k = %d)\n", indent, "", r->prdc.coverage, r->k_dc);
  fprintf(f, "%*sclasses   ", indent, "");
  for (int i = 0; i < c->classes; i++)
    fprintf(f, " %d:%.1f%%", i, c->count ? 100.0 * (double)c->hist[i] / c->count : 0.0);
  fprintf(f, "\n%*s           entropy %.4f of %.4f, mean confidence %.4f\n", indent, "",
          c->entropy, c->classes > 0 ? log((double)c->classes) : 0.0, c->mean_conf);
}

void cli_json_eval(FILE *f, const clgan_eval_result *r, int indent) {
  const clgan_class_stats *c = &r->classes;
  const char *pad = "                ";
  int n = indent < 14 ? indent : 14;
  fprintf(f, "{\n%.*s  \"count\": %d, \"real_count\": %d, \"features\": %d,\n", n, pad,
          r->n_fake, r->n_real, r->dim);
  fprintf(f, "%.*s  \"fid\": %.17g,\n", n, pad, r->fid);
  fprintf(f, "%.*s  \"kid\": {\"mean\": %.17g, \"std\": %.17g, \"subsets\": %d, "
             "\"subset_size\": %d},\n", n, pad, r->kid_mean, r->kid_std, r->kid_subsets,
          r->kid_subset_size);
  fprintf(f, "%.*s  \"precision\": %.17g, \"recall\": %.17g, \"k_pr\": %d,\n", n, pad,
          r->prdc.precision, r->prdc.recall, r->k_pr);
  fprintf(f, "%.*s  \"density\": %.17g, \"coverage\": %.17g, \"k_dc\": %d,\n", n, pad,
          r->prdc.density, r->prdc.coverage, r->k_dc);
  fprintf(f, "%.*s  \"classes\": {\"histogram\": [", n, pad);
  for (int i = 0; i < c->classes; i++) fprintf(f, "%s%ld", i ? ", " : "", c->hist[i]);
  fprintf(f, "], \"entropy\": %.17g, \"max_entropy\": %.17g, \"mean_confidence\": %.17g},\n",
          c->entropy, c->classes > 0 ? log((double)c->classes) : 0.0, c->mean_conf);
  fprintf(f, "%.*s  \"seconds\": {\"features\": %.3f, \"fid\": %.3f, \"kid\": %.3f, "
             "\"prdc\": %.3f}\n%.*s}", n, pad, r->embed_s, r->fid_s, r->kid_s, r->prdc_s, n, pad);
}
