/* Between the data sources' files (src/data/): each source fills a clgan_dataset in its own
 * layout; source.c picks one, then applies the options. */
#ifndef CLGAN_DATA_SOURCE_INTERNAL_H
#define CLGAN_DATA_SOURCE_INTERNAL_H

#include <stddef.h>

#include "clgan/data.h"

/* A folder of PNG and JPEG files (folder.c); applies opts->image_size and opts->channels. */
clgan_status source_folder(const char *dir, const clgan_data_opts *opts, clgan_dataset *ds,
                           clgan_data_summary *sum);
/* Appends "k name" to sum->classes at *used (", " between, "..." once full). */
void source_summary_class(clgan_data_summary *sum, size_t *used, int k, const char *name);

#endif
