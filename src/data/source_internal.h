/* Between the data sources' files (src/data/): each source fills a clgan_dataset in its own
 * layout; source.c picks one, then applies the options. */
#ifndef CLGAN_DATA_SOURCE_INTERNAL_H
#define CLGAN_DATA_SOURCE_INTERNAL_H

#include <stddef.h>

#include "clgan/data.h"

/* A folder of PNG and JPEG files (folder.c); applies opts->image_size and opts->channels. */
clgan_status source_folder(const char *dir, const clgan_data_opts *opts, clgan_dataset *ds,
                           clgan_data_summary *sum);
/* The decode cache (cache.c): a fingerprint built from what the images came from, the file it
 * names (0 when caching is off or there is no cache folder), a load (1 on a hit: ds maps the
 * file; 0 on a miss, with a warning when the file was there but damaged) and a store (a
 * failure only warns). */
typedef struct {
  unsigned long long fnv;
  unsigned long crc;
} cache_key;
#define CACHE_KEY_TEXT 25
void cache_key_init(cache_key *k);
void cache_key_add(cache_key *k, const void *data, size_t n);
void cache_key_text(const cache_key *k, char out[CACHE_KEY_TEXT]);
int cache_path(const clgan_data_opts *o, const char *key, char *path, size_t size);
int cache_load(const char *path, const char *key, clgan_dataset *ds, clgan_data_summary *sum);
void cache_store(const char *path, const char *key, const clgan_dataset *ds,
                 const clgan_data_summary *sum);

/* The first existing spelling of <dir>/<split>-<kind>-<idx>-ubyte (plain or .gz, '-' or '.'
 * before <idx>) into path (idx.c, which reads IDX sets); CLGAN_IO_ERROR when there is none,
 * with the paths tried in looked (looked_size may be 0). */
clgan_status idx_find_split_file(const char *dir, const char *split, const char *kind,
                                 const char *idx, char *path, size_t size, char *looked,
                                 size_t looked_size);

/* Appends "k name" to sum->classes at *used (", " between, "..." once full). */
void source_summary_class(clgan_data_summary *sum, size_t *used, int k, const char *name);

#endif
