/* The training run behind `clgan train`: owns the device, data, trainer and run folder. */
#ifndef CLGAN_CLI_RUN_H
#define CLGAN_CLI_RUN_H

#include <signal.h>

#include "clgan/gan.h"

typedef struct {
  const char *data_dir, *out_dir, *device, *resume;
  int log_every, quiet, profile;
  long eval_every;        /* 0: no evaluation during training */
  int eval_count, keep_best;
  const char *classifier; /* NULL: the cached one for the data */
} clgan_run_options;

/* Returns the process exit code. *stop becomes non-zero on SIGINT/SIGTERM. */
int clgan_run_training(const clgan_train_cfg *cfg, const clgan_run_options *ro,
                       volatile sig_atomic_t *stop);

#endif
