/* What clgan eval and clgan train --eval-every share: the classifier for a data set (given,
 * cached, or trained on the spot), and the printing of results. */
#ifndef CLGAN_CLI_EVALCLI_H
#define CLGAN_CLI_EVALCLI_H

#include <stdio.h>

#include "clgan/data.h"
#include "clgan/eval.h"

/* The classifier that judges images like those of train (loaded from dir's train split):
 * - path given: loaded from it; trained on other data (fingerprints differ) is refused, naming
 *   both, with CLGAN_INVALID_ARGUMENT;
 * - else the cached one for train's fingerprint (clgan_classifier_cache_path);
 * - else one is trained first on dir's train and t10k splits, saying so with progress unless
 *   quiet, and stored in the cache. A missing t10k split is refused then.
 * *where (may be NULL) receives the path it came from or went to. */
clgan_status cli_classifier_for_data(clgan_device *dev, const char *path, const char *dir,
                                     const clgan_dataset *train, int quiet,
                                     clgan_classifier **out, char *where, size_t where_size);

/* The metric lines clgan eval prints, each indented by indent spaces. */
void cli_print_eval(FILE *f, const clgan_eval_result *r, int indent);
/* The same as a JSON object (no trailing newline), for --json. */
void cli_json_eval(FILE *f, const clgan_eval_result *r, int indent);

#endif
