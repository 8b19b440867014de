/* Metrics as CSV: a log that training appends one row to every N steps, and a reader for
 * plotting it afterwards. See clgan/io.h.
 *
 * Rows are appended and flushed one by one, so the file cannot be written atomically as a
 * whole; what is atomic is every rewrite (a new file's header, or an old file cleaned up for a
 * resume), so a crash never leaves a file without its header. On resume the log keeps what was
 * there, drops a partial last line left by a crash, and can drop the rows logged after the
 * checkpoint the run resumes from, so no step appears twice. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clgan/io.h"
#include "util/fsutil.h"

#define BAD clgan_status_message(CLGAN_BAD_FORMAT)
#define WRITEERR clgan_status_message(CLGAN_WRITE_FAILED)

struct clgan_csv {
  FILE *f;
  char *path;
  int ncols;
};

static clgan_status write_atomic(const char *path, const char *text, size_t len) {
  clgan_atomic_file af;
  clgan_status st = clgan_atomic_open(&af, path, "wb");
  if (st != CLGAN_OK) return st;
  if (fwrite(text, 1, len, af.f) != len) {
    clgan_error("%s: writing %s failed: %s", WRITEERR, path, strerror(errno));
    clgan_atomic_abort(&af);
    return CLGAN_WRITE_FAILED;
  }
  return clgan_atomic_commit(&af);
}

/* Length of the line at s (up to but excluding '\n'), without a trailing '\r'. */
static size_t line_len(const char *s, const char *end) {
  const char *nl = memchr(s, '\n', (size_t)(end - s));
  size_t n = (size_t)((nl ? nl : end) - s);
  if (n > 0 && s[n - 1] == '\r') n--;
  return n;
}

/* Keeps an existing log for a resume: checks its header, drops a partial last line and the
 * rows after keep_until; rewrites the file (atomically) only when something was dropped. */
static clgan_status prepare_append(const clgan_csv_cfg *cfg, const char *header) {
  unsigned char *buf = NULL;
  size_t len = 0;
  struct stat sb;
  if (stat(cfg->path, &sb) != 0 && errno == ENOENT)
    return write_atomic(cfg->path, header, strlen(header));
  clgan_status st = clgan_read_file(cfg->path, &buf, &len);
  if (st != CLGAN_OK) return st;
  char *text = (char *)buf, *end = text + len;
  if (len == 0) {
    free(buf);
    return write_atomic(cfg->path, header, strlen(header));
  }
  size_t hl = line_len(text, end), want = strlen(header) - 1;
  if (hl != want || strncmp(text, header, want) != 0) {
    clgan_error("%s: %s: its columns '%.*s' differ from this run's '%.*s'; resuming would "
                "misalign them (move the old file away or start a new run)",
                BAD, cfg->path, (int)(hl < 300 ? hl : 300), text, (int)want, header);
    free(buf);
    return CLGAN_BAD_FORMAT;
  }
  /* Walk the rows, keeping complete ones up to keep_until. */
  char *keep_end = text + hl;
  while (keep_end < end && *keep_end != '\n') keep_end++;
  if (keep_end < end) keep_end++;
  int changed = 0, dropped = 0;
  for (char *row = keep_end; row < end;) {
    char *nl = memchr(row, '\n', (size_t)(end - row));
    if (!nl) {
      clgan_warn("%s: dropped a partial last line left by an interrupted write", cfg->path);
      changed = 1;
      break;
    }
    if (cfg->keep_until_set) {
      char *after;
      double first = strtod(row, &after);
      if (after != row && first > cfg->keep_until) {
        dropped++;
        row = nl + 1;
        continue;
      }
    }
    if (row != keep_end) memmove(keep_end, row, (size_t)(nl + 1 - row));
    keep_end += nl + 1 - row;
    row = nl + 1;
  }
  if (dropped) {
    changed = 1;
    clgan_warn("%s: dropped %d rows logged after step %.0f, the point this run resumes from",
               cfg->path, dropped, cfg->keep_until);
  }
  st = changed ? write_atomic(cfg->path, text, (size_t)(keep_end - text)) : CLGAN_OK;
  free(buf);
  return st;
}

clgan_status clgan_csv_open(clgan_csv **csv, const clgan_csv_cfg *cfg) {
  *csv = NULL;
  if (!cfg || !cfg->path || !cfg->columns || cfg->ncols < 1) return CLGAN_INVALID_ARGUMENT;
  size_t hlen = 2;
  for (int i = 0; i < cfg->ncols; i++) {
    const char *c = cfg->columns[i];
    if (!c || !c[0] || strpbrk(c, ",\"\r\n")) {
      clgan_error("%s: CSV %s: column name '%s' is empty or holds a comma, quote or newline",
                  clgan_status_message(CLGAN_INVALID_ARGUMENT), cfg->path, c ? c : "(null)");
      return CLGAN_INVALID_ARGUMENT;
    }
    hlen += strlen(c) + 1;
  }
  /* An appended log is not rewritten through the atomic writer, which would remove what a
   * killed run's rewrite left behind: so here. */
  clgan_remove_stale_tmp(cfg->path);
  char *header = malloc(hlen);
  clgan_csv *out = calloc(1, sizeof *out);
  if (!header || !out || !(out->path = strdup(cfg->path))) {
    free(header);
    if (out) free(out->path);
    free(out);
    return CLGAN_HOST_OUT_OF_MEMORY;
  }
  size_t used = 0;
  for (int i = 0; i < cfg->ncols; i++)
    used += (size_t)snprintf(header + used, hlen - used, "%s%s", i ? "," : "", cfg->columns[i]);
  snprintf(header + used, hlen - used, "\n");
  clgan_status st = cfg->append ? prepare_append(cfg, header)
                                : write_atomic(cfg->path, header, strlen(header));
  free(header);
  if (st == CLGAN_OK) {
    out->f = fopen(cfg->path, "ab");
    if (!out->f) {
      clgan_error("%s: cannot append to %s: %s", WRITEERR, cfg->path, strerror(errno));
      st = CLGAN_WRITE_FAILED;
    }
  }
  if (st != CLGAN_OK) {
    free(out->path);
    free(out);
    return st;
  }
  out->ncols = cfg->ncols;
  *csv = out;
  return CLGAN_OK;
}

static void format_value(char *out, size_t size, double v) {
  if (isnan(v)) snprintf(out, size, "nan");
  else if (isinf(v)) snprintf(out, size, v > 0 ? "inf" : "-inf");
  else if (v == floor(v) && fabs(v) < 1e15) snprintf(out, size, "%.0f", v);
  else snprintf(out, size, "%.9g", v);
}

clgan_status clgan_csv_row(clgan_csv *csv, const double *values, int n) {
  if (!csv || !values || n != csv->ncols) {
    clgan_error("%s: CSV %s: a row of %d values for %d columns",
                clgan_status_message(CLGAN_INVALID_ARGUMENT), csv ? csv->path : "(null)", n,
                csv ? csv->ncols : 0);
    return CLGAN_INVALID_ARGUMENT;
  }
  for (int i = 0; i < n; i++) {
    char cell[64];
    format_value(cell, sizeof cell, values[i]);
    if (i) fputc(',', csv->f);
    fputs(cell, csv->f);
  }
  fputc('\n', csv->f);
  if (fflush(csv->f) != 0 || ferror(csv->f)) {
    clgan_error("%s: writing a row to %s failed: %s", WRITEERR, csv->path, strerror(errno));
    return CLGAN_WRITE_FAILED;
  }
  return CLGAN_OK;
}

clgan_status clgan_csv_close(clgan_csv *csv) {
  if (!csv) return CLGAN_OK;
  clgan_status st = CLGAN_OK;
  if (fclose(csv->f) != 0) {
    clgan_error("%s: closing %s failed: %s", WRITEERR, csv->path, strerror(errno));
    st = CLGAN_WRITE_FAILED;
  }
  free(csv->path);
  free(csv);
  return st;
}

/* ---- Reading -------------------------------------------------------------------------------- */

void clgan_csv_table_free(clgan_csv_table *t) {
  if (!t) return;
  for (int i = 0; t->columns && i < t->ncols; i++) free(t->columns[i]);
  free(t->columns);
  free(t->values);
  memset(t, 0, sizeof *t);
}

int clgan_csv_column(const clgan_csv_table *t, const char *name) {
  for (int i = 0; t && name && i < t->ncols; i++)
    if (!strcmp(t->columns[i], name)) return i;
  return -1;
}

clgan_status clgan_csv_read(const char *path, clgan_csv_table *t) {
  memset(t, 0, sizeof *t);
  unsigned char *buf = NULL;
  size_t len = 0;
  clgan_status st = clgan_read_file(path, &buf, &len);
  if (st != CLGAN_OK) return st;
  char *s = (char *)buf, *end = s + len;
  size_t hl = line_len(s, end);
  if (hl == 0) {
    clgan_error("%s: %s: no header line", BAD, path);
    free(buf);
    return CLGAN_BAD_FORMAT;
  }
  int ncols = 1;
  for (size_t i = 0; i < hl; i++) ncols += s[i] == ',';
  t->columns = calloc((size_t)ncols, sizeof *t->columns);
  if (!t->columns) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto fail;
  }
  t->ncols = ncols;
  const char *cell = s;
  for (int c = 0; c < ncols; c++) {
    const char *stop = memchr(cell, ',', (size_t)(s + hl - cell));
    if (!stop) stop = s + hl;
    t->columns[c] = malloc((size_t)(stop - cell) + 1);
    if (!t->columns[c]) {
      st = CLGAN_HOST_OUT_OF_MEMORY;
      goto fail;
    }
    memcpy(t->columns[c], cell, (size_t)(stop - cell));
    t->columns[c][stop - cell] = '\0';
    cell = stop + 1;
  }
  int cap = 0, line = 1;
  for (char *row = memchr(s, '\n', len); row && ++row < end;) {
    size_t n = line_len(row, end);
    char *next = row + n;
    while (next < end && *next != '\n') next++;
    line++;
    if (n == 0) {
      row = next;
      continue;
    }
    if (t->rows == cap) {
      cap = cap ? 2 * cap : 256;
      double *grown = realloc(t->values, sizeof *grown * (size_t)cap * (size_t)ncols);
      if (!grown) {
        st = CLGAN_HOST_OUT_OF_MEMORY;
        goto fail;
      }
      t->values = grown;
    }
    char saved = row[n];
    row[n] = '\0';
    char *p = row;
    for (int c = 0; c < ncols; c++) {
      char *after = p;
      double v = *p == ',' || *p == '\0' ? NAN : strtod(p, &after);
      if (after == p && *p != ',' && *p != '\0') after = NULL;
      if (!after || (*after != (c + 1 < ncols ? ',' : '\0'))) {
        if (after && *after == '\0')
          clgan_error("%s: %s line %d has only %d of %d cells (no column %s)", BAD, path, line,
                      c + 1, ncols, t->columns[c + 1]);
        else if (after && *after == ',')
          clgan_error("%s: %s line %d has more than %d cells", BAD, path, line, ncols);
        else
          clgan_error("%s: %s line %d, column %s: '%.20s' is not a number", BAD, path, line,
                      t->columns[c], p);
        st = CLGAN_BAD_FORMAT;
        goto fail;
      }
      t->values[(size_t)t->rows * ncols + c] = v;
      p = after + (c + 1 < ncols);
    }
    row[n] = saved;
    t->rows++;
    row = next;
  }
  free(buf);
  return CLGAN_OK;
fail:
  free(buf);
  clgan_csv_table_free(t);
  return st;
}
