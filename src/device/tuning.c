/* CLBlast tuning parameters: the table shipped with clgan, the per-user cache file, and
 * applying them through CLBlastOverrideParameters. The search that produces them is tune.c.
 *
 * Cache file format, one line per (device, kernel):
 *   <device key> TAB <kernel> TAB <gflops> TAB NAME=VALUE,NAME=VALUE,...
 * Lines starting with '#' are comments. A line that does not parse is skipped with a warning. */
#include <clblast_c.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device/internal.h"
#include "util/fsutil.h"

void clgan_device_tuning_key(const clgan_device *dev, char *key, size_t size) {
  snprintf(key, size, "%s | %s | %s", dev->info.name, dev->info.driver, dev->info.platform_name);
  for (char *p = key; *p; p++)
    if (*p == '\t' || *p == '\n' || *p == '\r') *p = ' ';
}

void clgan_tuning_default_path(char *path, size_t size) {
  const char *explicit_path = getenv("CLGAN_TUNING_FILE");
  const char *xdg = getenv("XDG_CACHE_HOME");
  const char *home = getenv("HOME");
  if (explicit_path && *explicit_path)
    snprintf(path, size, "%s", explicit_path);
  else if (xdg && *xdg)
    snprintf(path, size, "%s/clgan/tuning.txt", xdg);
  else
    snprintf(path, size, "%s/.cache/clgan/tuning.txt", home && *home ? home : ".");
}

/* Parses "NAME=VALUE,NAME=VALUE" into e. Returns 0 on any malformed token. */
static int parse_params(char *text, clgan_tuning *e) {
  e->count = 0;
  for (char *tok = strtok(text, ","); tok; tok = strtok(NULL, ",")) {
    char *eq = strchr(tok, '=');
    if (!eq || eq == tok || (size_t)(eq - tok) >= sizeof e->names[0] ||
        e->count == CLGAN_TUNE_MAX_PARAMS)
      return 0;
    for (char *p = tok; p < eq; p++)
      if (!(isupper((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_')) return 0;
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(eq + 1, &end, 10);
    if (errno || end == eq + 1 || (*end && *end != '\n') || v > 4096) return 0;
    memcpy(e->names[e->count], tok, (size_t)(eq - tok));
    e->names[e->count][eq - tok] = '\0';
    e->values[e->count++] = v;
  }
  return e->count > 0;
}

static int parse_line(char *line, char **key, clgan_tuning *e) {
  char *f[4];
  int n = 0;
  char *p = line;
  for (; n < 4; n++) {
    f[n] = p;
    char *tab = strchr(p, '\t');
    if (!tab) break;
    *tab = '\0';
    p = tab + 1;
  }
  if (n != 3) return 0;
  if (strlen(f[1]) == 0 || strlen(f[1]) >= sizeof e->kernel) return 0;
  char *end = NULL;
  e->gflops = strtod(f[2], &end);
  if (end == f[2] || *end) return 0;
  snprintf(e->kernel, sizeof e->kernel, "%s", f[1]);
  *key = f[0];
  return parse_params(f[3], e);
}

clgan_status clgan_tuning_load(const char *path, const char *key, clgan_tuning *entries, int max,
                               int *count) {
  *count = 0;
  FILE *f = fopen(path, "r");
  if (!f) return CLGAN_OK; /* no cache yet */
  char line[2048];
  int lineno = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    if (line[0] == '#' || line[0] == '\n') continue;
    size_t len = strlen(line);
    if (len == sizeof line - 1 && line[len - 1] != '\n') {
      clgan_warn("tuning cache %s:%d: line too long, ignored", path, lineno);
      int c;
      while ((c = fgetc(f)) != EOF && c != '\n') {
      }
      continue;
    }
    if (len == 0 || line[len - 1] != '\n') {
      /* Every stored line ends in a newline: one without is a file cut short, and its last
       * number may be cut too. */
      clgan_warn("tuning cache %s:%d: truncated last line ignored", path, lineno);
      continue;
    }
    line[--len] = '\0';
    char *k = NULL;
    clgan_tuning e;
    memset(&e, 0, sizeof e);
    if (!parse_line(line, &k, &e)) {
      clgan_warn("tuning cache %s:%d: malformed line ignored (delete the file or rerun "
                 "`clgan tune` to rebuild it)", path, lineno);
      continue;
    }
    if (strcmp(k, key) != 0) continue;
    int slot = 0; /* a later line for the same kernel replaces an earlier one */
    while (slot < *count && strcmp(entries[slot].kernel, e.kernel) != 0) slot++;
    if (slot == max) continue;
    entries[slot] = e;
    if (slot == *count) (*count)++;
  }
  fclose(f);
  return CLGAN_OK;
}

clgan_status clgan_tuning_store(const char *path, const char *key, const clgan_tuning *entries,
                                int count) {
  clgan_atomic_file af;
  unsigned char *old = NULL;
  size_t old_len = 0;
  FILE *probe = fopen(path, "r");
  if (probe) {
    fclose(probe);
    if (clgan_read_file(path, &old, &old_len) != CLGAN_OK) old = NULL;
  }
  clgan_status st = clgan_atomic_open(&af, path, "w");
  if (st != CLGAN_OK) {
    free(old);
    return st;
  }
  fprintf(af.f, "# clgan CLBlast tuning cache: written by `clgan tune`, read by every run.\n");
  size_t klen = strlen(key);
  for (char *line = (char *)old, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (!next) break; /* a cut-off last line: load ignores it, so it goes */
    *next++ = '\0';
    if (line[0] == '#' || line[0] == '\0') continue;
    if (strncmp(line, key, klen) == 0 && line[klen] == '\t') continue; /* replaced below */
    fprintf(af.f, "%s\n", line);
  }
  free(old);
  for (int i = 0; i < count; i++) {
    const clgan_tuning *e = &entries[i];
    fprintf(af.f, "%s\t%s\t%.1f\t", key, e->kernel, e->gflops);
    for (int j = 0; j < e->count; j++)
      fprintf(af.f, "%s%s=%zu", j ? "," : "", e->names[j], e->values[j]);
    fprintf(af.f, "\n");
  }
  return clgan_atomic_commit(&af);
}

clgan_status clgan_tuning_apply(clgan_device *dev, const clgan_tuning *entries, int count) {
  clgan_status st = CLGAN_OK;
  for (int i = 0; i < count; i++) {
    const clgan_tuning *e = &entries[i];
    const char *names[CLGAN_TUNE_MAX_PARAMS];
    size_t values[CLGAN_TUNE_MAX_PARAMS];
    for (int j = 0; j < e->count; j++) {
      names[j] = e->names[j];
      values[j] = e->values[j];
    }
    CLBlastStatusCode c = CLBlastOverrideParameters(dev->id, e->kernel, CLBlastPrecisionSingle,
                                                    (size_t)e->count, names, values);
    if (c != CLBlastSuccess) {
      clgan_warn("CLBlast refused the tuning parameters for %s (code %d); using its defaults",
                 e->kernel, (int)c);
      st = clgan_status_from_clblast((int)c);
    }
  }
  return st;
}
