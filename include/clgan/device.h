/* The device layer: OpenCL platforms and devices, selection, buffers, run-time kernels,
 * one launch function, profiling, and GEMM through CLBlast with per-device tuning.
 * Nothing above src/device/ includes CL/cl.h or clblast_c.h; it speaks in these types. */
#ifndef CLGAN_DEVICE_H
#define CLGAN_DEVICE_H

#include <stddef.h>

#include "clgan/status.h"

/* ---- Enumeration and selection ---------------------------------------------------------- */

/* The device types: X(ENUM, "name"); the names are what `clgan devices` prints and the type
 * words a selector takes. The values are bit flags, one per row in the table's order. */
#define CLGAN_DEVICE_TYPE_TABLE(X)                                                         \
  X(CPU, "cpu")                                                                            \
  X(GPU, "gpu")                                                                            \
  X(ACCELERATOR, "accelerator")                                                            \
  X(OTHER, "other")

enum {
#define CLGAN_X_ENUM(e, name) CLGAN_DEVICE_BIT_##e,
  CLGAN_DEVICE_TYPE_TABLE(CLGAN_X_ENUM)
#undef CLGAN_X_ENUM
  CLGAN_DEVICE_TYPE_COUNT
};
typedef enum {
#define CLGAN_X_ENUM(e, name) CLGAN_DEVICE_##e = 1 << CLGAN_DEVICE_BIT_##e,
  CLGAN_DEVICE_TYPE_TABLE(CLGAN_X_ENUM)
#undef CLGAN_X_ENUM
} clgan_device_type;

typedef struct {
  int index;              /* flat index over all platforms, stable for a given machine */
  int platform, device;   /* the P:D pair */
  clgan_device_type type;
  char platform_name[128];
  char platform_version[128];
  char name[256];
  char vendor[128];
  char version[128];      /* OpenCL version the device reports */
  char driver[128];
  char c_version[128];    /* OpenCL C version */
  unsigned compute_units;
  unsigned long long global_mem;  /* bytes */
  unsigned long long max_alloc;   /* bytes, largest single buffer */
  unsigned long long local_mem;   /* bytes */
  size_t max_work_group;
  int fp64, fp16;
  /* The architecture where the driver answers a vendor query: NVIDIA's compute capability
   * ("sm_90"), AMD's graphics IP ("gfxip-10.3"), Intel's IP version ("ip-12.55.8"); else "". */
  char arch[64];
} clgan_device_info;

/* What the device layer was built against, for `clgan --version` and bug reports: the OpenCL
 * version it targets (CL_TARGET_OPENCL_VERSION: 120 is OpenCL 1.2), the newest OpenCL version
 * the installed headers define ("3.0"), and CLBlast's version from clblast_c.h ("1.5.3").
 * The strings are static. */
typedef struct {
  int cl_target;          /* e.g. 120 */
  const char *cl_headers; /* e.g. "3.0" */
  const char *clblast;    /* e.g. "1.5.3" */
} clgan_build_info;
void clgan_build_info_get(clgan_build_info *info);

/* "gpu" for CLGAN_DEVICE_GPU; "other" for a value outside the table. */
const char *clgan_device_type_name(clgan_device_type t);

/* Lists every device of every platform. *list is malloc'd; free it with free().
 * No platform at all is CLGAN_NO_PLATFORM with *count = 0. */
clgan_status clgan_devices_list(clgan_device_info **list, int *count);

/* A device selector: a flat index ("1"), a platform:device pair ("0:1"), a type (a name of
 * CLGAN_DEVICE_TYPE_TABLE, any case, or "acc"), or a case-insensitive substring of the platform or device name ("pocl").
 * NULL or "" means the default: the first GPU, else the first device. Parsing needs no device. */
typedef enum {
  CLGAN_SEL_DEFAULT,
  CLGAN_SEL_INDEX,
  CLGAN_SEL_PAIR,
  CLGAN_SEL_TYPE,
  CLGAN_SEL_NAME
} clgan_selector_kind;

typedef struct {
  clgan_selector_kind kind;
  int index, platform, device;
  clgan_device_type type;
  char text[128];
} clgan_selector;

/* Parses a --device selector (an index "1", a pair "0:1", a type word, or part of a name;
 * NULL or "" is the default). CLGAN_INVALID_ARGUMENT for a malformed one. */
clgan_status clgan_selector_parse(const char *text, clgan_selector *sel);
/* Index into list of the first device the selector matches, or -1. */
int clgan_selector_match(const clgan_selector *sel, const clgan_device_info *list, int count);

/* ---- An open device ------------------------------------------------------------------------ */

typedef struct clgan_device clgan_device;

/* Which code computes clgan_gemm's products. AUTO: PACKED on CPU devices, CLBLAST elsewhere. */
typedef enum {
  CLGAN_GEMM_AUTO = 0,
  CLGAN_GEMM_CLBLAST, /* CLBlastSgemm, with the tuning below */
  CLGAN_GEMM_PACKED,  /* clgan's packed kernels (cl/gemm.cl): a BLAS-style micro-kernel for CPUs */
  CLGAN_GEMM_INVALID  /* $CLGAN_GEMM named none of these: clgan_device_open refuses it */
} clgan_gemm_kind;

typedef struct {
  const char *selector;   /* see clgan_selector_parse; NULL = default */
  const char *kernel_dir; /* load the cl/ kernel files from here instead of the embedded copies; NULL = embedded */
  int profile;            /* record a profiling event per launch (clgan_profile_collect) */
  int no_tuning;          /* do not apply stored CLBlast tuning parameters */
  int splitk;             /* split small-C, long-k GEMMs along k (clgan_gemm); 0 = off */
  /* The tuning class whose built-in sets apply (clgan_tuning_class), in place of the device's
   * own: to borrow a kin's sets, or "none" for none. NULL = the device's own. */
  const char *tuning_class;
  const char *tuning_file; /* the tuning cache; NULL = clgan_tuning_default_path */
  clgan_gemm_kind gemm;    /* who computes GEMMs; AUTO = by device type */
  int gemm_mr;             /* the packed kernels' tile height, 6 or 12; 0 = by the device
                              ($CLGAN_GEMM_MR); anything else: clgan_device_open refuses */
  int gemm_pack_all;       /* the packed path packs plain operands too, rather than reading
                              them in place ($CLGAN_GEMM_PACK_ALL; for tests and A/B) */
  int vec_width;           /* elements per work-item of the elementwise kernels, 1 or 16; 0 =
                              by the device, clgan_vec_width ($CLGAN_VEC_WIDTH); anything
                              else: clgan_device_open refuses */
} clgan_device_cfg;

/* Fills selector from $CLGAN_DEVICE, kernel_dir from $CLGAN_KERNEL_DIR and tuning_class from
 * $CLGAN_TUNING_CLASS where they are unset, sets no_tuning when $CLGAN_NO_TUNING is set and not
 * "0", splitk when $CLGAN_SPLITK is, and gemm from $CLGAN_GEMM ("auto", "clblast", "packed";
 * anything else is CLGAN_GEMM_INVALID) where it is AUTO: the one place the library reads the
 * environment (with clgan_tuning_default_path's $CLGAN_TUNING_FILE). */
void clgan_device_cfg_from_env(clgan_device_cfg *cfg);

/* Opens the selected device: context, in-order queue, CLBlast tuning applied.
 * A selector that matches nothing is CLGAN_NO_DEVICE, reported with the list of devices. */
clgan_status clgan_device_open(clgan_device **dev, const clgan_device_cfg *cfg);
void clgan_device_close(clgan_device *dev); /* accepts NULL */
const clgan_device_info *clgan_device_get_info(const clgan_device *dev);

/* Blocks until every enqueued command has finished. Not for use inside a training step. */
clgan_status clgan_device_finish(clgan_device *dev);
clgan_status clgan_device_flush(clgan_device *dev);

/* A point in the queue: everything enqueued before it. Used to keep a bounded amount of work
 * in flight (the trainer waits for the marker of the step before last, not for an empty queue:
 * PoCL slowed down by 1.8x with hundreds of steps queued on a 2-core machine). */
typedef void *clgan_marker;
clgan_status clgan_marker_enqueue(clgan_device *dev, clgan_marker *marker);
/* Waits until the marker is reached, then releases it. */
clgan_status clgan_marker_wait(clgan_marker marker);
void clgan_marker_release(clgan_marker marker); /* accepts NULL */
/* Waits until the marker is reached and keeps it (the caller still releases it); safe from
 * another host thread than the one that enqueues. */
clgan_status clgan_marker_sync(clgan_marker marker);
/* Commands enqueued on the main queue after this call start once marker (from either queue) is
 * reached; the host does not wait. The marker stays the caller's. */
clgan_status clgan_queue_wait(clgan_device *dev, clgan_marker marker);

/* ---- Buffers ------------------------------------------------------------------------------- */

typedef struct {
  void *mem;    /* cl_mem */
  size_t bytes;
} clgan_buffer;

/* A device buffer of bytes bytes (contents undefined), freed by clgan_buffer_free.
 * CLGAN_DEVICE_OUT_OF_MEMORY when the device cannot hold it. */
clgan_status clgan_buffer_alloc(clgan_device *dev, clgan_buffer *buf, size_t bytes);
/* A view of [offset, offset + bytes) of parent that kernels see as a buffer of its own.
 * offset must be a multiple of clgan_device_align(dev). Free it before its parent. */
clgan_status clgan_buffer_view(clgan_device *dev, const clgan_buffer *parent, size_t offset,
                               size_t bytes, clgan_buffer *view);
void clgan_buffer_free(clgan_buffer *buf); /* accepts a zeroed or freed buffer */
/* The byte alignment that clgan_buffer_view offsets must have on dev. */
size_t clgan_device_align(const clgan_device *dev);
/* Blocking transfers. */
clgan_status clgan_buffer_write(clgan_device *dev, clgan_buffer *buf, size_t offset, size_t bytes,
                                const void *src);
clgan_status clgan_buffer_read(clgan_device *dev, const clgan_buffer *buf, size_t offset,
                               size_t bytes, void *dst);
/* Non-blocking write: src must stay valid until the next clgan_device_finish. */
clgan_status clgan_buffer_write_async(clgan_device *dev, clgan_buffer *buf, size_t offset,
                                      size_t bytes, const void *src);
/* Non-blocking write on the device's upload queue (a second queue, made on first use), so the
 * transfer overlaps the main queue's kernels: it starts once `after` is reached (a marker, or
 * NULL), and *done is reached when the bytes are on the device (the caller releases it; order
 * the main queue after it with clgan_queue_wait). src must stay unchanged until *done. */
clgan_status clgan_buffer_upload(clgan_device *dev, clgan_buffer *buf, size_t offset,
                                 size_t bytes, const void *src, clgan_marker after,
                                 clgan_marker *done);
clgan_status clgan_buffer_zero(clgan_device *dev, clgan_buffer *buf);
/* Enqueues a device-side copy of bytes from src at src_off to dst at dst_off. */
clgan_status clgan_buffer_copy(clgan_device *dev, clgan_buffer *dst, size_t dst_off,
                               const clgan_buffer *src, size_t src_off, size_t bytes);

/* ---- Kernels ------------------------------------------------------------------------------- */

typedef struct clgan_kernel clgan_kernel;

/* The kernel `name` from cl/<file>, building the file for this device on first use. A build
 * failure is CLGAN_BUILD_FAILED, reported with the file name and the device's build log.
 * Handles stay valid until clgan_device_close. Every program starts with
 * `#pragma OPENCL FP_CONTRACT OFF` (each a*b+c rounds twice, as the C references round) and
 * build-log line numbers are the file's own. */
clgan_status clgan_kernel_get(clgan_device *dev, const char *file, const char *name,
                              clgan_kernel **kernel);
/* The same with `prefix`, OpenCL C text that the file is built after (NULL: none). It is how a
 * layer above gives its kernels a preamble generated from its own tables (ops:
 * clgan_kernel_preamble) while the device layer knows nothing of what it says. A program is
 * cached by file and prefix pointer, so prefix must stay valid until clgan_device_close (a
 * string constant). */
clgan_status clgan_kernel_get_prefixed(clgan_device *dev, const char *prefix, const char *file,
                                       const char *name, clgan_kernel **kernel);

typedef enum { CLGAN_ARG_BUF, CLGAN_ARG_INT, CLGAN_ARG_UINT, CLGAN_ARG_FLOAT, CLGAN_ARG_LOCAL } clgan_arg_kind;

typedef struct {
  clgan_arg_kind kind;
  union {
    const clgan_buffer *buf;
    int i;
    unsigned u;
    float f;
    size_t local_bytes;
  } v;
} clgan_arg;

#define CLGAN_BUF(b) ((clgan_arg){.kind = CLGAN_ARG_BUF, .v.buf = (b)})
#define CLGAN_INT(x) ((clgan_arg){.kind = CLGAN_ARG_INT, .v.i = (int)(x)})
#define CLGAN_UINT(x) ((clgan_arg){.kind = CLGAN_ARG_UINT, .v.u = (unsigned)(x)})
#define CLGAN_FLOAT(x) ((clgan_arg){.kind = CLGAN_ARG_FLOAT, .v.f = (float)(x)})
#define CLGAN_LOCAL(n) ((clgan_arg){.kind = CLGAN_ARG_LOCAL, .v.local_bytes = (size_t)(n)})

/* global is rounded up to a multiple of local, so kernels guard their index. local[i] == 0
 * picks a default (64 for 1-D, 8x8 for 2-D, clamped to the device). */
typedef struct {
  int dims;
  size_t global[3];
  size_t local[3];
} clgan_range;

#define CLGAN_RANGE_1D(n) ((clgan_range){.dims = 1, .global = {(size_t)(n), 1, 1}})
#define CLGAN_RANGE_2D(x, y) ((clgan_range){.dims = 2, .global = {(size_t)(x), (size_t)(y), 1}})

/* Every kernel launch in clgan goes through here: arguments, enqueue, error report, profiling. */
clgan_status clgan_launch(clgan_device *dev, clgan_kernel *kernel, clgan_range range, int nargs,
                          const clgan_arg *args);
#define CLGAN_LAUNCH(dev, kernel, range, ...)                                                 \
  clgan_launch((dev), (kernel), (range), (int)(sizeof((clgan_arg[]){__VA_ARGS__}) /           \
                                               sizeof(clgan_arg)),                              \
               (clgan_arg[]){__VA_ARGS__})

/* ---- Profiling ----------------------------------------------------------------------------- */

typedef struct {
  char name[64];
  long calls;
  double ms;   /* summed device execution time */
} clgan_profile_entry;

/* Waits for the recorded events, sums them per kernel name (GEMMs as "gemm"), sorted by time,
 * and clears the record. *entries is malloc'd. Without cfg.profile it returns zero entries. */
clgan_status clgan_profile_collect(clgan_device *dev, clgan_profile_entry **entries, int *count);

/* ---- GEMM ---------------------------------------------------------------------------------- */

/* Row-major C = alpha * op(A) * op(B) + beta * C, with op(A) of shape (m, k) and op(B) (k, n).
 * Offsets and leading dimensions are in floats. On a CPU device clgan's packed kernels compute it
 * (cfg.gemm), elsewhere CLBlastSgemm. With cfg.splitk, a product
 * with a small C and a long k (a weight gradient over a whole batch of images) is split along k:
 * CLBlastSgemmStridedBatched into S partial products, summed in a fixed order by a clgan kernel
 * (deterministic), since one small C gives CLBlast too few work-groups to fill a device. Off by
 * default: neutral on PoCL (bench/RESULTS.md), not yet measured on a GPU. */
typedef struct {
  int trans_a, trans_b;
  size_t m, n, k;
  float alpha, beta;
  const clgan_buffer *a;
  size_t a_off, lda;
  const clgan_buffer *b;
  size_t b_off, ldb;
  clgan_buffer *c;
  size_t c_off, ldc;
} clgan_gemm_args;

/* The GEMM code cfg->gemm (NULL: AUTO) picks for a device: CLBLAST or PACKED, never AUTO;
 * INVALID stays INVALID. The name of a kind: "auto", "clblast", "packed", "invalid". */
clgan_gemm_kind clgan_gemm_choose(const clgan_device_info *info, const clgan_device_cfg *cfg);
const char *clgan_gemm_kind_name(clgan_gemm_kind kind);
/* The GEMM code an open device uses. */
clgan_gemm_kind clgan_device_gemm(const clgan_device *dev);
/* The packed kernels' tile height on the device info describes under cfg (may be NULL):
 * cfg->gemm_mr when it is 6 or 12, else 12 where PoCL names AVX-512 in the device (32 vector
 * registers), else 6 (MR float16 accumulators must fit the registers). */
int clgan_gemm_packed_rows(const clgan_device_info *info, const clgan_device_cfg *cfg);
/* How many consecutive elements one work-item of an elementwise kernel (optimizer steps,
 * activations, fills; CLGAN_VEC in every program, src/device/program.c) takes on the device info describes
 * under cfg (may be NULL): cfg->vec_width when it is 1 or 16, else 16 on CPU devices, where a
 * work-item's float16 is one AVX-512 register (or two AVX ones) and PoCL's loop over single-float
 * work-items ran 2-3x slower (bench/RESULTS.md), and 1 elsewhere, where neighbouring work-items
 * reading neighbouring floats is what a GPU's memory wants. On an open device: what it uses. */
int clgan_vec_width(const clgan_device_info *info, const clgan_device_cfg *cfg);
int clgan_device_vec_width(const clgan_device *dev);
/* A line saying which GEMM code runs ("clgan's packed kernels (CPU micro-kernel, 12 x 32
 * tiles)", "CLBlast"): on the device info describes under cfg (listings), or on an open one
 * (banners). */
void clgan_gemm_describe(const clgan_device_info *info, const clgan_device_cfg *cfg, char *out,
                         size_t size);
void clgan_device_gemm_describe(const clgan_device *dev, char *out, size_t size);
/* The bytes the packed path holds for its panels (0 until it has run): for tests and reports. */
size_t clgan_gemm_packed_bytes(const clgan_device *dev);

/* C = alpha op(A) op(B) + beta C as g describes it, through the device's GEMM code
 * (clgan_device_gemm): CLBlast, or clgan's packed kernels; enqueues only.
 * CLGAN_INVALID_ARGUMENT for sizes that do not fit the buffers, CLGAN_CLBLAST_ERROR. */
clgan_status clgan_gemm(clgan_device *dev, const clgan_gemm_args *g);

/* Operand layouts the packed path reads and writes in place (clgan_gemm_ex), so that the
 * convolutions multiply their tensors without permuted or unfolded copies:
 * - column blocks: an operand as stored is row-major with leading dimension ld inside each
 *   block of blk columns, and block b starts b * bstride floats after the offset (blk 0: plain
 *   row-major). A window-side tensor (N, O, P) is the (O, N*P) matrix with ld P, blk P and
 *   bstride O*P.
 * - im2col: B as stored is col() of the image (N, C, H, W) at b_off of g->b, a
 *   (C*KH*KW) x (N*HO*WO) matrix, each entry read from the image (0 in the padding).
 * - bias: bias[i] is added to row i of C after alpha and beta (bias_columns: bias[j] to
 *   column j, a dense layer's bias). */
typedef struct {
  int blk;        /* columns per block; 0 = plain row-major */
  size_t bstride; /* floats from one block's start to the next */
} clgan_gemm_blocks;

typedef struct {
  int n, c, h, w, kh, kw, stride, pad, ho, wo;
} clgan_gemm_im2col;

typedef struct {
  clgan_gemm_blocks a, b, c;
  const clgan_gemm_im2col *b_im2col; /* NULL: B is a matrix (with b's blocks) */
  const clgan_buffer *bias;          /* NULL: none */
  int bias_columns;                  /* bias[j] on column j instead of bias[i] on row i */
} clgan_gemm_layout;

/* clgan_gemm with the layouts above (NULL: plain). Only the packed path has them:
 * CLGAN_INVALID_ARGUMENT on a device whose GEMMs go to CLBlast (clgan_device_gemm), or for
 * operands that do not fit their buffers. */
clgan_status clgan_gemm_ex(clgan_device *dev, const clgan_gemm_args *g,
                           const clgan_gemm_layout *layout);

/* The plain C reference for clgan_gemm on host arrays (double accumulation), with the same
 * meaning of every field; a, b and c are the host arrays the buffers would hold. */
void clgan_gemm_reference(const clgan_gemm_args *g, const float *a, const float *b, float *c);

/* What "matches the reference" means for a float32 GEMM of depth k: |c - ref| <= atol + rtol
 * |ref| per element, atol = 1e-4 + 2e-6 k (float32 accumulation error grows with k), rtol = 1e-4.
 * The test, clgan gemm-check and clgan tune all judge by it. */
void clgan_gemm_tolerance(size_t k, double *atol, double *rtol);
/* The largest |c[i] - ref[i]| / (atol + rtol |ref[i]|) over count elements (at most 1: the
 * result matches; NaN counts as a mismatch); *worst (may be NULL) gets that element's index. */
double clgan_gemm_error_ratio(size_t k, const float *c, const float *ref, size_t count,
                              size_t *worst);

/* ---- CLBlast tuning ------------------------------------------------------------------------ */

#define CLGAN_TUNE_MAX_PARAMS 20

/* One set of parameters for one CLBlast kernel ("Xgemm", "XgemmDirect", "GemmRoutine"). */
typedef struct {
  char kernel[32];
  int count;
  char names[CLGAN_TUNE_MAX_PARAMS][32]; /* "XGEMM_MIN_INDIRECT_SIZE" needs 24 */
  size_t values[CLGAN_TUNE_MAX_PARAMS];
  double gflops; /* what the tuner measured, for the record; 0 if unknown */
} clgan_tuning;

/* Two keys find a device's tuning. The cache (clgan tune's results) is keyed by the exact
 * device: name, driver version and platform name. The sets shipped with clgan are keyed by what
 * decides a GEMM kernel's speed, the device's tuning class: for a CPU through PoCL the LLVM
 * target PoCL compiles for, from its device name ("pthread-skylake-avx512-AMD EPYC" is
 * "pocl:skylake-avx512", whoever made the CPU); for a GPU its vendor and architecture
 * ("nvidia:sm_90", "amd:gfx90a", "intel:ip-12.55.8"), else its vendor and name. A cache entry
 * for the device wins over the shipped sets of its class. */
void clgan_device_tuning_key(const clgan_device *dev, char *key, size_t size);
void clgan_tuning_device_key(const clgan_device_info *info, char *key, size_t size);
void clgan_tuning_class(const clgan_device_info *info, char *cls, size_t size);
/* $CLGAN_TUNING_FILE, else $XDG_CACHE_HOME/clgan/tuning.txt, else ~/.cache/clgan/tuning.txt. */
void clgan_tuning_default_path(char *path, size_t size);

/* Reads the entries stored for key. A missing file yields zero entries; a corrupt line is
 * skipped with a warning naming file and line, never a failure. */
clgan_status clgan_tuning_load(const char *path, const char *key, clgan_tuning *entries, int max,
                               int *count);
/* Replaces the entries for key (keeping other devices' lines), atomically. */
clgan_status clgan_tuning_store(const char *path, const char *key, const clgan_tuning *entries,
                                int count);
/* The sets shipped with clgan for dev's tuning class (or its cfg.tuning_class); zero if none. */
int clgan_tuning_builtin(const clgan_device *dev, clgan_tuning *entries, int max);
/* The sets shipped for a tuning class; a class ending in ':' ("pocl:") names a family and gets
 * the sets of every class in it. */
int clgan_tuning_builtin_for(const char *cls, clgan_tuning *entries, int max);
/* 1 if e is a set CLBlast can use on a device with info's limits: every parameter of its kernel
 * (Xgemm, XgemmDirect, GemmRoutine) once, and the constraints of CLBlast's tuners (sizes > 0,
 * vector widths 1-16 in powers of 2, the multiples between MWG, NWG, KWG, MDIMC, NDIMC, MDIMA,
 * NDIMB, KWI, VWM, VWN, and between WGD, MDIMCD, NDIMCD, MDIMAD, NDIMBD, KWID, VWMD, VWND,
 * work-group size and local memory). Otherwise 0, and why (may be NULL) says which rule. */
int clgan_tuning_valid(const clgan_device_info *info, const clgan_tuning *e, char *why,
                       size_t why_size);
/* Hands the valid sets to CLBlastOverrideParameters for this device; an invalid one is skipped
 * with a warning (CLGAN_INVALID_ARGUMENT returned, the others still applied). */
clgan_status clgan_tuning_apply(clgan_device *dev, const clgan_tuning *entries, int count);
/* What clgan_device_open does: the shipped sets of the device's tuning class, then the cache
 * file's sets for this exact device (cfg.tuning_file, else clgan_tuning_default_path), and
 * records which applied (clgan_device_tuning_status). Cached sets are validated, and checked on the device the first
 * time a process applies them (GEMMs against clgan_gemm_reference within
 * clgan_gemm_tolerance); a set that fails is dropped with one warning naming the file and the
 * device key. Returns an error only when GEMMs fail without the cached sets too. */
clgan_status clgan_tuning_apply_stored(clgan_device *dev);
/* Every set in the table shipped with clgan, whatever the device (for its tests). */
int clgan_tuning_builtin_all(clgan_tuning *entries, int max);

/* Where a device's CLBlast parameters come from: X(ENUM, "name"). */
#define CLGAN_TUNING_SOURCE_TABLE(X)                                                        \
  X(NONE, "none")         /* nothing for this device: CLBlast's defaults */                 \
  X(BUILTIN, "built-in")  /* the sets clgan ships for its tuning class */                   \
  X(CACHED, "cached")     /* the cache file's sets for this exact device (clgan tune) */    \
  X(SAFE, "safe")         /* the cache's sets failed their check and clgan ships none:      \
                             small sets every device runs */                                \
  X(OFF, "off")           /* cfg.no_tuning ($CLGAN_NO_TUNING): CLBlast's defaults */

typedef enum {
#define CLGAN_X_ENUM(e, name) CLGAN_TUNING_##e,
  CLGAN_TUNING_SOURCE_TABLE(CLGAN_X_ENUM)
#undef CLGAN_X_ENUM
} clgan_tuning_source;

/* The table's name of s; never NULL. */
const char *clgan_tuning_source_name(clgan_tuning_source s);

typedef struct {
  clgan_tuning_source source;
  char cls[128];     /* the class whose shipped sets were looked for (cfg.tuning_class or own) */
  int builtin;       /* clgan ships sets for cls */
  char path[1024];   /* the cache file looked in */
  /* CLBlast's defaults are known to be slow on this kind of device (a CPU through PoCL: its
   * database has nothing for PoCL, and training ran 2.8x slower untuned, issue 11). */
  int slow_defaults;
  /* Who computes the device's GEMMs (clgan_gemm_choose): CLBlast's sets matter only for
   * CLGAN_GEMM_CLBLAST; the packed kernels need none, so slow_defaults is 0 for them. */
  clgan_gemm_kind gemm;
} clgan_tuning_status;

/* What clgan_device_open applied to dev. */
void clgan_device_tuning_status(const clgan_device *dev, clgan_tuning_status *status);
/* What clgan_device_open would apply to the device info describes, under cfg (may be NULL),
 * without opening it: for listings and `clgan tune --if-untuned`. Cached sets count when they
 * pass clgan_tuning_valid; the check on the device happens only at open. */
void clgan_tuning_lookup(const clgan_device_info *info, const clgan_device_cfg *cfg,
                         clgan_tuning_status *status);
/* 1 when a device so described has no tuning and CLBlast's defaults are known slow on it:
 * the case for tuning it once (`clgan tune`). */
int clgan_tuning_wanted(const clgan_tuning_status *status);
/* One phrase for a listing or a banner: "built-in for pocl:skylake-avx512", "cached in FILE",
 * "none: CLBlast's defaults", "off ($CLGAN_NO_TUNING): CLBlast's defaults", ... */
void clgan_tuning_describe(const clgan_tuning_status *status, char *out, size_t size);

/* ---- GEMM shapes, and what the tuning search (src/tune/, clgan/tune.h) needs ------------- */

/* One GEMM the tuner times, with clgan_gemm_args' meaning (row-major, op(A) is m x k). count:
 * how many times a training step runs it, its weight in the search's objective (0 counts as 1). */
typedef struct {
  size_t m, n, k;
  int trans_a, trans_b;
  int count;
} clgan_tune_shape;

#define CLGAN_TUNE_MAX_SHAPES 32

/* Records the distinct shapes clgan_gemm is called with from now on, with their call counts,
 * into shapes (room for max; calls of further shapes are counted in *dropped). max = 0 stops
 * recording. *count and *dropped are updated as calls come. */
void clgan_gemm_record(clgan_device *dev, clgan_tune_shape *shapes, int max, int *count,
                       int *dropped);

/* A tuning search judges parameter sets itself: a failure there rejects a set and is an answer,
 * not an error. So these report nothing and return NULL or why, written into why; they run
 * CLBlastSgemm alone, without clgan_gemm's split-k, scratch buffer, profiling or shape record. */

/* Checks the parameters in effect on one GEMM: fills C with a sentinel (so that elements the
 * kernel never writes show), runs g, reads C into out and compares it with ref by
 * clgan_gemm_error_ratio. C is read whole: m * n floats, so g->c_off = 0 and g->ldc = n. */
const char *clgan_gemm_verify(clgan_device *dev, const clgan_gemm_args *g, const float *ref,
                              float *out, char *why, size_t why_size);
/* Enqueues g count times back to back and waits for them all (the caller times the call). */
const char *clgan_gemm_repeat(clgan_device *dev, const clgan_gemm_args *g, int count, char *why,
                              size_t why_size);
/* Puts one set into CLBlast's table for dev as it is: no clgan_tuning_valid, no warning (the
 * search proposes valid sets only). Returns 0, or CLBlast's status code for the caller's
 * message. CLBlast keeps the set for the process. */
int clgan_tuning_override(clgan_device *dev, const clgan_tuning *e);

#endif
