/* The tuning search behind `clgan tune`: CLBlast's XgemmDirect and Xgemm parameters and the
 * direct/indirect cross-over for one device, on the GEMMs training runs. A program built on the
 * device layer's public API (clgan/device.h), not part of that layer: src/tune/. Its winners go
 * to the cache through clgan_tuning_store, which the device layer applies at every open. */
#ifndef CLGAN_TUNE_H
#define CLGAN_TUNE_H

#include "clgan/device.h"

typedef struct {
  double budget_s;        /* seconds for the search; <= 0 means 120. The final check comes on top */
  int max_candidates;     /* stop after this many candidates; 0: only the budget limits */
  int reps;               /* least GEMMs per timing (more to fill ~10 ms); 0 means 3 */
  unsigned long long seed; /* candidate sampling: same seed, same sequence */
  int skip_baseline;      /* do not time the parameters in effect before the search */
  const clgan_tune_shape *shapes; /* NULL: clgan_tune_default_shapes */
  int nshapes;
  void (*progress)(const char *line, void *user); /* optional, one line per step */
  /* Optional: called with "try" before each candidate runs and with "best" for each new best.
   * A driver that crashes in a candidate's kernel takes the process with it; `clgan tune`
   * runs the search in a child process, reads this journal and resumes without that set. */
  void (*journal)(const char *event, const clgan_tuning *set, void *user);
  void *user;
  const clgan_tuning *seeds; /* sets to try first (an earlier run's bests) */
  int nseeds;
  const clgan_tuning *skip; /* sets never to try (ones that crashed an earlier run) */
  int nskip;
} clgan_tune_cfg;

typedef struct {
  clgan_tune_shape shape;
  double before_gflops; /* parameters in effect when clgan_tune was called; 0 if not timed */
  double after_gflops;  /* the winners, applied */
} clgan_tune_shape_result;

typedef struct {
  clgan_tuning entries[3]; /* the winners for clgan_tuning_store: XgemmDirect, Xgemm, GemmRoutine */
  int count;
  clgan_tune_shape_result shapes[CLGAN_TUNE_MAX_SHAPES];
  int nshapes;
  double before_ms, after_ms;    /* one pass over the shapes (0 if not timed) */
  double direct_ms, indirect_ms; /* best pass with every shape forced direct / indirect; 0: none */
  int tried, rejected;           /* candidates timed; candidates CLBlast refused or got wrong */
  double elapsed_s;
} clgan_tune_result;

/* The GEMMs of the mlp GAN's training step (784x256 layer at batch 128, 1024x784 at batch 64,
 * two small ones): forward, input gradient and weight gradient. Returns the count written. */
int clgan_tune_default_shapes(clgan_tune_shape *shapes, int max);

/* Searches CLBlast's XgemmDirect and Xgemm parameters and the direct/indirect cross-over for
 * dev on the shapes, maximising throughput over the set: every candidate's result is checked
 * against clgan_gemm_reference and a wrong one is discarded. On return the winners are applied
 * to dev (CLBlast keeps them for the process) and listed in result for clgan_tuning_store.
 * Open dev with clgan_device_cfg.no_tuning to start from CLBlast's own defaults. */
clgan_status clgan_tune(clgan_device *dev, const clgan_tune_cfg *cfg, clgan_tune_result *result);

#endif
