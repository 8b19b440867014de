/* `clgan tune`'s search: CLBlast's XgemmDirect and Xgemm parameters and the direct/indirect
 * cross-over (GemmRoutine's XGEMM_MIN_INDIRECT_SIZE) for one device, on the GEMMs training runs.
 * Candidates reach CLBlast through CLBlastOverrideParameters; each is run once against
 * clgan_gemm_reference (CLBlast does not validate parameters: a wrong set computes garbage
 * without an error) and then timed with clFinish, in turns with the best set of its kind so that
 * other load on the machine hits both alike. tuning.c stores the winners.
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
 * winners applied. */
#include <clblast_c.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device/internal.h"

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

static int multiple(size_t x, size_t of) { return of != 0 && x % of == 0; }

static int direct_valid(const cand *c, const clgan_device_info *info) {
  const size_t *v = c->v;
  size_t threads = v[D_MDIMCD] * v[D_NDIMCD];
  return multiple(v[D_WGD], v[D_KWID]) && multiple(v[D_WGD], v[D_MDIMCD] * v[D_VWMD]) &&
         multiple(v[D_WGD], v[D_NDIMCD] * v[D_VWND]) &&
         multiple(v[D_WGD], v[D_MDIMAD] * v[D_VWMD]) &&
         multiple(v[D_WGD], v[D_NDIMBD] * v[D_VWND]) && multiple(threads, v[D_MDIMAD]) &&
         multiple(threads, v[D_NDIMBD]) && multiple(v[D_WGD], threads / v[D_MDIMAD]) &&
         multiple(v[D_WGD], threads / v[D_NDIMBD]) && threads <= info->max_work_group &&
         4 * (v[D_WGD] * (v[D_WGD] + v[D_PADA]) + v[D_WGD] * (v[D_WGD] + v[D_PADB])) <=
             info->local_mem;
}

static int xgemm_valid(const cand *c, const clgan_device_info *info) {
  const size_t *v = c->v;
  size_t threads = v[X_MDIMC] * v[X_NDIMC];
  return v[X_GEMMK] == 0 && v[X_KREG] == 1 && multiple(v[X_KWG], v[X_KWI]) &&
         multiple(v[X_MWG], v[X_MDIMC] * v[X_VWM]) && multiple(v[X_NWG], v[X_NDIMC] * v[X_VWN]) &&
         multiple(v[X_MWG], v[X_MDIMA] * v[X_VWM]) && multiple(v[X_NWG], v[X_NDIMB] * v[X_VWN]) &&
         multiple(threads, v[X_MDIMA]) && multiple(threads, v[X_NDIMB]) &&
         multiple(v[X_KWG], threads / v[X_MDIMA]) && multiple(v[X_KWG], threads / v[X_NDIMB]) &&
         threads <= info->max_work_group &&
         4 * (v[X_SA] * v[X_KWG] * v[X_MWG] + v[X_SB] * v[X_KWG] * v[X_NWG]) <= info->local_mem;
}

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
  double best_shape_ms[CLGAN_TUNE_MAX_SHAPES];
  cand anchor; /* the first set that passed: what the other kind's runs keep in the table */
  int have_anchor;
  cand seeds[8];
  int nseeds, next_seed;
  int picks;
} kind_state;

static const value_set *space_for(const kind_state *ks) {
  return ks->names == direct_names ? direct_space : xgemm_space;
}

static int is_valid(const kind_state *ks, const cand *c, const clgan_device_info *info) {
  return ks->names == direct_names ? direct_valid(c, info) : xgemm_valid(c, info);
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
  cl_mem a, b, c;
  float *ref, *out;
  size_t nc;
  double flops;
} shape_data;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static CLBlastStatusCode run_gemm(clgan_device *dev, shape_data *d) {
  const clgan_tune_shape *s = &d->s;
  return CLBlastSgemm(CLBlastLayoutRowMajor, s->trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
                      s->trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, s->m, s->n, s->k,
                      1.0f, d->a, 0, s->trans_a ? s->m : s->k, d->b, 0, s->trans_b ? s->k : s->n,
                      0.0f, d->c, 0, s->n, &dev->queue, NULL);
}

/* Runs every shape once against its reference. Returns NULL, or says why it failed. */
static const char *verify(clgan_device *dev, shape_data *sd, int n, char *why, size_t why_size) {
  /* A sentinel in C shows elements the kernel never wrote; beta = 0 keeps it out of the sum. */
  const cl_float sentinel = 12345.0f;
  for (int i = 0; i < n; i++) {
    shape_data *d = &sd[i];
    cl_int err = clEnqueueFillBuffer(dev->queue, d->c, &sentinel, sizeof sentinel, 0,
                                     d->nc * sizeof(float), 0, NULL, NULL);
    CLBlastStatusCode c = run_gemm(dev, d);
    if (c != CLBlastSuccess) {
      snprintf(why, why_size, "CLBlast returned %d on %zux%zux%zu", (int)c, d->s.m, d->s.n, d->s.k);
      clFinish(dev->queue);
      return why;
    }
    if (err == CL_SUCCESS)
      err = clEnqueueReadBuffer(dev->queue, d->c, CL_TRUE, 0, d->nc * sizeof(float), d->out, 0,
                                NULL, NULL);
    if (err != CL_SUCCESS) {
      snprintf(why, why_size, "OpenCL error %s on %zux%zux%zu", clgan_cl_error_name(err), d->s.m,
               d->s.n, d->s.k);
      return why;
    }
    size_t j;
    if (!(clgan_gemm_error_ratio(d->s.k, d->out, d->ref, d->nc, &j) <= 1.0)) {
      snprintf(why, why_size, "wrong result on %zux%zux%zu (element %zu: %g, want %g)", d->s.m,
               d->s.n, d->s.k, j, (double)d->out[j], (double)d->ref[j]);
      return why;
    }
  }
  return NULL;
}

/* One timing of every shape: counts[i] back-to-back GEMMs and one wait. ms[i] keeps the lowest
 * time per GEMM seen, as other work on a shared machine only ever adds time. */
static const char *time_pass(clgan_device *dev, shape_data *sd, int n, const int *counts,
                             double *ms, char *why, size_t why_size) {
  for (int i = 0; i < n; i++) {
    double t0 = now_s();
    for (int r = 0; r < counts[i]; r++) {
      CLBlastStatusCode c = run_gemm(dev, &sd[i]);
      if (c != CLBlastSuccess) {
        snprintf(why, why_size, "CLBlast returned %d", (int)c);
        clFinish(dev->queue);
        return why;
      }
    }
    cl_int err = clFinish(dev->queue);
    if (err != CL_SUCCESS) {
      snprintf(why, why_size, "clFinish returned %s", clgan_cl_error_name(err));
      return why;
    }
    double dt = (now_s() - t0) / counts[i] * 1e3;
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

static int override_params(clgan_device *dev, const char *kernel, const char *const *names,
                           const size_t *values, int n) {
  const char *nm[NPARAM_MAX];
  size_t v[NPARAM_MAX];
  for (int i = 0; i < n; i++) {
    nm[i] = names[i];
    v[i] = values[i];
  }
  return (int)CLBlastOverrideParameters(dev->id, kernel, CLBlastPrecisionSingle, (size_t)n, nm, v);
}

static int override_routine(clgan_device *dev, size_t min_indirect) {
  static const char *const name[] = {"XGEMM_MIN_INDIRECT_SIZE"};
  return override_params(dev, "GemmRoutine", name, &min_indirect, 1);
}

/* Puts candidate c of kind k in CLBlast's table with the routine forced its way (all_direct:
 * the size that sends every shape direct), and the other kind at its anchor (a set that
 * builds; its own values do not matter for this path's time). */
static int apply_cand(clgan_device *dev, const kind_state *ks, size_t all_direct, int k,
                      const cand *c) {
  const kind_state *other = &ks[1 - k];
  int rc = override_params(dev, ks[k].kernel, ks[k].names, c->v, ks[k].nparams);
  if (rc == 0 && other->have_anchor)
    rc = override_params(dev, other->kernel, other->names, other->anchor.v, other->nparams);
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
    if (sd[i].a) clReleaseMemObject(sd[i].a);
    if (sd[i].b) clReleaseMemObject(sd[i].b);
    if (sd[i].c) clReleaseMemObject(sd[i].c);
    free(sd[i].ref);
    free(sd[i].out);
  }
  free(sd);
}

/* Buffers with random A and B, and the reference C of every shape. */
static clgan_status setup_shapes(clgan_device *dev, const clgan_tune_shape *shapes, int n,
                                 shape_data **out) {
  clgan_status st = CLGAN_OK;
  cl_int err = CL_SUCCESS;
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
    clgan_gemm_args g = {.trans_a = s->trans_a, .trans_b = s->trans_b, .m = s->m, .n = s->n,
                         .k = s->k, .alpha = 1.0f, .beta = 0.0f, .lda = s->trans_a ? s->m : s->k,
                         .ldb = s->trans_b ? s->k : s->n, .ldc = s->n};
    clgan_gemm_reference(&g, ha, hb, d->ref);
    d->a = clCreateBuffer(dev->context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                          na * sizeof *ha, ha, &err);
    CL_TRY(err);
    d->b = clCreateBuffer(dev->context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                          nb * sizeof *hb, hb, &err);
    CL_TRY(err);
    d->c = clCreateBuffer(dev->context, CL_MEM_READ_WRITE, d->nc * sizeof(float), NULL, &err);
    CL_TRY(err);
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

clgan_status clgan_tune(clgan_device *dev, const clgan_tune_cfg *cfg_in, clgan_tune_result *res) {
  clgan_status st = CLGAN_OK;
  clgan_tune_cfg cfg = *cfg_in;
  clgan_tune_shape default_shapes[CLGAN_TUNE_MAX_SHAPES];
  shape_data *sd = NULL;
  kind_state ks[NKINDS];
  double ms[CLGAN_TUNE_MAX_SHAPES];
  char why[256], params[512];
  clgan_tuning entry;
  double t_start = now_s();

  memset(res, 0, sizeof *res);
  memset(ks, 0, sizeof ks);
  if (cfg.budget_s <= 0) cfg.budget_s = 120.0;
  if (cfg.reps <= 0) cfg.reps = 3;
  if (!cfg.shapes || cfg.nshapes <= 0) {
    cfg.nshapes = clgan_tune_default_shapes(default_shapes, CLGAN_TUNE_MAX_SHAPES);
    cfg.shapes = default_shapes;
  }
  if (cfg.nshapes > CLGAN_TUNE_MAX_SHAPES) {
    clgan_error("%s: clgan_tune takes at most %d shapes, got %d",
                clgan_status_message(CLGAN_INVALID_ARGUMENT), CLGAN_TUNE_MAX_SHAPES, cfg.nshapes);
    return CLGAN_INVALID_ARGUMENT;
  }
  for (int i = 0; i < cfg.nshapes; i++) {
    if (cfg.shapes[i].m == 0 || cfg.shapes[i].n == 0 || cfg.shapes[i].k == 0) {
      clgan_error("%s: clgan_tune shape %d has a zero dimension",
                  clgan_status_message(CLGAN_INVALID_ARGUMENT), i);
      return CLGAN_INVALID_ARGUMENT;
    }
  }
  unsigned long long rng = cfg.seed ? cfg.seed : 0x5EEDULL;
  int n = cfg.nshapes;
  double set_flops = 0.0;
  res->nshapes = n;
  for (int i = 0; i < n; i++) res->shapes[i].shape = cfg.shapes[i];

  say(&cfg, "preparing %d shapes and their C references", n);
  st = setup_shapes(dev, cfg.shapes, n, &sd);
  if (st != CLGAN_OK) return st;
  /* The direct search runs with the smallest cross-over that keeps every shape direct: if
   * direct wins outright, the winners' program is one the search already built. */
  unsigned long long largest = 0;
  for (int i = 0; i < n; i++) {
    set_flops += weight(&sd[i]) * sd[i].flops;
    if (mnk(&sd[i].s) > largest) largest = mnk(&sd[i].s);
  }
  size_t all_direct = icbrt(largest) + 1;
  if (all_direct > 4096) all_direct = 4096; /* the cache's limit on a value; 4096^3 is plenty */

  ks[K_DIRECT] = (kind_state){.kernel = "XgemmDirect", .names = direct_names, .nparams = ND};
  ks[K_XGEMM] = (kind_state){.kernel = "Xgemm", .names = xgemm_names, .nparams = NX};
  {
    clgan_tuning builtin[8];
    int nb = clgan_tuning_builtin(dev, builtin, 8);
    for (int k = 0; k < NKINDS; k++) {
      for (int i = 0; i < cfg.nseeds; i++) add_entry_seed(&ks[k], &cfg.seeds[i]);
      for (int i = 0; i < nb; i++) add_entry_seed(&ks[k], &builtin[i]);
      for (int i = 0; i < cfg.nskip; i++) { /* marked tried: never proposed */
        cand c;
        if (entry_cand(&ks[k], &cfg.skip[i], &c) && !remember(&ks[k], &c)) {
          st = CLGAN_HOST_OUT_OF_MEMORY;
          goto fail;
        }
      }
    }
    for (size_t i = 0; i < sizeof direct_seeds / sizeof direct_seeds[0]; i++)
      add_seed(&ks[K_DIRECT], direct_seeds[i].v);
    for (size_t i = 0; i < sizeof xgemm_seeds / sizeof xgemm_seeds[0]; i++)
      add_seed(&ks[K_XGEMM], xgemm_seeds[i].v);
  }

  if (!cfg.skip_baseline) {
    say(&cfg, "timing the parameters in effect (the first call compiles CLBlast's kernels)");
    if (measure(dev, sd, n, cfg.reps, ms, why, sizeof why) == NULL) {
      res->before_ms = step_ms(sd, ms, n);
      for (int i = 0; i < n; i++) res->shapes[i].before_gflops = sd[i].flops / (ms[i] * 1e6);
      say(&cfg, "before: %.2f ms per pass, %.1f GFLOPS", res->before_ms,
          set_flops / (res->before_ms * 1e6));
    } else {
      clgan_warn("tuning: the parameters in effect before the search fail (%s)", why);
    }
  }

  /* Which kernel each candidate tunes: one seed of each (Xgemm first: the shipped set, when
   * there is one, is the program the device already built), then the kind with the faster
   * best pass gets three turns in four; candidates are cheap to time but dear to compile, so
   * the slower kind only keeps a chance. After a rejected set of a kind with no anchor yet,
   * that kind goes on: the rejected set stays in CLBlast's table and would break the shared
   * program for the other. A candidate is timed in turns with its kind's best set (CLBlast
   * keeps that program, so the switch costs no build): load from other work on the machine
   * then hits both alike. */
  double search_start = now_s();
  int last = -1, last_rejected = 0;
  for (int turn = 0;; turn++) {
    if (cfg.max_candidates > 0 && res->tried >= cfg.max_candidates) break;
    double spent = now_s() - t_start;
    if (res->tried > 0 && spent + (now_s() - search_start) / res->tried > cfg.budget_s) break;
    int k;
    if (last >= 0 && last_rejected && !ks[last].have_anchor) {
      k = last;
    } else if (turn < 2) {
      k = turn == 0 ? K_XGEMM : K_DIRECT;
    } else {
      int fast = !ks[K_XGEMM].have_best                        ? K_DIRECT
                 : !ks[K_DIRECT].have_best                     ? K_XGEMM
                 : ks[K_DIRECT].best_ms <= ks[K_XGEMM].best_ms ? K_DIRECT
                                                               : K_XGEMM;
      k = turn % 4 == 3 ? 1 - fast : fast;
    }
    cand c;
    if (!next_cand(&ks[k], &c, &rng, &dev->info)) {
      if (!next_cand(&ks[1 - k], &c, &rng, &dev->info)) break;
      k = 1 - k;
    }
    kind_state *s = &ks[k];
    if (!remember(s, &c)) {
      st = CLGAN_HOST_OUT_OF_MEMORY;
      goto fail;
    }
    res->tried++;
    describe(s, &c, params, sizeof params);
    if (cfg.journal) {
      to_entry(s, &c, 0.0, &entry);
      cfg.journal("try", &entry, cfg.user);
    }

    double cand_ms[CLGAN_TUNE_MAX_SHAPES], best_ms[CLGAN_TUNE_MAX_SHAPES];
    int counts[CLGAN_TUNE_MAX_SHAPES] = {0};
    for (int i = 0; i < n; i++) cand_ms[i] = best_ms[i] = INFINITY;
    int paired = s->have_best;
    const char *fail_why = NULL;
    int rc = apply_cand(dev, ks, all_direct, k, &c);
    if (rc != 0) {
      snprintf(why, sizeof why, "CLBlastOverrideParameters returned %d", rc);
      fail_why = why;
    }
    if (!fail_why) fail_why = verify(dev, sd, n, why, sizeof why);
    if (!fail_why) fail_why = set_counts(dev, sd, n, cfg.reps, counts, why, sizeof why);
    if (!fail_why && paired) {
      /* The best set's program may need a build if the other kind's anchor came later. */
      double scratch[CLGAN_TUNE_MAX_SHAPES];
      int ones[CLGAN_TUNE_MAX_SHAPES];
      for (int i = 0; i < n; i++) ones[i] = 1, scratch[i] = INFINITY;
      if (apply_cand(dev, ks, all_direct, k, &s->best) != 0 ||
          time_pass(dev, sd, n, ones, scratch, why, sizeof why) != NULL)
        paired = 0; /* the best set stopped working: the candidate stands alone */
    }
    for (int t = 0; t < TRIALS && !fail_why; t++) {
      if (paired && apply_cand(dev, ks, all_direct, k, &c) != 0) paired = 0;
      fail_why = time_pass(dev, sd, n, counts, cand_ms, why, sizeof why);
      if (!fail_why && paired &&
          (apply_cand(dev, ks, all_direct, k, &s->best) != 0 ||
           time_pass(dev, sd, n, counts, best_ms, why, sizeof why) != NULL))
        paired = 0;
    }
    double elapsed = now_s() - t_start;
    last = k;
    last_rejected = fail_why != NULL;
    if (fail_why) {
      res->rejected++;
      say(&cfg, "[%5.0fs] %-11s #%-3d rejected: %s  (%s)", elapsed, s->kernel, res->tried,
          fail_why, params);
      continue;
    }
    if (!s->have_anchor) {
      s->anchor = c;
      s->have_anchor = 1;
    }
    double total = step_ms(sd, cand_ms, n);
    if (paired) {
      s->best_ms = step_ms(sd, best_ms, n); /* fresh, next to the candidate's */
      memcpy(s->best_shape_ms, best_ms, sizeof best_ms);
    }
    /* A new best must win by 2%: below that, timings on a shared machine do not tell. */
    int better = !s->have_best || total < 0.98 * s->best_ms;
    if (better) {
      s->best = c;
      s->best_ms = total;
      s->have_best = 1;
      memcpy(s->best_shape_ms, cand_ms, sizeof cand_ms);
      if (cfg.journal) {
        to_entry(s, &c, set_flops / (total * 1e6), &entry);
        cfg.journal("best", &entry, cfg.user);
      }
    }
    char vs[64] = "";
    if (paired)
      snprintf(vs, sizeof vs, " (best so far, timed alongside: %.1f)",
               set_flops / (step_ms(sd, best_ms, n) * 1e6));
    say(&cfg, "[%5.0fs] %-11s #%-3d %6.1f GFLOPS%s%s  %s", elapsed, s->kernel, res->tried,
        set_flops / (total * 1e6), vs, better ? " *new best*" : "", params);
  }

  if (!ks[K_DIRECT].have_best && !ks[K_XGEMM].have_best) {
    clgan_error("%s: tuning found no parameters that CLBlast accepts and that compute the right "
                "result on %s; CLBlast's table for this device now holds the last candidate, so "
                "reopen the device in a new process",
                clgan_status_message(CLGAN_CLBLAST_ERROR), dev->info.name);
    st = CLGAN_CLBLAST_ERROR;
    goto fail;
  }

  /* The cross-over: both bests timed in turns, shape by shape. With only direct sets measured,
   * GEMMs larger than the set still go indirect, as CLBlast intends for large sizes: the set
   * says nothing about them. */
  size_t size = ks[K_DIRECT].have_best ? all_direct : ALL_INDIRECT;
  if (ks[K_DIRECT].have_best && ks[K_XGEMM].have_best) {
    double dms[CLGAN_TUNE_MAX_SHAPES], ims[CLGAN_TUNE_MAX_SHAPES], predicted = 0.0;
    int counts[CLGAN_TUNE_MAX_SHAPES] = {0};
    const char *fail_why = NULL;
    say(&cfg, "timing both bests in turns for the direct/indirect cross-over");
    for (int i = 0; i < n; i++) dms[i] = ims[i] = INFINITY;
    if (apply_cand(dev, ks, all_direct, K_XGEMM, &ks[K_XGEMM].best) != 0 ||
        set_counts(dev, sd, n, cfg.reps, counts, why, sizeof why) != NULL)
      fail_why = why;
    for (int t = 0; t < TRIALS && !fail_why; t++) {
      if (apply_cand(dev, ks, all_direct, K_DIRECT, &ks[K_DIRECT].best) != 0 ||
          time_pass(dev, sd, n, counts, dms, why, sizeof why) != NULL ||
          apply_cand(dev, ks, all_direct, K_XGEMM, &ks[K_XGEMM].best) != 0 ||
          time_pass(dev, sd, n, counts, ims, why, sizeof why) != NULL)
        fail_why = why;
    }
    if (fail_why) {
      clgan_error("%s: timing the best sets again failed: %s",
                  clgan_status_message(CLGAN_CLBLAST_ERROR), fail_why);
      st = CLGAN_CLBLAST_ERROR;
      goto fail;
    }
    size = pick_crossover(sd, n, dms, ims, &predicted);
    for (int i = 0; i < n; i++)
      say(&cfg, "%4zu x %4zu x %4zu: direct %.3f ms, indirect %.3f ms", sd[i].s.m, sd[i].s.n,
          sd[i].s.k, dms[i], ims[i]);
    say(&cfg, "cross-over: direct while m*n*k < %zu^3; predicted pass %.2f ms", size, predicted);
    ks[K_DIRECT].best_ms = step_ms(sd, dms, n);
    ks[K_XGEMM].best_ms = step_ms(sd, ims, n);
  }

  /* The winners, applied together (one more build) and checked once more. */
  if (ks[K_DIRECT].have_best) {
    res->direct_ms = ks[K_DIRECT].best_ms;
    to_entry(&ks[K_DIRECT], &ks[K_DIRECT].best, set_flops / (res->direct_ms * 1e6),
             &res->entries[res->count++]);
  }
  if (ks[K_XGEMM].have_best) {
    res->indirect_ms = ks[K_XGEMM].best_ms;
    to_entry(&ks[K_XGEMM], &ks[K_XGEMM].best, set_flops / (res->indirect_ms * 1e6),
             &res->entries[res->count++]);
  }
  clgan_tuning *e = &res->entries[res->count++];
  memset(e, 0, sizeof *e);
  snprintf(e->kernel, sizeof e->kernel, "GemmRoutine");
  snprintf(e->names[0], sizeof e->names[0], "XGEMM_MIN_INDIRECT_SIZE");
  e->values[0] = size;
  e->count = 1;
  st = clgan_tuning_apply(dev, res->entries, res->count);
  if (st != CLGAN_OK) goto fail;

  say(&cfg, "checking and timing the winners together");
  if (measure(dev, sd, n, cfg.reps, ms, why, sizeof why) != NULL) {
    clgan_error("%s: the tuned parameters fail when applied together: %s",
                clgan_status_message(CLGAN_CLBLAST_ERROR), why);
    st = CLGAN_CLBLAST_ERROR;
    goto fail;
  }
  res->after_ms = step_ms(sd, ms, n);
  for (int i = 0; i < n; i++) res->shapes[i].after_gflops = sd[i].flops / (ms[i] * 1e6);
  e->gflops = set_flops / (res->after_ms * 1e6);
  res->elapsed_s = now_s() - t_start;

fail:
  for (int k = 0; k < NKINDS; k++) free(ks[k].tried);
  free_shapes(sd, n);
  return st;
}
