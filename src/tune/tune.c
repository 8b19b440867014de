/* `clgan tune`'s search: CLBlast's XgemmDirect and Xgemm parameters and the direct/indirect
 * cross-over (GemmRoutine's XGEMM_MIN_INDIRECT_SIZE) for one device, on the GEMMs training runs.
 * Candidates reach CLBlast through CLBlastOverrideParameters (clgan_tuning_override); each is
 * run once against clgan_gemm_reference (CLBlast does not validate parameters: a wrong set
 * computes garbage without an error) and then timed with clFinish, in turns with the best set
 * of its kind so that other load on the machine hits both alike. `clgan tune` stores the
 * winners (clgan_tuning_store, src/device/tuning.c).
 *
 * Cost model: CLBlast builds one program holding every GEMM kernel (copy, pad, transpose,
 * Xgemm, four XgemmDirect variants) and asks the driver for its binary, which makes PoCL compile
 * all of them: 8-40 s per candidate on a shared 2-core CPU. So the search is short: the starting
 * points measured with CLBlast's own tuners first, then one-parameter changes of the best set so
 * far, some random sets, all inside CLBlast's tuner constraints (src/tuning/kernels/
 * xgemm_direct.hpp and xgemm.hpp in CLBlast). PoCL keeps what it compiled in ~/.cache/pocl, so a
 * second run revisits the first run's candidates in about a second each.
 *
 * CLBlast keeps overridden parameters for the whole process and has no way back to its
 * defaults, so the search times the parameters in effect first ("before") and leaves the
 * winners applied.
 *
 * The search is a program built on the device layer, not part of it: it sees no OpenCL or
 * CLBlast type, puts its candidates into CLBlast's table through clgan_tuning_override, checks
 * and times them through clgan_gemm_verify and clgan_gemm_repeat (clgan/device.h), and takes
 * CLBlast's parameter constraints from clgan_tuning_valid, the rules the cache is held to. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/tune.h"
#include "util/clock.h"

/* ---- Parameter spaces ---- */

#define NPARAM_MAX 16
enum { K_DIRECT, K_XGEMM, NKINDS };

static const char *const direct_names[] = {"WGD",  "MDIMCD", "NDIMCD", "MDIMAD", "NDIMBD",
                                           "KWID", "VWMD",   "VWND",   "PADA",   "PADB"};
enum { D_WGD, D_MDIMCD, D_NDIMCD, D_MDIMAD, D_NDIMBD, D_KWID, D_VWMD, D_VWND, D_PADA, D_PADB, ND };

static const char *const xgemm_names[] = {"GEMMK", "MWG", "NWG", "KWG",  "MDIMC", "NDIMC",
                                          "MDIMA", "NDIMB", "KWI", "VWM", "VWN",   "STRM",
                                          "STRN",  "SA",  "SB",  "KREG"};
enum { X_GEMMK, X_MWG, X_NWG, X_KWG, X_MDIMC, X_NDIMC, X_MDIMA, X_NDIMB, X_KWI, X_VWM, X_VWN,
       X_STRM, X_STRN, X_SA, X_SB, X_KREG, NX };

typedef struct {
  int n;
  size_t v[8];
} value_set;

/* CLBlast's random-sampling tuner spaces: xgemm_direct V=2 and xgemm V=2. CLBlast's second
 * Xgemm kernel (GEMMK 1, tuner V=12, written for a few mobile GPUs) is left out: on PoCL some of
 * its sets that pass the tuner's constraints wrote outside C (a wrong result with elements never
 * written, then a crash in LLVM in the same process), which no check after the fact can undo. */
static const value_set direct_space[ND] = {
    {4, {8, 16, 32, 64}}, {3, {8, 16, 32}}, {3, {8, 16, 32}},  {3, {8, 16, 32}},
    {3, {8, 16, 32}},     {3, {2, 8, 16}},  {4, {1, 2, 4, 8}}, {4, {1, 2, 4, 8}},
    {2, {0, 1}},          {2, {0, 1}}};
static const value_set xgemm_space[NX] = {
    {1, {0}},           {4, {16, 32, 64, 128}}, {4, {16, 32, 64, 128}}, {2, {16, 32}},
    {3, {8, 16, 32}},   {3, {8, 16, 32}},       {3, {8, 16, 32}},       {3, {8, 16, 32}},
    {1, {2}},           {4, {1, 2, 4, 8}},      {4, {1, 2, 4, 8}},      {2, {0, 1}},
    {2, {0, 1}},        {2, {0, 1}},            {2, {0, 1}},            {1, {1}}};

typedef struct {
  size_t v[NPARAM_MAX];
} cand;

/* Starting points: the best sets CLBlast's own tuners found on PoCL on a 2-core AMD EPYC
 * (/work/shared/measurements/clblast-pocl-epyc.md), then sets that are safe on most devices. */
static const cand direct_seeds[] = {
    {{64, 32, 8, 32, 8, 8, 2, 2, 1, 1}},
    {{64, 32, 8, 16, 8, 16, 1, 8, 1, 1}},
    {{32, 8, 8, 8, 8, 2, 4, 4, 1, 1}},
};
static const cand xgemm_seeds[] = {
    {{0, 128, 128, 16, 8, 8, 8, 16, 2, 8, 8, 1, 1, 0, 0, 1}},
    {{0, 128, 64, 32, 8, 8, 8, 8, 2, 8, 8, 1, 0, 1, 0, 1}},
    {{0, 64, 64, 32, 16, 16, 16, 16, 2, 2, 2, 0, 0, 1, 1, 1}},
};

/* XGEMM_MIN_INDIRECT_SIZE is a side length: CLBlast takes the direct kernel while m*n*k < size^3.
 * All direct is the smallest size above every shape of the set (see clgan_tune). */
#define ALL_INDIRECT 1

/* ---- Random numbers (splitmix64: seedable, the same everywhere) ---- */

static unsigned long long next_u64(unsigned long long *s) {
  unsigned long long z = (*s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static size_t pick(const value_set *set, unsigned long long *rng) {
  return set->v[next_u64(rng) % (unsigned long long)set->n];
}

/* ---- Per-kind search state ---- */

typedef struct {
  const char *kernel;
  const char *const *names;
  int nparams;
  cand *tried;
  int ntried, cap;
  cand best;
  int have_best;
  double best_ms;
  cand anchor; /* the first set that passed: what the other kind's runs keep in the table */
  int have_anchor;
  cand seeds[8];
  int nseeds, next_seed;
  int picks;
} kind_state;

static const value_set *space_for(const kind_state *ks) {
  return ks->names == direct_names ? direct_space : xgemm_space;
}

static void to_entry(const kind_state *ks, const cand *c, double gflops, clgan_tuning *e);

/* CLBlast's tuner constraints, as clgan_tuning_valid holds the cache to them. */
static int is_valid(const kind_state *ks, const cand *c, const clgan_device_info *info) {
  clgan_tuning e;
  to_entry(ks, c, 0.0, &e);
  return clgan_tuning_valid(info, &e, NULL, 0);
}

static int was_tried(const kind_state *ks, const cand *c) {
  for (int i = 0; i < ks->ntried; i++)
    if (!memcmp(&ks->tried[i], c, sizeof *c)) return 1;
  return 0;
}

static void random_cand(kind_state *ks, cand *c, unsigned long long *rng) {
  const value_set *space = space_for(ks);
  memset(c, 0, sizeof *c);
  for (int i = 0; i < ks->nparams; i++) c->v[i] = pick(&space[i], rng);
}

/* Parameters in the order the sweep changes them: tile sizes and vector widths first, the
 * local-memory switches last (they lose where local memory is emulated, as on CPUs). */
static const int direct_order[] = {D_WGD,    D_VWMD,   D_VWND, D_MDIMCD, D_NDIMCD,
                                   D_MDIMAD, D_NDIMBD, D_KWID, D_PADA,   D_PADB};
static const int xgemm_order[] = {X_MWG,   X_NWG,   X_VWM,  X_VWN,  X_KWG,  X_MDIMC, X_NDIMC,
                                  X_MDIMA, X_NDIMB, X_STRM, X_STRN, X_SA,   X_SB};

/* The first untried valid change of one parameter of the best set, nearest values first. */
static int sweep_cand(kind_state *ks, cand *c, const clgan_device_info *info) {
  if (!ks->have_best) return 0;
  int direct = ks->names == direct_names;
  const int *order = direct ? direct_order : xgemm_order;
  int norder = direct ? (int)(sizeof direct_order / sizeof direct_order[0])
                      : (int)(sizeof xgemm_order / sizeof xgemm_order[0]);
  const value_set *space = space_for(ks);
  for (int oi = 0; oi < norder; oi++) {
    int p = order[oi];
    const value_set *set = &space[p];
    double cur = log2((double)ks->best.v[p] + 1.0);
    int used[8] = {0};
    for (int r = 0; r < set->n; r++) {
      int pick_j = -1;
      double pick_d = 0.0;
      for (int j = 0; j < set->n; j++) {
        double d = fabs(log2((double)set->v[j] + 1.0) - cur);
        if (!used[j] && (pick_j < 0 || d < pick_d)) {
          pick_j = j;
          pick_d = d;
        }
      }
      used[pick_j] = 1;
      *c = ks->best;
      c->v[p] = set->v[pick_j];
      if (is_valid(ks, c, info) && !was_tried(ks, c)) return 1;
    }
  }
  return 0;
}

static int seed_cand(kind_state *ks, cand *c, const clgan_device_info *info) {
  while (ks->next_seed < ks->nseeds) {
    *c = ks->seeds[ks->next_seed++];
    if (is_valid(ks, c, info) && !was_tried(ks, c)) return 1;
  }
  return 0;
}

/* The next candidate: the first seed; then one-parameter changes of the best set (a sweep:
 * with a compile per candidate there are too few for random search to find much), with every
 * fourth pick a further seed or a random set for variety. Returns 0 when nothing is left. */
static int next_cand(kind_state *ks, cand *c, unsigned long long *rng,
                     const clgan_device_info *info) {
  ks->picks++;
  if (ks->next_seed == 0 && seed_cand(ks, c, info)) return 1;
  if (ks->picks % 4 != 0 && sweep_cand(ks, c, info)) return 1;
  if (seed_cand(ks, c, info)) return 1;
  for (int attempt = 0; attempt < 20000; attempt++) {
    random_cand(ks, c, rng);
    if (is_valid(ks, c, info) && !was_tried(ks, c)) return 1;
  }
  return sweep_cand(ks, c, info);
}

static int remember(kind_state *ks, const cand *c) {
  if (ks->ntried == ks->cap) {
    int cap = ks->cap ? 2 * ks->cap : 64;
    cand *grown = realloc(ks->tried, (size_t)cap * sizeof *grown);
    if (!grown) return 0;
    ks->tried = grown;
    ks->cap = cap;
  }
  ks->tried[ks->ntried++] = *c;
  return 1;
}

/* Seeds from a stored entry (the builtin table): every parameter must be named. */
static void add_seed(kind_state *ks, const size_t *values) {
  for (int i = 0; i < ks->nseeds; i++)
    if (!memcmp(ks->seeds[i].v, values, (size_t)ks->nparams * sizeof(size_t))) return;
  if (ks->nseeds < (int)(sizeof ks->seeds / sizeof ks->seeds[0])) {
    memset(&ks->seeds[ks->nseeds], 0, sizeof(cand));
    memcpy(ks->seeds[ks->nseeds++].v, values, (size_t)ks->nparams * sizeof(size_t));
  }
}

/* The set an entry names for this kind, if it is for this kind and names every parameter. */
static int entry_cand(const kind_state *ks, const clgan_tuning *e, cand *c) {
  memset(c, 0, sizeof *c);
  if (strcmp(e->kernel, ks->kernel) != 0) return 0;
  for (int i = 0; i < ks->nparams; i++) {
    int j = 0;
    while (j < e->count && strcmp(e->names[j], ks->names[i]) != 0) j++;
    if (j == e->count) return 0;
    c->v[i] = e->values[j];
  }
  return 1;
}

static void add_entry_seed(kind_state *ks, const clgan_tuning *e) {
  cand c;
  if (entry_cand(ks, e, &c)) add_seed(ks, c.v);
}

static void to_entry(const kind_state *ks, const cand *c, double gflops, clgan_tuning *e) {
  memset(e, 0, sizeof *e);
  snprintf(e->kernel, sizeof e->kernel, "%s", ks->kernel);
  e->count = ks->nparams;
  for (int i = 0; i < ks->nparams; i++) {
    snprintf(e->names[i], sizeof e->names[i], "%s", ks->names[i]);
    e->values[i] = c->v[i];
  }
  e->gflops = gflops;
}

static void describe(const kind_state *ks, const cand *c, char *out, size_t size) {
  size_t used = 0;
  out[0] = '\0';
  for (int i = 0; i < ks->nparams && used < size; i++)
    used += (size_t)snprintf(out + used, size - used, "%s%s=%zu", i ? "," : "", ks->names[i],
                             c->v[i]);
}

/* ---- Running and timing ---- */

typedef struct {
  clgan_tune_shape s;
  clgan_gemm_args g; /* alpha 1, beta 0, on a, b and c below */
  clgan_buffer a, b, c;
  float *ref, *out;
  size_t nc;
  double flops;
} shape_data;

/* Runs every shape once against its reference. Returns NULL, or says why it failed. */
static const char *verify(clgan_device *dev, shape_data *sd, int n, char *why, size_t why_size) {
  for (int i = 0; i < n; i++)
    if (clgan_gemm_verify(dev, &sd[i].g, sd[i].ref, sd[i].out, why, why_size)) return why;
  return NULL;
}

/* One timing of every shape: counts[i] back-to-back GEMMs and one wait. ms[i] keeps the lowest
 * time per GEMM seen, as other work on a shared machine only ever adds time. */
static const char *time_pass(clgan_device *dev, shape_data *sd, int n, const int *counts,
                             double *ms, char *why, size_t why_size) {
  for (int i = 0; i < n; i++) {
    double t0 = clgan_now_s();
    if (clgan_gemm_repeat(dev, &sd[i].g, counts[i], why, why_size)) return why;
    double dt = (clgan_now_s() - t0) / counts[i] * 1e3;
    if (dt < ms[i]) ms[i] = dt;
  }
  return NULL;
}

/* GEMMs per timing: enough to fill about 10 ms, at least `reps`, at most 200. */
static const char *set_counts(clgan_device *dev, shape_data *sd, int n, int reps, int *counts,
                              char *why, size_t why_size) {
  double ms[CLGAN_TUNE_MAX_SHAPES];
  for (int i = 0; i < n; i++) {
    counts[i] = 1;
    ms[i] = INFINITY;
  }
  if (time_pass(dev, sd, n, counts, ms, why, why_size)) return why;
  for (int i = 0; i < n; i++) {
    double c = ms[i] > 0.0 ? 10.0 / ms[i] : reps;
    counts[i] = c < reps ? reps : c > 200 ? 200 : (int)c;
  }
  return NULL;
}

#define TRIALS 5

static double weight(const shape_data *d) {
  return d->s.count > 0 ? (double)d->s.count : 1.0;
}

/* One training step's worth: the shapes' times, each as often as a step runs it. */
static double step_ms(const shape_data *sd, const double *x, int n) {
  double t = 0.0;
  for (int i = 0; i < n; i++) t += weight(&sd[i]) * x[i];
  return t;
}

/* Checks the parameters in effect, then times them: the best of TRIALS timings per shape. */
static const char *measure(clgan_device *dev, shape_data *sd, int n, int reps, double *ms,
                           char *why, size_t why_size) {
  int counts[CLGAN_TUNE_MAX_SHAPES] = {0};
  for (int i = 0; i < n; i++) ms[i] = INFINITY;
  if (verify(dev, sd, n, why, why_size) || set_counts(dev, sd, n, reps, counts, why, why_size))
    return why;
  for (int t = 0; t < TRIALS; t++)
    if (time_pass(dev, sd, n, counts, ms, why, why_size)) return why;
  return NULL;
}

static int override_cand(clgan_device *dev, const kind_state *ks, const cand *c) {
  clgan_tuning e;
  to_entry(ks, c, 0.0, &e);
  return clgan_tuning_override(dev, &e);
}

static void routine_entry(size_t min_indirect, clgan_tuning *e) {
  memset(e, 0, sizeof *e);
  snprintf(e->kernel, sizeof e->kernel, "GemmRoutine");
  snprintf(e->names[0], sizeof e->names[0], "XGEMM_MIN_INDIRECT_SIZE");
  e->values[0] = min_indirect;
  e->count = 1;
}

static int override_routine(clgan_device *dev, size_t min_indirect) {
  clgan_tuning e;
  routine_entry(min_indirect, &e);
  return clgan_tuning_override(dev, &e);
}

/* Puts candidate c of kind k in CLBlast's table with the routine forced its way (all_direct:
 * the size that sends every shape direct), and the other kind at its anchor (a set that
 * builds; its own values do not matter for this path's time). */
static int apply_cand(clgan_device *dev, const kind_state *ks, size_t all_direct, int k,
                      const cand *c) {
  const kind_state *other = &ks[1 - k];
  int rc = override_cand(dev, &ks[k], c);
  if (rc == 0 && other->have_anchor) rc = override_cand(dev, other, &other->anchor);
  if (rc == 0) rc = override_routine(dev, k == K_DIRECT ? all_direct : ALL_INDIRECT);
  return rc;
}

static size_t icbrt(unsigned long long x) {
  unsigned long long r = (unsigned long long)cbrt((double)x);
  while (r > 0 && r * r * r > x) r--;
  while ((r + 1) * (r + 1) * (r + 1) <= x) r++;
  return (size_t)r;
}

static unsigned long long mnk(const clgan_tune_shape *s) {
  return (unsigned long long)s->m * s->n * s->k;
}

int clgan_tune_default_shapes(clgan_tune_shape *shapes, int max) {
  static const clgan_tune_shape set[] = {
      /* mlp, batch 128, the 784x256 layer: y = x W^T, dx = dy W, dW = dy^T x */
      {128, 256, 784, 0, 1, 1}, {128, 784, 256, 0, 0, 1}, {256, 784, 128, 1, 0, 1},
      /* mlp-bn, batch 64, the 1024x784 layer */
      {64, 784, 1024, 0, 1, 1}, {64, 1024, 784, 0, 0, 1}, {784, 1024, 64, 1, 0, 1},
      /* small ones, where launch and padding costs decide: G's first layer, D's last */
      {128, 128, 100, 0, 1, 1}, {128, 1, 128, 0, 1, 1},
  };
  int n = 0;
  for (size_t i = 0; i < sizeof set / sizeof set[0] && n < max; i++) shapes[n++] = set[i];
  return n;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void say(const clgan_tune_cfg *cfg, const char *fmt, ...) {
  if (!cfg->progress) return;
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  cfg->progress(line, cfg->user);
}

static void fill_random(float *x, size_t n, unsigned long long *rng) {
  for (size_t i = 0; i < n; i++)
    x[i] = (float)((double)(next_u64(rng) >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static void free_shapes(shape_data *sd, int n) {
  for (int i = 0; sd && i < n; i++) {
    clgan_buffer_free(&sd[i].a);
    clgan_buffer_free(&sd[i].b);
    clgan_buffer_free(&sd[i].c);
    free(sd[i].ref);
    free(sd[i].out);
  }
  free(sd);
}

/* Buffers with random A and B, and the reference C of every shape. */
static clgan_status setup_shapes(clgan_device *dev, const clgan_tune_shape *shapes, int n,
                                 shape_data **out) {
  clgan_status st = CLGAN_OK;
  float *ha = NULL, *hb = NULL;
  unsigned long long rng = 20240611ULL;
  shape_data *sd = calloc((size_t)n, sizeof *sd);
  if (!sd) return CLGAN_HOST_OUT_OF_MEMORY;
  for (int i = 0; i < n; i++) {
    shape_data *d = &sd[i];
    const clgan_tune_shape *s = &shapes[i];
    size_t na = s->m * s->k, nb = s->k * s->n;
    d->s = *s;
    d->nc = s->m * s->n;
    d->flops = 2.0 * (double)mnk(s);
    ha = malloc(na * sizeof *ha);
    hb = malloc(nb * sizeof *hb);
    d->ref = malloc(d->nc * sizeof *d->ref);
    d->out = malloc(d->nc * sizeof *d->out);
    if (!ha || !hb || !d->ref || !d->out) {
      st = CLGAN_HOST_OUT_OF_MEMORY;
      goto fail;
    }
    fill_random(ha, na, &rng);
    fill_random(hb, nb, &rng);
    d->g = (clgan_gemm_args){.trans_a = s->trans_a, .trans_b = s->trans_b, .m = s->m,
                             .n = s->n, .k = s->k, .alpha = 1.0f, .beta = 0.0f,
                             .a = &d->a, .lda = s->trans_a ? s->m : s->k,
                             .b = &d->b, .ldb = s->trans_b ? s->k : s->n,
                             .c = &d->c, .ldc = s->n};
    clgan_gemm_reference(&d->g, ha, hb, d->ref);
    if ((st = clgan_buffer_alloc(dev, &d->a, na * sizeof *ha)) != CLGAN_OK ||
        (st = clgan_buffer_write(dev, &d->a, 0, na * sizeof *ha, ha)) != CLGAN_OK ||
        (st = clgan_buffer_alloc(dev, &d->b, nb * sizeof *hb)) != CLGAN_OK ||
        (st = clgan_buffer_write(dev, &d->b, 0, nb * sizeof *hb, hb)) != CLGAN_OK ||
        (st = clgan_buffer_alloc(dev, &d->c, d->nc * sizeof(float))) != CLGAN_OK)
      goto fail;
    free(ha);
    free(hb);
    ha = hb = NULL;
  }
  *out = sd;
  return CLGAN_OK;
fail:
  free(ha);
  free(hb);
  free_shapes(sd, n);
  return st;
}

/* The cross-over that minimises the pass: a shape runs direct while m*n*k < size^3. */
static size_t pick_crossover(const shape_data *sd, int n, const double *direct_ms,
                             const double *indirect_ms, double *total_ms) {
  size_t best_size = ALL_INDIRECT;
  double best = INFINITY;
  size_t sizes[CLGAN_TUNE_MAX_SHAPES + 1];
  int nsizes = 0;
  sizes[nsizes++] = ALL_INDIRECT;
  for (int i = 0; i < n; i++) sizes[nsizes++] = icbrt(mnk(&sd[i].s)) + 1;
  for (int j = 0; j < nsizes; j++) {
    unsigned long long cube = (unsigned long long)sizes[j] * sizes[j] * sizes[j];
    double t = 0.0;
    for (int i = 0; i < n; i++)
      t += weight(&sd[i]) * (mnk(&sd[i].s) < cube ? direct_ms[i] : indirect_ms[i]);
    /* A tie goes to the larger size: fewer kernels per GEMM. */
    if (t < best || (t == best && sizes[j] > best_size)) {
      best = t;
      best_size = sizes[j];
    }
  }
  *total_ms = best;
  return best_size;
}

/* ---- The search, phase by phase ---- */

/* What the phases share: the configuration with its defaults filled in, the shapes and their
 * buffers, the two kinds' search states and the result being filled. */
typedef struct {
  clgan_device *dev;
  const clgan_device_info *info;
  clgan_tune_cfg cfg;
  clgan_tune_shape default_shapes[CLGAN_TUNE_MAX_SHAPES];
  clgan_tune_result *res;
  shape_data *sd;
  int n;
  kind_state ks[NKINDS];
  unsigned long long rng;
  double set_flops;  /* one pass: every shape's flops, as often as a step runs it */
  size_t all_direct; /* the smallest cross-over that keeps every shape direct */
  double t_start;
  char why[256];
} tuner;

/* The configuration with its defaults, checked; the result cleared and given the shapes. */
static clgan_status tuner_init(tuner *t, clgan_device *dev, const clgan_tune_cfg *cfg_in,
                               clgan_tune_result *res) {
  clgan_tune_cfg *cfg = &t->cfg;
  memset(t, 0, sizeof *t);
  memset(res, 0, sizeof *res);
  t->t_start = clgan_now_s();
  t->dev = dev;
  t->info = clgan_device_get_info(dev);
  t->res = res;
  *cfg = *cfg_in;
  if (cfg->budget_s <= 0) cfg->budget_s = 120.0;
  if (cfg->reps <= 0) cfg->reps = 3;
  if (!cfg->shapes || cfg->nshapes <= 0) {
    cfg->nshapes = clgan_tune_default_shapes(t->default_shapes, CLGAN_TUNE_MAX_SHAPES);
    cfg->shapes = t->default_shapes;
  }
  if (cfg->nshapes > CLGAN_TUNE_MAX_SHAPES) {
    clgan_error("%s: clgan_tune takes at most %d shapes, got %d",
                clgan_status_message(CLGAN_INVALID_ARGUMENT), CLGAN_TUNE_MAX_SHAPES, cfg->nshapes);
    return CLGAN_INVALID_ARGUMENT;
  }
  for (int i = 0; i < cfg->nshapes; i++) {
    if (cfg->shapes[i].m == 0 || cfg->shapes[i].n == 0 || cfg->shapes[i].k == 0) {
      clgan_error("%s: clgan_tune shape %d has a zero dimension",
                  clgan_status_message(CLGAN_INVALID_ARGUMENT), i);
      return CLGAN_INVALID_ARGUMENT;
    }
  }
  t->rng = cfg->seed ? cfg->seed : 0x5EEDULL;
  t->n = cfg->nshapes;
  res->nshapes = t->n;
  for (int i = 0; i < t->n; i++) res->shapes[i].shape = cfg->shapes[i];
  return CLGAN_OK;
}

/* The shapes' buffers and references, the pass's flops, and the all-direct cross-over. */
static clgan_status tuner_prepare(tuner *t) {
  say(&t->cfg, "preparing %d shapes and their C references", t->n);
  clgan_status st = setup_shapes(t->dev, t->cfg.shapes, t->n, &t->sd);
  if (st != CLGAN_OK) return st;
  /* The direct search runs with the smallest cross-over that keeps every shape direct: if
   * direct wins outright, the winners' program is one the search already built. */
  unsigned long long largest = 0;
  for (int i = 0; i < t->n; i++) {
    t->set_flops += weight(&t->sd[i]) * t->sd[i].flops;
    if (mnk(&t->sd[i].s) > largest) largest = mnk(&t->sd[i].s);
  }
  t->all_direct = icbrt(largest) + 1;
  if (t->all_direct > 4096) t->all_direct = 4096; /* the cache's limit on a value; 4096^3 is plenty */
  return CLGAN_OK;
}

/* Both kinds' starting points: the caller's seeds, the shipped sets for the device's tuning
 * class, those for the other classes of its family (a CPU that PoCL compiles for haswell starts
 * from the skylake-avx512 sets: issue 11) and the built-in seeds, in that order; the caller's
 * skip list marked tried, so never proposed. */
static clgan_status seed_kinds(tuner *t) {
  kind_state *ks = t->ks;
  clgan_tuning builtin[16];
  clgan_tuning_status ts;
  clgan_device_tuning_status(t->dev, &ts);
  char family[sizeof ts.cls];
  snprintf(family, sizeof family, "%.*s:", (int)strcspn(ts.cls, ":"), ts.cls);
  int nb = clgan_tuning_builtin_for(ts.cls, builtin, 8);
  nb += clgan_tuning_builtin_for(family, builtin + nb, 16 - nb);
  ks[K_DIRECT] = (kind_state){.kernel = "XgemmDirect", .names = direct_names, .nparams = ND};
  ks[K_XGEMM] = (kind_state){.kernel = "Xgemm", .names = xgemm_names, .nparams = NX};
  for (int k = 0; k < NKINDS; k++) {
    for (int i = 0; i < t->cfg.nseeds; i++) add_entry_seed(&ks[k], &t->cfg.seeds[i]);
    for (int i = 0; i < nb; i++) add_entry_seed(&ks[k], &builtin[i]);
    for (int i = 0; i < t->cfg.nskip; i++) {
      cand c;
      if (entry_cand(&ks[k], &t->cfg.skip[i], &c) && !remember(&ks[k], &c))
        return CLGAN_HOST_OUT_OF_MEMORY;
    }
  }
  for (size_t i = 0; i < sizeof direct_seeds / sizeof direct_seeds[0]; i++)
    add_seed(&ks[K_DIRECT], direct_seeds[i].v);
  for (size_t i = 0; i < sizeof xgemm_seeds / sizeof xgemm_seeds[0]; i++)
    add_seed(&ks[K_XGEMM], xgemm_seeds[i].v);
  return CLGAN_OK;
}

/* "Before": the parameters in effect when the search starts. A failure is only a warning. */
static void time_before(tuner *t) {
  double ms[CLGAN_TUNE_MAX_SHAPES];
  clgan_tune_result *res = t->res;
  say(&t->cfg, "timing the parameters in effect (the first call compiles CLBlast's kernels)");
  if (measure(t->dev, t->sd, t->n, t->cfg.reps, ms, t->why, sizeof t->why) == NULL) {
    res->before_ms = step_ms(t->sd, ms, t->n);
    for (int i = 0; i < t->n; i++) res->shapes[i].before_gflops = t->sd[i].flops / (ms[i] * 1e6);
    say(&t->cfg, "before: %.2f ms per pass, %.1f GFLOPS", res->before_ms,
        t->set_flops / (res->before_ms * 1e6));
  } else {
    clgan_warn("tuning: the parameters in effect before the search fail (%s)", t->why);
  }
}

/* Which kernel the next candidate tunes: one seed of each (Xgemm first: the shipped set, when
 * there is one, is the program the device already built), then the kind with the faster best
 * pass gets three turns in four; candidates are cheap to time but dear to compile, so the slower
 * kind only keeps a chance. After a rejected set of a kind with no anchor yet, that kind goes
 * on: the rejected set stays in CLBlast's table and would break the shared program for the
 * other. */
static int pick_kind(const tuner *t, int turn, int last, int last_rejected) {
  const kind_state *ks = t->ks;
  if (last >= 0 && last_rejected && !ks[last].have_anchor) return last;
  if (turn < 2) return turn == 0 ? K_XGEMM : K_DIRECT;
  int fast = !ks[K_XGEMM].have_best                        ? K_DIRECT
             : !ks[K_DIRECT].have_best                     ? K_XGEMM
             : ks[K_DIRECT].best_ms <= ks[K_XGEMM].best_ms ? K_DIRECT
                                                           : K_XGEMM;
  return turn % 4 == 3 ? 1 - fast : fast;
}

/* Checks candidate c of kind k, then times it in turns with its kind's best set (CLBlast keeps
 * that program, so the switch costs no build): load from other work on the machine then hits
 * both alike. Returns NULL, or why the candidate is rejected; *paired says whether best_ms holds
 * the best set's times from the same turns. */
static const char *time_candidate(tuner *t, int k, const cand *c, double *cand_ms,
                                  double *best_ms, int *paired_out) {
  clgan_device *dev = t->dev;
  shape_data *sd = t->sd;
  kind_state *s = &t->ks[k];
  int n = t->n, counts[CLGAN_TUNE_MAX_SHAPES] = {0};
  char *why = t->why;
  size_t why_size = sizeof t->why;
  for (int i = 0; i < n; i++) cand_ms[i] = best_ms[i] = INFINITY;
  int paired = s->have_best;
  const char *fail_why = NULL;
  int rc = apply_cand(dev, t->ks, t->all_direct, k, c);
  if (rc != 0) {
    snprintf(why, why_size, "CLBlastOverrideParameters returned %d", rc);
    fail_why = why;
  }
  if (!fail_why) fail_why = verify(dev, sd, n, why, why_size);
  if (!fail_why) fail_why = set_counts(dev, sd, n, t->cfg.reps, counts, why, why_size);
  if (!fail_why && paired) {
    /* The best set's program may need a build if the other kind's anchor came later. */
    double scratch[CLGAN_TUNE_MAX_SHAPES];
    int ones[CLGAN_TUNE_MAX_SHAPES];
    for (int i = 0; i < n; i++) ones[i] = 1, scratch[i] = INFINITY;
    if (apply_cand(dev, t->ks, t->all_direct, k, &s->best) != 0 ||
        time_pass(dev, sd, n, ones, scratch, why, why_size) != NULL)
      paired = 0; /* the best set stopped working: the candidate stands alone */
  }
  for (int trial = 0; trial < TRIALS && !fail_why; trial++) {
    if (paired && apply_cand(dev, t->ks, t->all_direct, k, c) != 0) paired = 0;
    fail_why = time_pass(dev, sd, n, counts, cand_ms, why, why_size);
    if (!fail_why && paired &&
        (apply_cand(dev, t->ks, t->all_direct, k, &s->best) != 0 ||
         time_pass(dev, sd, n, counts, best_ms, why, why_size) != NULL))
      paired = 0;
  }
  *paired_out = paired;
  return fail_why;
}

/* Takes a candidate that passed: the kind's anchor if it has none, its best if it wins. */
static void record_candidate(tuner *t, int k, const cand *c, const double *cand_ms,
                             const double *best_ms, int paired, double elapsed,
                             const char *params) {
  kind_state *s = &t->ks[k];
  clgan_tuning entry;
  int n = t->n;
  if (!s->have_anchor) {
    s->anchor = *c;
    s->have_anchor = 1;
  }
  double total = step_ms(t->sd, cand_ms, n);
  if (paired) s->best_ms = step_ms(t->sd, best_ms, n); /* fresh, next to the candidate's */
  /* A new best must win by 2%: below that, timings on a shared machine do not tell. */
  int better = !s->have_best || total < 0.98 * s->best_ms;
  if (better) {
    s->best = *c;
    s->best_ms = total;
    s->have_best = 1;
    if (t->cfg.journal) {
      to_entry(s, c, t->set_flops / (total * 1e6), &entry);
      t->cfg.journal("best", &entry, t->cfg.user);
    }
  }
  char vs[64] = "";
  if (paired)
    snprintf(vs, sizeof vs, " (best so far, timed alongside: %.1f)",
             t->set_flops / (step_ms(t->sd, best_ms, n) * 1e6));
  say(&t->cfg, "[%5.0fs] %-11s #%-3d %6.1f GFLOPS%s%s  %s", elapsed, s->kernel, t->res->tried,
      t->set_flops / (total * 1e6), vs, better ? " *new best*" : "", params);
}

/* Candidates, kind by kind (pick_kind), until the budget or max_candidates is spent or neither
 * kind has one left. */
static clgan_status search(tuner *t) {
  clgan_tune_result *res = t->res;
  char params[512];
  clgan_tuning entry;
  double search_start = clgan_now_s();
  int last = -1, last_rejected = 0;
  for (int turn = 0;; turn++) {
    if (t->cfg.max_candidates > 0 && res->tried >= t->cfg.max_candidates) break;
    double spent = clgan_now_s() - t->t_start;
    if (res->tried > 0 && spent + (clgan_now_s() - search_start) / res->tried > t->cfg.budget_s) break;
    int k = pick_kind(t, turn, last, last_rejected);
    cand c;
    if (!next_cand(&t->ks[k], &c, &t->rng, t->info)) {
      if (!next_cand(&t->ks[1 - k], &c, &t->rng, t->info)) break;
      k = 1 - k;
    }
    kind_state *s = &t->ks[k];
    if (!remember(s, &c)) return CLGAN_HOST_OUT_OF_MEMORY;
    res->tried++;
    describe(s, &c, params, sizeof params);
    if (t->cfg.journal) {
      to_entry(s, &c, 0.0, &entry);
      t->cfg.journal("try", &entry, t->cfg.user);
    }
    double cand_ms[CLGAN_TUNE_MAX_SHAPES], best_ms[CLGAN_TUNE_MAX_SHAPES];
    int paired = 0;
    const char *fail_why = time_candidate(t, k, &c, cand_ms, best_ms, &paired);
    double elapsed = clgan_now_s() - t->t_start;
    last = k;
    last_rejected = fail_why != NULL;
    if (fail_why) {
      res->rejected++;
      say(&t->cfg, "[%5.0fs] %-11s #%-3d rejected: %s  (%s)", elapsed, s->kernel, res->tried,
          fail_why, params);
      continue;
    }
    record_candidate(t, k, &c, cand_ms, best_ms, paired, elapsed, params);
  }
  return CLGAN_OK;
}

/* The cross-over: both bests timed in turns, shape by shape. With only direct sets measured,
 * GEMMs larger than the set still go indirect, as CLBlast intends for large sizes: the set says
 * nothing about them. */
static clgan_status choose_crossover(tuner *t, size_t *size) {
  clgan_device *dev = t->dev;
  shape_data *sd = t->sd;
  kind_state *ks = t->ks;
  int n = t->n;
  *size = ks[K_DIRECT].have_best ? t->all_direct : ALL_INDIRECT;
  if (!ks[K_DIRECT].have_best || !ks[K_XGEMM].have_best) return CLGAN_OK;
  double dms[CLGAN_TUNE_MAX_SHAPES], ims[CLGAN_TUNE_MAX_SHAPES], predicted = 0.0;
  int counts[CLGAN_TUNE_MAX_SHAPES] = {0};
  const char *fail_why = NULL;
  say(&t->cfg, "timing both bests in turns for the direct/indirect cross-over");
  for (int i = 0; i < n; i++) dms[i] = ims[i] = INFINITY;
  if (apply_cand(dev, ks, t->all_direct, K_XGEMM, &ks[K_XGEMM].best) != 0 ||
      set_counts(dev, sd, n, t->cfg.reps, counts, t->why, sizeof t->why) != NULL)
    fail_why = t->why;
  for (int trial = 0; trial < TRIALS && !fail_why; trial++) {
    if (apply_cand(dev, ks, t->all_direct, K_DIRECT, &ks[K_DIRECT].best) != 0 ||
        time_pass(dev, sd, n, counts, dms, t->why, sizeof t->why) != NULL ||
        apply_cand(dev, ks, t->all_direct, K_XGEMM, &ks[K_XGEMM].best) != 0 ||
        time_pass(dev, sd, n, counts, ims, t->why, sizeof t->why) != NULL)
      fail_why = t->why;
  }
  if (fail_why) {
    clgan_error("%s: timing the best sets again failed: %s",
                clgan_status_message(CLGAN_CLBLAST_ERROR), fail_why);
    return CLGAN_CLBLAST_ERROR;
  }
  *size = pick_crossover(sd, n, dms, ims, &predicted);
  for (int i = 0; i < n; i++)
    say(&t->cfg, "%4zu x %4zu x %4zu: direct %.3f ms, indirect %.3f ms", sd[i].s.m, sd[i].s.n,
        sd[i].s.k, dms[i], ims[i]);
  say(&t->cfg, "cross-over: direct while m*n*k < %zu^3; predicted pass %.2f ms", *size,
      predicted);
  ks[K_DIRECT].best_ms = step_ms(sd, dms, n);
  ks[K_XGEMM].best_ms = step_ms(sd, ims, n);
  return CLGAN_OK;
}

/* The winners, applied together (one more build), checked once more and timed ("after"). */
static clgan_status apply_winners(tuner *t, size_t size) {
  clgan_tune_result *res = t->res;
  kind_state *ks = t->ks;
  double ms[CLGAN_TUNE_MAX_SHAPES];
  if (ks[K_DIRECT].have_best) {
    res->direct_ms = ks[K_DIRECT].best_ms;
    to_entry(&ks[K_DIRECT], &ks[K_DIRECT].best, t->set_flops / (res->direct_ms * 1e6),
             &res->entries[res->count++]);
  }
  if (ks[K_XGEMM].have_best) {
    res->indirect_ms = ks[K_XGEMM].best_ms;
    to_entry(&ks[K_XGEMM], &ks[K_XGEMM].best, t->set_flops / (res->indirect_ms * 1e6),
             &res->entries[res->count++]);
  }
  clgan_tuning *e = &res->entries[res->count++];
  routine_entry(size, e);
  clgan_status st = clgan_tuning_apply(t->dev, res->entries, res->count);
  if (st != CLGAN_OK) return st;

  say(&t->cfg, "checking and timing the winners together");
  if (measure(t->dev, t->sd, t->n, t->cfg.reps, ms, t->why, sizeof t->why) != NULL) {
    clgan_error("%s: the tuned parameters fail when applied together: %s",
                clgan_status_message(CLGAN_CLBLAST_ERROR), t->why);
    return CLGAN_CLBLAST_ERROR;
  }
  res->after_ms = step_ms(t->sd, ms, t->n);
  for (int i = 0; i < t->n; i++) res->shapes[i].after_gflops = t->sd[i].flops / (ms[i] * 1e6);
  e->gflops = t->set_flops / (res->after_ms * 1e6);
  res->elapsed_s = clgan_now_s() - t->t_start;
  return CLGAN_OK;
}

clgan_status clgan_tune(clgan_device *dev, const clgan_tune_cfg *cfg, clgan_tune_result *res) {
  tuner t;
  size_t size = ALL_INDIRECT;
  clgan_status st = tuner_init(&t, dev, cfg, res);
  if (st != CLGAN_OK) return st;
  st = tuner_prepare(&t);
  if (st != CLGAN_OK) return st;
  if ((st = seed_kinds(&t)) != CLGAN_OK) goto fail;
  if (!t.cfg.skip_baseline) time_before(&t);
  if ((st = search(&t)) != CLGAN_OK) goto fail;
  if (!t.ks[K_DIRECT].have_best && !t.ks[K_XGEMM].have_best) {
    clgan_error("%s: tuning found no parameters that CLBlast accepts and that compute the right "
                "result on %s; CLBlast's table for this device now holds the last candidate, so "
                "reopen the device in a new process",
                clgan_status_message(CLGAN_CLBLAST_ERROR), t.info->name);
    st = CLGAN_CLBLAST_ERROR;
    goto fail;
  }
  if ((st = choose_crossover(&t, &size)) != CLGAN_OK) goto fail;
  st = apply_winners(&t, size);
fail:
  for (int k = 0; k < NKINDS; k++) free(t.ks[k].tried);
  free_shapes(t.sd, t.n);
  return st;
}
