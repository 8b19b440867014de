/* clgan tune: searches CLBlast's GEMM parameters for one device on training's shapes
 * (clgan_tune, src/device/tune.c) and stores the winners in the tuning cache that every later
 * run applies. The search starts from CLBlast's own defaults, so "before" is what an untuned
 * device gets. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void progress(const char *line, void *user) {
  (void)user;
  printf("  %s\n", line);
  fflush(stdout);
}

int cmd_tune(int argc, char **argv) {
  const char *sel = NULL, *out = NULL;
  float budget = 120.0f;
  int quiet = 0, reps = 3, max_candidates = 0;
  long seed = 1;
  const cli_opt opts[] = {
      {"device", "SEL", CLI_STR, &sel, "OpenCL device (index, P:D, type or name; $CLGAN_DEVICE)"},
      {"budget", "SECONDS", CLI_FLOAT, &budget,
       "time for the search (each candidate compiles CLBlast's GEMM program: ~10 s on PoCL)"},
      {"out", "FILE", CLI_STR, &out, "tuning cache to update (default: $CLGAN_TUNING_FILE or "
                                     "~/.cache/clgan/tuning.txt)"},
      {"reps", "N", CLI_INT, &reps, "least GEMMs per timing (more to fill ~10 ms; the best of 5 counts)"},
      {"max-candidates", "N", CLI_INT, &max_candidates, "stop after N candidates (0: no limit)"},
      {"seed", "N", CLI_LONG, &seed, "seed for the random candidates"},
      {"quiet", NULL, CLI_FLAG, &quiet, "print only the summary"},
  };
  int rc = cli_parse("tune",
                     "Searches CLBlast's XgemmDirect and Xgemm parameters and the direct/indirect "
                     "cross-over for the\ndevice on the GEMMs of training, checking every result, "
                     "and stores the winners for later runs.",
                     opts, (int)(sizeof opts / sizeof opts[0]), argc, argv);
  if (rc) return rc < 0 ? 0 : rc;
  if (!(budget > 0.0f) || reps < 1 || max_candidates < 0) {
    fprintf(stderr, "clgan tune: error: --budget must be positive, --reps at least 1, "
                    "--max-candidates not negative\n");
    return CLGAN_EXIT_USAGE;
  }

  char path[1024], key[512];
  if (out)
    snprintf(path, sizeof path, "%s", out);
  else
    clgan_tuning_default_path(path, sizeof path);

  /* Untuned: "before" is CLBlast's default, and no stored set can break the search's program. */
  clgan_device_cfg dcfg = {.selector = sel, .no_tuning = 1};
  clgan_device_cfg_from_env(&dcfg);
  clgan_device *dev = NULL;
  clgan_status st = clgan_device_open(&dev, &dcfg);
  if (st != CLGAN_OK) return cli_exit_code(st);
  const clgan_device_info *info = clgan_device_get_info(dev);
  clgan_device_tuning_key(dev, key, sizeof key);
  printf("tuning device %d (%d:%d): %s [%s], budget %.0f s\n", info->index, info->platform,
         info->device, info->name, info->platform_name, (double)budget);

  clgan_tune_cfg tcfg = {.budget_s = budget, .reps = reps, .max_candidates = max_candidates,
                         .seed = (unsigned long long)seed, .progress = quiet ? NULL : progress};
  clgan_tune_result res;
  st = clgan_tune(dev, &tcfg, &res);
  if (st != CLGAN_OK) {
    clgan_device_close(dev);
    return cli_exit_code(st);
  }
  printf("%d candidates in %.0f s, %d rejected (CLBlast error or wrong result)\n", res.tried,
         res.elapsed_s, res.rejected);
  printf("  %-22s %14s %14s %7s\n", "GEMM (m x n x k)", "before GFLOPS", "after GFLOPS", "ratio");
  for (int i = 0; i < res.nshapes; i++) {
    const clgan_tune_shape_result *r = &res.shapes[i];
    char shape[64];
    snprintf(shape, sizeof shape, "%zu x %zu x %zu %s%s", r->shape.m, r->shape.n, r->shape.k,
             r->shape.trans_a ? "T" : "N", r->shape.trans_b ? "T" : "N");
    if (r->before_gflops > 0)
      printf("  %-22s %14.1f %14.1f %6.1fx\n", shape, r->before_gflops, r->after_gflops,
             r->after_gflops / r->before_gflops);
    else
      printf("  %-22s %14s %14.1f\n", shape, "-", r->after_gflops);
  }
  if (res.before_ms > 0)
    printf("  %-22s %11.2f ms %11.2f ms %6.1fx\n", "one pass over all", res.before_ms,
           res.after_ms, res.before_ms / res.after_ms);
  for (int i = 0; i < res.count; i++) {
    const clgan_tuning *e = &res.entries[i];
    printf("  %s:", e->kernel);
    for (int j = 0; j < e->count; j++) printf("%s%s=%zu", j ? "," : " ", e->names[j], e->values[j]);
    printf("\n");
  }
  st = clgan_tuning_store(path, key, res.entries, res.count);
  clgan_device_close(dev);
  if (st != CLGAN_OK) return cli_exit_code(st);
  printf("stored in %s; later runs on this device apply it (CLGAN_NO_TUNING=1 turns it off)\n",
         path);
  return 0;
}
