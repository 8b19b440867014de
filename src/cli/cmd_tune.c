/* clgan tune: searches CLBlast's GEMM parameters for one device on training's shapes
 * (clgan_tune, src/tune/tune.c) and stores the winners in the tuning cache that every later
 * run applies. The search starts from CLBlast's own defaults, so "before" is what an untuned
 * device gets.
 *
 * Some parameter sets that pass CLBlast's constraints still crash a driver inside the kernel
 * (seen with PoCL: a segfault in Xgemm). So the search runs in a child process that journals
 * each candidate to this one through a pipe before it runs; when the child dies, the last
 * candidate is excluded and a new child resumes with the bests so far as its first seeds (PoCL's
 * own cache makes revisiting them cheap). This process never touches OpenCL itself.
 *
 * --if-untuned searches only where a device has no tuning at all, neither cached nor built-in,
 * and CLBlast's defaults are known slow on it (clgan_tuning_wanted): the README's first command
 * (scripts/quickstart.sh) runs it before training, so a fresh machine trains tuned (issue 11). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "clgan/gan.h"
#include "clgan/tune.h"

#define MAX_RESTARTS 8

typedef struct {
  const char *sel, *path, *model;
  clgan_train_cfg cfg; /* the preset named by model */
  double budget;
  int quiet, reps, max_candidates;
  int if_untuned; /* the first child decides whether to search at all */
  unsigned long long seed;
  clgan_tuning skip[MAX_RESTARTS];
  int nskip;
  clgan_tuning seeds[4];
  int nseeds;
  FILE *journal; /* the child's end of the pipe */
} tune_run;

static void progress(const char *line, void *user) {
  (void)user;
  printf("  %s\n", line);
  fflush(stdout);
}

/* One line per event: "try|best <kernel> NAME=VALUE,..." */
static void journal(const char *event, const clgan_tuning *set, void *user) {
  tune_run *run = user;
  fprintf(run->journal, "%s %s ", event, set->kernel);
  for (int i = 0; i < set->count; i++)
    fprintf(run->journal, "%s%s=%zu", i ? "," : "", set->names[i], set->values[i]);
  fprintf(run->journal, "\n");
  fflush(run->journal); /* it must reach the parent before the candidate runs */
}

static int parse_journal_line(char *line, char *event, size_t event_size, clgan_tuning *set) {
  memset(set, 0, sizeof *set);
  char *kernel = strchr(line, ' ');
  if (!kernel) return 0;
  *kernel++ = '\0';
  char *params = strchr(kernel, ' ');
  if (!params) return 0;
  *params++ = '\0';
  if (strlen(line) >= event_size) return 0;
  memcpy(event, line, strlen(line) + 1);
  snprintf(set->kernel, sizeof set->kernel, "%s", kernel);
  for (char *tok = strtok(params, ",\n"); tok && set->count < CLGAN_TUNE_MAX_PARAMS;
       tok = strtok(NULL, ",\n")) {
    char *eq = strchr(tok, '=');
    if (!eq) return 0;
    *eq = '\0';
    snprintf(set->names[set->count], sizeof set->names[0], "%s", tok);
    set->values[set->count++] = strtoul(eq + 1, NULL, 10);
  }
  return set->count > 0;
}

static void print_summary(const clgan_tune_result *res) {
  printf("%d candidates in %.0f s, %d rejected (CLBlast error or wrong result)\n", res->tried,
         res->elapsed_s, res->rejected);
  printf("  %-22s %14s %14s %7s\n", "GEMM (m x n x k)", "before GFLOPS", "after GFLOPS", "ratio");
  for (int i = 0; i < res->nshapes; i++) {
    const clgan_tune_shape_result *r = &res->shapes[i];
    char shape[64];
    snprintf(shape, sizeof shape, "%zu x %zu x %zu %s%s", r->shape.m, r->shape.n, r->shape.k,
             r->shape.trans_a ? "T" : "N", r->shape.trans_b ? "T" : "N");
    if (r->before_gflops > 0)
      printf("  %-22s %14.1f %14.1f %6.1fx\n", shape, r->before_gflops, r->after_gflops,
             r->after_gflops / r->before_gflops);
    else
      printf("  %-22s %14s %14.1f\n", shape, "-", r->after_gflops);
  }
  if (res->before_ms > 0)
    printf("  %-22s %11.2f ms %11.2f ms %6.1fx\n", "one step's GEMMs", res->before_ms,
           res->after_ms, res->before_ms / res->after_ms);
  for (int i = 0; i < res->count; i++) {
    const clgan_tuning *e = &res->entries[i];
    printf("  %s:", e->kernel);
    for (int j = 0; j < e->count; j++) printf("%s%s=%zu", j ? "," : " ", e->names[j], e->values[j]);
    printf("\n");
  }
}

static int wants_search(const char *sel, const char *path, double budget);

/* The child: open the device untuned, search, store. Returns the exit code. */
static int child_main(tune_run *run) {
  if (run->if_untuned && !wants_search(run->sel, run->path, run->budget)) return 0;
  /* Untuned: "before" is CLBlast's default, and no stored set can break the search's program. */
  /* The search is of CLBlast's parameters, on the products a step makes when CLBlast computes
   * them (the packed path's transposes and in-place layouts differ). */
  clgan_device_cfg dcfg = {.selector = run->sel, .no_tuning = 1};
  clgan_device_cfg_from_env(&dcfg);
  clgan_gemm_kind own = dcfg.gemm;
  dcfg.gemm = CLGAN_GEMM_CLBLAST;
  clgan_device *dev = NULL;
  clgan_status st = clgan_device_open(&dev, &dcfg);
  if (st != CLGAN_OK) return cli_exit_code(st);
  const clgan_device_info *info = clgan_device_get_info(dev);
  char key[512];
  clgan_device_tuning_key(dev, key, sizeof key);
  printf("tuning device %d (%d:%d): %s [%s], budget %.0f s\n", info->index, info->platform,
         info->device, info->name, info->platform_name, run->budget);
  dcfg.gemm = own;
  if (clgan_gemm_choose(info, &dcfg) == CLGAN_GEMM_PACKED)
    printf("note: this device's GEMMs run on clgan's packed kernels; CLBlast's sets found here "
           "apply with CLGAN_GEMM=clblast\n");
  fflush(stdout);

  /* The GEMMs of one training step of --model's preset, weighted by their calls. */
  clgan_tune_shape shapes[CLGAN_TUNE_MAX_SHAPES];
  int nshapes = 0;
  st = clgan_train_gemm_shapes(dev, &run->cfg, shapes, CLGAN_TUNE_MAX_SHAPES, &nshapes);
  if (st != CLGAN_OK) {
    clgan_device_close(dev);
    return cli_exit_code(st);
  }
  int calls = 0;
  for (int i = 0; i < nshapes; i++) calls += shapes[i].count;
  printf("the GEMMs of one %s step: %d calls of %d shapes\n", run->model, calls, nshapes);
  clgan_tune_cfg tcfg = {.budget_s = run->budget, .reps = run->reps,
                         .shapes = shapes, .nshapes = nshapes,
                         .max_candidates = run->max_candidates, .seed = run->seed,
                         .progress = run->quiet ? NULL : progress, .journal = journal,
                         .user = run, .seeds = run->seeds, .nseeds = run->nseeds,
                         .skip = run->skip, .nskip = run->nskip};
  clgan_tune_result res;
  st = clgan_tune(dev, &tcfg, &res);
  if (st == CLGAN_OK) {
    print_summary(&res);
    st = clgan_tuning_store(run->path, key, res.entries, res.count);
    if (st == CLGAN_OK)
      printf("stored in %s; later runs on this device apply it (CLGAN_NO_TUNING=1 turns it "
             "off)\n", run->path);
  }
  clgan_device_close(dev);
  return cli_exit_code(st);
}

/* --if-untuned: 1 to search, 0 (said why) when the selected device needs none. A device that
 * cannot be listed or selected goes to the search, whose device open reports why. Run in the
 * child: listing devices loads the driver, and PoCL's threads do not survive a fork (a child
 * forked after it hung in the device open). */
static int wants_search(const char *sel, const char *path, double budget) {
  clgan_device_cfg cfg = {.selector = sel, .tuning_file = path};
  clgan_device_cfg_from_env(&cfg);
  clgan_device_info *list = NULL;
  int n = 0, pick = -1;
  clgan_selector s;
  if (clgan_devices_list(&list, &n) == CLGAN_OK && clgan_selector_parse(cfg.selector, &s) == CLGAN_OK)
    pick = clgan_selector_match(&s, list, n);
  if (pick < 0) {
    free(list);
    return 1;
  }
  clgan_tuning_status ts;
  char what[1400];
  clgan_tuning_lookup(&list[pick], &cfg, &ts);
  clgan_tuning_describe(&ts, what, sizeof what);
  int want = clgan_tuning_wanted(&ts);
  if (want)
    printf("clgan tune: %s has no GEMM tuning (%s), slow on a CPU: tuning it once, %.0f s\n",
           list[pick].name, what, budget);
  else
    printf("clgan tune: %s: GEMM tuning %s; no search (%s)\n", list[pick].name, what,
           ts.source == CLGAN_TUNING_OFF    ? "CLGAN_NO_TUNING is set"
           : ts.gemm == CLGAN_GEMM_PACKED
               ? "its GEMMs run on clgan's packed kernels, which need no tuning; CLGAN_GEMM=clblast "
                 "for CLBlast"
           : ts.source == CLGAN_TUNING_NONE ? "CLBlast's own defaults serve this kind of device"
                                            : "without --if-untuned clgan tune searches anyway");
  fflush(stdout);
  free(list);
  return want;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int cmd_tune(int argc, char **argv) {
  const char *sel = NULL, *out = NULL, *model = "mlp-bn";
  float budget = 120.0f;
  int quiet = 0, reps = 3, max_candidates = 0, if_untuned = 0;
  long seed = 1;
  char presets[CLI_NAMES_MAX], model_help[CLI_NAMES_MAX + 128];
  cli_names(presets, sizeof presets, clgan_preset_names, -1);
  snprintf(model_help, sizeof model_help, "tune on the GEMMs of one training step of this preset "
           "(%s), each weighted by its calls per step", presets);
  const cli_opt opts[] = {
      {"device", "SEL", CLI_STR, &sel, "OpenCL device (index, P:D, type or name; $CLGAN_DEVICE)", NULL},
      {"budget", "SECONDS", CLI_FLOAT, &budget,
       "time for the search (each candidate builds CLBlast's GEMM program: ~8-20 s on PoCL)", NULL},
      {"out", "FILE", CLI_STR, &out, "tuning cache to update (default: $CLGAN_TUNING_FILE or "
                                     "~/.cache/clgan/tuning.txt)", NULL},
      {"reps", "N", CLI_INT, &reps, "least GEMMs per timing (more to fill ~10 ms; best of 5)", NULL},
      {"max-candidates", "N", CLI_INT, &max_candidates, "stop after N candidates (0: no limit)", NULL},
      {"seed", "N", CLI_LONG, &seed, "seed for the random candidates", NULL},
      {"model", "NAME", CLI_STR, &model, model_help, NULL},
      {"quiet", NULL, CLI_FLAG, &quiet, "print only the summary", NULL},
      {"if-untuned", NULL, CLI_FLAG, &if_untuned, "search only if the device has no tuning, "
       "cached or built-in, and CLBlast's defaults are slow on it (a CPU through PoCL); "
       "CLGAN_NO_TUNING=1 skips it", NULL},
  };
  int rc = cli_parse("tune",
                     "Searches CLBlast's XgemmDirect and Xgemm parameters and the direct/indirect "
                     "cross-over for the\ndevice on the GEMMs of one training step of --model, "
                     "checking every result, and stores\nthe winners for later runs.",
                     opts, (int)(sizeof opts / sizeof opts[0]), argc, argv);
  if (rc) return rc < 0 ? 0 : rc;
  if (!(budget > 0.0f) || reps < 1 || max_candidates < 0) {
    fprintf(stderr, "clgan tune: error: --budget must be positive, --reps at least 1, "
                    "--max-candidates not negative\n");
    return CLGAN_EXIT_USAGE;
  }
  tune_run run = {.sel = sel, .model = model, .budget = budget, .quiet = quiet, .reps = reps,
                  .max_candidates = max_candidates, .seed = (unsigned long long)seed};
  if (clgan_preset(model, &run.cfg) != CLGAN_OK) {
    fprintf(stderr, "clgan tune: error: unknown --model '%s': use %s\n", model, presets);
    return CLGAN_EXIT_USAGE;
  }
  char path[1024];
  if (out)
    snprintf(path, sizeof path, "%s", out);
  else
    clgan_tuning_default_path(path, sizeof path);

  run.path = path;
  run.if_untuned = if_untuned;
  double start = now_s();
  for (int attempt = 0;; attempt++) {
    int fds[2];
    if (pipe(fds) != 0) {
      fprintf(stderr, "clgan tune: error: pipe: %s\n", strerror(errno));
      return CLGAN_EXIT_FAILURE;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
      fprintf(stderr, "clgan tune: error: fork: %s\n", strerror(errno));
      return CLGAN_EXIT_FAILURE;
    }
    if (pid == 0) {
      close(fds[0]);
      run.journal = fdopen(fds[1], "w");
      int code = run.journal ? child_main(&run) : CLGAN_EXIT_FAILURE;
      fflush(stdout);
      _exit(code);
    }
    close(fds[1]);
    FILE *in = fdopen(fds[0], "r");
    clgan_tuning last_try, set;
    int have_try = 0;
    char line[4096], event[16];
    while (in && fgets(line, sizeof line, in)) {
      if (!parse_journal_line(line, event, sizeof event, &set)) continue;
      if (!strcmp(event, "try")) {
        last_try = set;
        have_try = 1;
      } else if (!strcmp(event, "best")) {
        int slot = 0; /* one best per kernel, the latest */
        while (slot < run.nseeds && strcmp(run.seeds[slot].kernel, set.kernel) != 0) slot++;
        if (slot < 4) {
          run.seeds[slot] = set;
          if (slot == run.nseeds) run.nseeds++;
        }
      }
    }
    if (in) fclose(in);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    double left = budget - (now_s() - start);
    if (!have_try || attempt + 1 >= MAX_RESTARTS || run.nskip >= MAX_RESTARTS) {
      fprintf(stderr, "clgan tune: error: the search died (signal %d) %s\n", sig,
              have_try ? "too often; nothing stored" : "before its first candidate");
      return CLGAN_EXIT_FAILURE;
    }
    run.skip[run.nskip++] = last_try;
    run.if_untuned = 0; /* the search started: the decision stands */
    fprintf(stderr, "clgan tune: warning: the driver died (signal %d) running this %s set; it is "
                    "excluded and the search resumes:\n  ",
            sig, last_try.kernel);
    for (int i = 0; i < last_try.count; i++)
      fprintf(stderr, "%s%s=%zu", i ? "," : "", last_try.names[i], last_try.values[i]);
    fprintf(stderr, "\n");
    /* The resumed search gets what is left of the budget, and at least room to re-time the
     * bests so far and store them. */
    run.budget = left > 30.0 ? left : 30.0;
  }
}
