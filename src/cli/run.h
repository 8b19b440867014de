/* The training run behind `clgan train`: the library's run (clgan_run_*, include/clgan/gan.h)
 * with the CLI's device, classifier lookup, and printing (live line, plain lines, evaluations,
 * summary, the errors worded in option names). */
#ifndef CLGAN_CLI_RUN_H
#define CLGAN_CLI_RUN_H

#include <signal.h>

#include "clgan/gan.h"

typedef struct {
  const char *data_dir, *out_dir, *device, *resume;
  int log_every, quiet, profile;
  int data_limit;         /* 0: every training image */
  long eval_every;        /* 0: no evaluation during training */
  int eval_count, keep_best;
  const char *classifier; /* NULL: the cached one for the data */
  int grid_scale;         /* sample grids' pixel scale; 0: clgan_grid_auto_scale */
  int image_size, channels; /* --image-size, --channels (0: the data's) */
  int no_data_cache;        /* --no-data-cache */
  clgan_dist *dist;       /* data-parallel group (NULL: alone) */
} cli_run_options;

/* Returns the process exit code. *stop becomes non-zero on SIGINT/SIGTERM. */
int cli_run_training(const clgan_train_cfg *cfg, const cli_run_options *ro,
                     volatile sig_atomic_t *stop);

#endif
