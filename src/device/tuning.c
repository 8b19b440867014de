/* CLBlast tuning parameters: the table shipped with clgan, the per-user cache file, and
 * applying them through CLBlastOverrideParameters. The search that produces them is
 * src/tune/tune.c.
 *
 * Cache file format, one line per (device, kernel):
 *   <device key> TAB <kernel> TAB <gflops> TAB NAME=VALUE,NAME=VALUE,...
 * Lines starting with '#' are comments. A line that does not parse is skipped with a warning.
 *
 * CLBlast does not validate parameters: WGD=0 or MWG=0 crash inside it, KWG=3 computes wrong
 * products without an error, VWM=3 fails the kernel build (issue 9). So every set is checked
 * against the constraints of CLBlast's tuners (src/tuning/kernels/xgemm.hpp, xgemm_direct.hpp)
 * before it reaches CLBlast, and the cache file's sets, the first time a process applies them
 * for a device, by two GEMMs against clgan_gemm_reference. A set that fails is dropped with one
 * warning naming the file and the device key; CLBlast has no way back to its own defaults once a
 * set is applied, so a dropped set is replaced by the shipped one, or by a small safe one. */
#include <clblast_c.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device/internal.h"
#include "util/fsutil.h"

void clgan_tuning_device_key(const clgan_device_info *info, char *key, size_t size) {
  snprintf(key, size, "%s | %s | %s", info->name, info->driver, info->platform_name);
  for (char *p = key; *p; p++)
    if (*p == '\t' || *p == '\n' || *p == '\r') *p = ' ';
}

void clgan_device_tuning_key(const clgan_device *dev, char *key, size_t size) {
  clgan_tuning_device_key(&dev->info, key, size);
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

/* At most this many warnings per file: a file of garbage says so, and then stops. */
#define MAX_LINE_WARNINGS 5

clgan_status clgan_tuning_load(const char *path, const char *key, clgan_tuning *entries, int max,
                               int *count) {
  *count = 0;
  FILE *f = fopen(path, "r");
  if (!f) return CLGAN_OK; /* no cache yet */
  struct stat sb;
  if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
    /* A folder reads as nothing, a device such as /dev/zero as an endless line: neither is a
     * cache. Warned, not fatal: runs work without one. */
    clgan_warn("tuning cache %s is %s, not a regular file: ignored", path,
               clgan_file_kind((unsigned)sb.st_mode));
    fclose(f);
    return CLGAN_OK;
  }
  /* Read no more than the file held when opened. */
  long size = sb.st_size > LONG_MAX ? LONG_MAX : (long)sb.st_size;
  char line[2048];
  int lineno = 0, warned = 0;
  while (ftell(f) < size && fgets(line, sizeof line, f)) {
    lineno++;
    if (warned == MAX_LINE_WARNINGS) {
      clgan_warn("tuning cache %s: more bad lines after line %d not reported", path, lineno - 1);
      warned++;
    }
    if (line[0] == '#' || line[0] == '\n') continue;
    size_t len = strlen(line);
    if (len == sizeof line - 1 && line[len - 1] != '\n') {
      if (warned++ < MAX_LINE_WARNINGS)
        clgan_warn("tuning cache %s:%d: line too long, ignored", path, lineno);
      int c;
      while (ftell(f) < size && (c = fgetc(f)) != EOF && c != '\n') {
      }
      continue;
    }
    if (len == 0 || line[len - 1] != '\n') {
      /* Every stored line ends in a newline: one without is a file cut short, and its last
       * number may be cut too. */
      if (warned++ < MAX_LINE_WARNINGS)
        clgan_warn("tuning cache %s:%d: truncated last line ignored", path, lineno);
      continue;
    }
    line[--len] = '\0';
    char *k = NULL;
    clgan_tuning e;
    memset(&e, 0, sizeof e);
    if (!parse_line(line, &k, &e)) {
      if (warned++ < MAX_LINE_WARNINGS)
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
  struct stat sb; /* a folder or device is refused by clgan_atomic_open, once */
  if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
      clgan_read_file(path, &old, &old_len) != CLGAN_OK)
    old = NULL;
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

/* ---- Where a device's tuning comes from ---------------------------------------------------- */

static const char *const source_names[] = {
#define CLGAN_X_NAME(e, name) name,
    CLGAN_TUNING_SOURCE_TABLE(CLGAN_X_NAME)
#undef CLGAN_X_NAME
};

const char *clgan_tuning_source_name(clgan_tuning_source s) {
  return (unsigned)s < sizeof source_names / sizeof source_names[0] ? source_names[s] : "?";
}

void clgan_tuning_status_init(const clgan_device_info *info, const clgan_device_cfg *cfg,
                              clgan_tuning_status *status) {
  memset(status, 0, sizeof *status);
  status->source = cfg && cfg->no_tuning ? CLGAN_TUNING_OFF : CLGAN_TUNING_NONE;
  if (cfg && cfg->tuning_class)
    snprintf(status->cls, sizeof status->cls, "%s", cfg->tuning_class);
  else
    clgan_tuning_class(info, status->cls, sizeof status->cls);
  clgan_tuning builtin[8];
  status->builtin = clgan_tuning_builtin_for(status->cls, builtin, 8) > 0;
  if (cfg && cfg->tuning_file)
    snprintf(status->path, sizeof status->path, "%s", cfg->tuning_file);
  else
    clgan_tuning_default_path(status->path, sizeof status->path);
  /* CLBlast's database has no PoCL device, and its defaults for a CPU ran training's GEMMs
   * 5.6x and mlp-bn 2.8x slower than tuned sets (bench/RESULTS.md, issue 11). Where clgan's
   * packed kernels compute the GEMMs (a CPU's default) CLBlast's sets do not matter. */
  status->gemm = clgan_gemm_choose(info, cfg);
  status->slow_defaults = info->type == CLGAN_DEVICE_CPU &&
                          strstr(info->platform_name, "Portable Computing Language") != NULL &&
                          status->gemm == CLGAN_GEMM_CLBLAST;
}

void clgan_tuning_lookup(const clgan_device_info *info, const clgan_device_cfg *cfg,
                         clgan_tuning_status *status) {
  clgan_tuning_status_init(info, cfg, status);
  if (status->source == CLGAN_TUNING_OFF) return;
  if (status->builtin) status->source = CLGAN_TUNING_BUILTIN;
  clgan_tuning cached[8];
  char key[1024];
  int nc = 0;
  clgan_tuning_device_key(info, key, sizeof key);
  if (clgan_tuning_load(status->path, key, cached, 8, &nc) != CLGAN_OK) return;
  for (int i = 0; i < nc; i++)
    if (clgan_tuning_valid(info, &cached[i], NULL, 0)) status->source = CLGAN_TUNING_CACHED;
}

int clgan_tuning_wanted(const clgan_tuning_status *status) {
  return status->source == CLGAN_TUNING_NONE && status->slow_defaults;
}

void clgan_tuning_describe(const clgan_tuning_status *status, char *out, size_t size) {
  switch (status->source) {
  case CLGAN_TUNING_BUILTIN:
    snprintf(out, size, "built-in for %s", status->cls);
    break;
  case CLGAN_TUNING_CACHED:
    snprintf(out, size, "cached in %s", status->path);
    break;
  case CLGAN_TUNING_SAFE:
    snprintf(out, size, "safe sets: the ones cached in %s failed their check", status->path);
    break;
  case CLGAN_TUNING_OFF:
    snprintf(out, size, "off ($CLGAN_NO_TUNING): CLBlast's defaults");
    break;
  default:
    snprintf(out, size, "none for %s: CLBlast's defaults", status->cls);
    break;
  }
}

void clgan_device_tuning_status(const clgan_device *dev, clgan_tuning_status *status) {
  *status = dev->tuning;
}

/* ---- Validation against CLBlast's constraints ---------------------------------------------- */

static const char *const xgemm_params[] = {"GEMMK", "MWG",   "NWG",   "KWG",  "MDIMC", "NDIMC",
                                           "MDIMA", "NDIMB", "KWI",   "VWM",  "VWN",   "STRM",
                                           "STRN",  "SA",    "SB",    "KREG"};
enum { X_GEMMK, X_MWG, X_NWG, X_KWG, X_MDIMC, X_NDIMC, X_MDIMA, X_NDIMB, X_KWI, X_VWM, X_VWN,
       X_STRM, X_STRN, X_SA, X_SB, X_KREG, NX };
static const char *const direct_params[] = {"WGD",    "MDIMCD", "NDIMCD", "MDIMAD", "NDIMBD",
                                            "KWID",   "VWMD",   "VWND",   "PADA",   "PADB"};
enum { D_WGD, D_MDIMCD, D_NDIMCD, D_MDIMAD, D_NDIMBD, D_KWID, D_VWMD, D_VWND, D_PADA, D_PADB, ND };
static const char *const routine_params[] = {"XGEMM_MIN_INDIRECT_SIZE"};

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int refuse(char *why, size_t size, const char *fmt, ...) {
  if (why && size) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, size, fmt, ap);
    va_end(ap);
  }
  return 0;
}

/* Puts e's values in the order of names[]; refuses a missing, repeated or unknown name. */
static int gather(const clgan_tuning *e, const char *const *names, int n, size_t *v, char *why,
                  size_t size) {
  int seen[NX] = {0};
  for (int j = 0; j < e->count; j++) {
    int i = 0;
    while (i < n && strcmp(e->names[j], names[i]) != 0) i++;
    if (i == n) return refuse(why, size, "%s has no parameter %s", e->kernel, e->names[j]);
    if (seen[i]++) return refuse(why, size, "%s is given twice", names[i]);
    v[i] = e->values[j];
  }
  for (int i = 0; i < n; i++)
    if (!seen[i]) return refuse(why, size, "%s is missing (CLBlast needs all of them)", names[i]);
  return 1;
}

static int vector_width(size_t w) { return w == 1 || w == 2 || w == 4 || w == 8 || w == 16; }

/* x is a non-zero multiple of of (both already known > 0 where it matters). */
static int multiple(size_t x, size_t of) { return of != 0 && x % of == 0; }

#define REQUIRE(cond, ...)                              \
  do {                                                  \
    if (!(cond)) return refuse(why, size, __VA_ARGS__); \
  } while (0)

static int xgemm_ok(const clgan_device_info *info, const size_t *v, char *why, size_t size) {
  static const int positive[] = {X_MWG, X_NWG, X_KWG, X_MDIMC, X_NDIMC,
                                 X_MDIMA, X_NDIMB, X_KWI, X_VWM, X_VWN};
  for (size_t i = 0; i < sizeof positive / sizeof positive[0]; i++)
    REQUIRE(v[positive[i]] > 0, "%s=0", xgemm_params[positive[i]]);
  /* The GEMMK=1 kernel has other rules, and on PoCL some of its sets wrote outside C
   * (src/tune/tune.c): clgan's tuner never stores one. */
  REQUIRE(v[X_GEMMK] == 0, "GEMMK=%zu: clgan takes GEMMK=0 sets only", v[X_GEMMK]);
  REQUIRE(v[X_KREG] == 1, "KREG=%zu: with GEMMK=0 it must be 1", v[X_KREG]);
  REQUIRE(v[X_STRM] <= 1 && v[X_STRN] <= 1 && v[X_SA] <= 1 && v[X_SB] <= 1,
          "STRM, STRN, SA and SB are 0 or 1");
  REQUIRE(vector_width(v[X_VWM]), "VWM=%zu is not an OpenCL vector width (1, 2, 4, 8, 16)",
          v[X_VWM]);
  REQUIRE(vector_width(v[X_VWN]), "VWN=%zu is not an OpenCL vector width (1, 2, 4, 8, 16)",
          v[X_VWN]);
  REQUIRE(multiple(v[X_KWG], v[X_KWI]), "KWG=%zu is not a multiple of KWI=%zu", v[X_KWG],
          v[X_KWI]);
  REQUIRE(multiple(v[X_MWG], v[X_MDIMC] * v[X_VWM]), "MWG=%zu is not a multiple of MDIMC*VWM=%zu",
          v[X_MWG], v[X_MDIMC] * v[X_VWM]);
  REQUIRE(multiple(v[X_NWG], v[X_NDIMC] * v[X_VWN]), "NWG=%zu is not a multiple of NDIMC*VWN=%zu",
          v[X_NWG], v[X_NDIMC] * v[X_VWN]);
  REQUIRE(multiple(v[X_MWG], v[X_MDIMA] * v[X_VWM]), "MWG=%zu is not a multiple of MDIMA*VWM=%zu",
          v[X_MWG], v[X_MDIMA] * v[X_VWM]);
  REQUIRE(multiple(v[X_NWG], v[X_NDIMB] * v[X_VWN]), "NWG=%zu is not a multiple of NDIMB*VWN=%zu",
          v[X_NWG], v[X_NDIMB] * v[X_VWN]);
  size_t threads = v[X_MDIMC] * v[X_NDIMC];
  REQUIRE(multiple(threads, v[X_MDIMA]) && multiple(threads, v[X_NDIMB]),
          "MDIMC*NDIMC=%zu is not a multiple of MDIMA=%zu and NDIMB=%zu", threads, v[X_MDIMA],
          v[X_NDIMB]);
  REQUIRE(multiple(v[X_KWG], threads / v[X_MDIMA]) && multiple(v[X_KWG], threads / v[X_NDIMB]),
          "KWG=%zu is not a multiple of MDIMC*NDIMC/MDIMA=%zu and MDIMC*NDIMC/NDIMB=%zu",
          v[X_KWG], threads / v[X_MDIMA], threads / v[X_NDIMB]);
  REQUIRE(threads <= info->max_work_group, "MDIMC*NDIMC=%zu threads, the device allows %zu",
          threads, info->max_work_group);
  unsigned long long local = 4ULL * (v[X_SA] * v[X_KWG] * v[X_MWG] + v[X_SB] * v[X_KWG] * v[X_NWG]);
  REQUIRE(local <= info->local_mem, "%llu bytes of local memory, the device has %llu", local,
          info->local_mem);
  return 1;
}

static int direct_ok(const clgan_device_info *info, const size_t *v, char *why, size_t size) {
  for (int i = D_WGD; i <= D_VWND; i++) REQUIRE(v[i] > 0, "%s=0", direct_params[i]);
  REQUIRE(v[D_PADA] <= 1 && v[D_PADB] <= 1, "PADA and PADB are 0 or 1");
  REQUIRE(vector_width(v[D_VWMD]), "VWMD=%zu is not an OpenCL vector width (1, 2, 4, 8, 16)",
          v[D_VWMD]);
  REQUIRE(vector_width(v[D_VWND]), "VWND=%zu is not an OpenCL vector width (1, 2, 4, 8, 16)",
          v[D_VWND]);
  REQUIRE(multiple(v[D_WGD], v[D_KWID]), "WGD=%zu is not a multiple of KWID=%zu", v[D_WGD],
          v[D_KWID]);
  REQUIRE(multiple(v[D_WGD], v[D_MDIMCD] * v[D_VWMD]),
          "WGD=%zu is not a multiple of MDIMCD*VWMD=%zu", v[D_WGD], v[D_MDIMCD] * v[D_VWMD]);
  REQUIRE(multiple(v[D_WGD], v[D_NDIMCD] * v[D_VWND]),
          "WGD=%zu is not a multiple of NDIMCD*VWND=%zu", v[D_WGD], v[D_NDIMCD] * v[D_VWND]);
  REQUIRE(multiple(v[D_WGD], v[D_MDIMAD] * v[D_VWMD]),
          "WGD=%zu is not a multiple of MDIMAD*VWMD=%zu", v[D_WGD], v[D_MDIMAD] * v[D_VWMD]);
  REQUIRE(multiple(v[D_WGD], v[D_NDIMBD] * v[D_VWND]),
          "WGD=%zu is not a multiple of NDIMBD*VWND=%zu", v[D_WGD], v[D_NDIMBD] * v[D_VWND]);
  size_t threads = v[D_MDIMCD] * v[D_NDIMCD];
  REQUIRE(multiple(threads, v[D_MDIMAD]) && multiple(threads, v[D_NDIMBD]),
          "MDIMCD*NDIMCD=%zu is not a multiple of MDIMAD=%zu and NDIMBD=%zu", threads,
          v[D_MDIMAD], v[D_NDIMBD]);
  REQUIRE(multiple(v[D_WGD], threads / v[D_MDIMAD]) && multiple(v[D_WGD], threads / v[D_NDIMBD]),
          "WGD=%zu is not a multiple of MDIMCD*NDIMCD/MDIMAD=%zu and MDIMCD*NDIMCD/NDIMBD=%zu",
          v[D_WGD], threads / v[D_MDIMAD], threads / v[D_NDIMBD]);
  REQUIRE(threads <= info->max_work_group, "MDIMCD*NDIMCD=%zu threads, the device allows %zu",
          threads, info->max_work_group);
  unsigned long long local =
      4ULL * (v[D_WGD] * (v[D_WGD] + v[D_PADA]) + v[D_WGD] * (v[D_WGD] + v[D_PADB]));
  REQUIRE(local <= info->local_mem, "%llu bytes of local memory, the device has %llu", local,
          info->local_mem);
  return 1;
}

#undef REQUIRE

int clgan_tuning_valid(const clgan_device_info *info, const clgan_tuning *e, char *why,
                       size_t why_size) {
  size_t v[NX];
  if (!strcmp(e->kernel, "Xgemm"))
    return gather(e, xgemm_params, NX, v, why, why_size) && xgemm_ok(info, v, why, why_size);
  if (!strcmp(e->kernel, "XgemmDirect"))
    return gather(e, direct_params, ND, v, why, why_size) && direct_ok(info, v, why, why_size);
  if (!strcmp(e->kernel, "GemmRoutine"))
    return gather(e, routine_params, 1, v, why, why_size);
  return refuse(why, why_size, "clgan tunes Xgemm, XgemmDirect and GemmRoutine, not %s",
                e->kernel);
}

/* ---- Applying ------------------------------------------------------------------------------ */

int clgan_tuning_override(clgan_device *dev, const clgan_tuning *e) {
  const char *names[CLGAN_TUNE_MAX_PARAMS];
  size_t values[CLGAN_TUNE_MAX_PARAMS];
  for (int j = 0; j < e->count; j++) {
    names[j] = e->names[j];
    values[j] = e->values[j];
  }
  return (int)CLBlastOverrideParameters(dev->id, e->kernel, CLBlastPrecisionSingle,
                                        (size_t)e->count, names, values);
}

static clgan_status override(clgan_device *dev, const clgan_tuning *e) {
  return clgan_status_from_clblast(clgan_tuning_override(dev, e));
}

clgan_status clgan_tuning_apply(clgan_device *dev, const clgan_tuning *entries, int count) {
  clgan_status st = CLGAN_OK;
  char why[256];
  for (int i = 0; i < count; i++) {
    const clgan_tuning *e = &entries[i];
    if (!clgan_tuning_valid(&dev->info, e, why, sizeof why)) {
      clgan_warn("tuning parameters for %s refused (%s); using the defaults", e->kernel, why);
      st = CLGAN_INVALID_ARGUMENT;
      continue;
    }
    clgan_status s = override(dev, e);
    if (s != CLGAN_OK) {
      clgan_warn("CLBlast refused the tuning parameters for %s (%s); using its defaults",
                 e->kernel, clgan_status_name(s));
      st = s;
    }
  }
  return st;
}

/* ---- The check on the device --------------------------------------------------------------- */

/* Small sets every OpenCL device runs (64 threads, no local memory beyond 8 KiB), for a kernel
 * whose cached set was dropped and that clgan ships nothing for: CLBlast cannot go back to its
 * own defaults once a set is applied. */
static const clgan_tuning safe_sets[] = {
    {"XgemmDirect", 10,
     {"WGD", "MDIMCD", "NDIMCD", "MDIMAD", "NDIMBD", "KWID", "VWMD", "VWND", "PADA", "PADB"},
     {16, 8, 8, 8, 8, 1, 1, 1, 1, 1}, 0.0},
    {"Xgemm", 16,
     {"GEMMK", "MWG", "NWG", "KWG", "MDIMC", "NDIMC", "MDIMA", "NDIMB", "KWI", "VWM", "VWN",
      "STRM", "STRN", "SA", "SB", "KREG"},
     {0, 16, 16, 16, 8, 8, 8, 8, 1, 1, 1, 0, 0, 0, 0, 1}, 0.0},
};

/* Uniform in [-1, 1) from a 64-bit LCG's high bits. */
static void fill_uniform(float *x, size_t n, unsigned long long *s) {
  for (size_t i = 0; i < n; i++) {
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    x[i] = (float)(*s >> 40) / 8388608.0f - 1.0f;
  }
}

/* One GEMM through CLBlast (not clgan_gemm, which reports a failure as an error: here it only
 * means the set is dropped) against the reference, judged as the tuning search judges its
 * candidates (clgan_gemm_verify). Returns NULL or why it failed. */
static const char *check_gemm(clgan_device *dev, const clgan_gemm_args *g, char *why,
                              size_t size) {
  size_t na = g->m * g->k, nb = g->k * g->n, nc = g->m * g->n;
  float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b);
  float *ref = malloc(nc * sizeof *ref), *out = malloc(nc * sizeof *out);
  clgan_buffer ba = {NULL, na * sizeof *a}, bb = {NULL, nb * sizeof *b};
  clgan_buffer bc = {NULL, nc * sizeof *out};
  const char *res = why;
  snprintf(why, size, "out of host memory");
  if (!a || !b || !ref || !out) goto done;
  unsigned long long s = 0x7E57ULL + g->m * 131 + g->k; /* the same inputs every run */
  fill_uniform(a, na, &s);
  fill_uniform(b, nb, &s);
  clgan_gemm_reference(g, a, b, ref);
  cl_int err = CL_SUCCESS;
  ba.mem = clCreateBuffer(dev->context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, ba.bytes, a,
                          &err);
  if (err == CL_SUCCESS)
    bb.mem = clCreateBuffer(dev->context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, bb.bytes, b,
                            &err);
  if (err == CL_SUCCESS)
    bc.mem = clCreateBuffer(dev->context, CL_MEM_READ_WRITE, bc.bytes, NULL, &err);
  if (err != CL_SUCCESS) {
    snprintf(why, size, "OpenCL error %s", clgan_cl_error_name(err));
    goto done;
  }
  clgan_gemm_args run = *g;
  run.a = &ba;
  run.b = &bb;
  run.c = &bc;
  res = clgan_gemm_verify(dev, &run, ref, out, why, size);
done:
  if (ba.mem) clReleaseMemObject((cl_mem)ba.mem);
  if (bb.mem) clReleaseMemObject((cl_mem)bb.mem);
  if (bc.mem) clReleaseMemObject((cl_mem)bc.mem);
  free(a);
  free(b);
  free(ref);
  free(out);
  return res;
}

/* GEMMs on both sides of the direct/indirect cross-over where it is known (size: CLBlast takes
 * the direct kernel while m*n*k < size^3), odd sizes so that padding is exercised, and both
 * transposes training uses. Returns NULL or why one failed. */
static const char *check_device(clgan_device *dev, size_t crossover, char *why, size_t size) {
  clgan_gemm_args g[3];
  int n = 0;
  g[n++] = (clgan_gemm_args){.trans_b = 1, .m = 37, .n = 29, .k = 53, .lda = 53, .ldb = 53,
                             .ldc = 29, .alpha = 1.0f};
  g[n++] = (clgan_gemm_args){.trans_a = 1, .m = 131, .n = 67, .k = 259, .lda = 131, .ldb = 67,
                             .ldc = 67, .alpha = 1.0f};
  /* Past a known cross-over that the two above stay under: the indirect kernel's turn. */
  if (crossover > 131 && crossover <= 400) {
    size_t side = crossover + 3;
    g[n++] = (clgan_gemm_args){.m = side, .n = side, .k = side, .lda = side, .ldb = side,
                               .ldc = side, .alpha = 1.0f};
  }
  for (int i = 0; i < n; i++)
    if (check_gemm(dev, &g[i], why, size)) return why;
  return NULL;
}

/* Sets already checked in this process (device key and parameters, hashed), and the outcome:
 * a process that opens the device again does not pay for the check twice. Device opens are not
 * concurrent in clgan; a race would only check a set twice. */
static struct {
  unsigned long long hash;
  int ok;
} checked[32];
static int nchecked;

static unsigned long long fnv1a(unsigned long long h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

static unsigned long long sets_hash(const char *key, const clgan_tuning *e, int n) {
  unsigned long long h = fnv1a(14695981039346656037ULL, key, strlen(key) + 1);
  for (int i = 0; i < n; i++) {
    h = fnv1a(h, e[i].kernel, strlen(e[i].kernel) + 1);
    for (int j = 0; j < e[i].count; j++) {
      h = fnv1a(h, e[i].names[j], strlen(e[i].names[j]) + 1);
      h = fnv1a(h, &e[i].values[j], sizeof e[i].values[j]);
    }
  }
  return h;
}

static const clgan_tuning *find_kernel(const clgan_tuning *e, int n, const char *kernel) {
  for (int i = 0; i < n; i++)
    if (!strcmp(e[i].kernel, kernel)) return &e[i];
  return NULL;
}

static size_t crossover_of(const clgan_tuning *e) {
  return e && e->count == 1 ? e->values[0] : 0;
}

clgan_status clgan_tuning_apply_stored(clgan_device *dev) {
  clgan_tuning builtin[8], cached[8], valid[8];
  char why[512], key[1024];
  const char *path = dev->tuning.path;
  int nb = clgan_tuning_builtin(dev, builtin, 8), nc = 0, nv = 0;
  dev->tuning.source = CLGAN_TUNING_NONE;
  for (int i = 0; i < nb; i++) {
    clgan_status s = CLGAN_OK;
    if (!clgan_tuning_valid(&dev->info, &builtin[i], why, sizeof why) ||
        (s = override(dev, &builtin[i])) != CLGAN_OK)
      clgan_warn("clgan's own %s tuning for %s was refused (%s)", builtin[i].kernel,
                 dev->tuning.cls, s != CLGAN_OK ? clgan_status_name(s) : why);
    else
      dev->tuning.source = CLGAN_TUNING_BUILTIN;
  }

  clgan_device_tuning_key(dev, key, sizeof key);
  clgan_status st = clgan_tuning_load(path, key, cached, 8, &nc);
  if (st != CLGAN_OK) return st;
  for (int i = 0; i < nc; i++) {
    if (clgan_tuning_valid(&dev->info, &cached[i], why, sizeof why))
      valid[nv++] = cached[i];
    else
      clgan_warn("tuning cache %s: the %s set for '%s' is refused: %s; using %s instead (rerun "
                 "`clgan tune` to replace it)",
                 path, cached[i].kernel, key, why,
                 find_kernel(builtin, nb, cached[i].kernel) ? "clgan's own set" : "the defaults");
  }
  if (nv == 0) return CLGAN_OK;

  unsigned long long h = sets_hash(key, valid, nv);
  int known = -1;
  for (int i = 0; i < nchecked; i++)
    if (checked[i].hash == h) known = checked[i].ok;
  if (known == 0) {
    clgan_warn("tuning cache %s: the sets for '%s' failed the GEMM check earlier in this run: "
               "not applied", path, key);
    if (dev->tuning.source == CLGAN_TUNING_NONE) dev->tuning.source = CLGAN_TUNING_SAFE;
    return CLGAN_OK;
  }

  const char *failed = NULL;
  for (int i = 0; i < nv && !failed; i++) {
    st = override(dev, &valid[i]);
    if (st != CLGAN_OK) {
      snprintf(why, sizeof why, "CLBlast refused the %.31s set (%s)", valid[i].kernel,
               clgan_status_name(st));
      failed = why;
    }
  }
  const clgan_tuning *routine = find_kernel(valid, nv, "GemmRoutine");
  if (!routine) routine = find_kernel(builtin, nb, "GemmRoutine");
  if (!failed && known != 1) failed = check_device(dev, crossover_of(routine), why, sizeof why);
  if (nchecked < (int)(sizeof checked / sizeof checked[0]) && known < 0) {
    checked[nchecked].hash = h;
    checked[nchecked++].ok = failed == NULL;
  }
  if (!failed) {
    dev->tuning.source = CLGAN_TUNING_CACHED;
    return CLGAN_OK;
  }

  /* Back to the shipped sets where there are some, else the safe ones. */
  if (dev->tuning.source == CLGAN_TUNING_NONE) dev->tuning.source = CLGAN_TUNING_SAFE;
  clgan_warn("tuning cache %s: the sets for '%s' were dropped: %s; using clgan's own sets or "
             "safe ones instead (rerun `clgan tune` to replace them)",
             path, key, failed);
  /* Back to what was in effect before, kernel by kernel. */
  for (int i = 0; i < nv; i++) {
    const clgan_tuning *back = find_kernel(builtin, nb, valid[i].kernel);
    if (!back)
      back = find_kernel(safe_sets, (int)(sizeof safe_sets / sizeof safe_sets[0]),
                         valid[i].kernel);
    if (back && clgan_tuning_valid(&dev->info, back, NULL, 0)) override(dev, back);
  }
  routine = find_kernel(builtin, nb, "GemmRoutine");
  if (check_device(dev, crossover_of(routine), why, sizeof why)) {
    clgan_error("%s: GEMMs on this device fail without the cached tuning too: %s",
                clgan_status_message(CLGAN_CLBLAST_ERROR), why);
    return CLGAN_CLBLAST_ERROR;
  }
  return CLGAN_OK;
}
