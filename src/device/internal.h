/* Private to src/device/: the device struct and the checking macros for OpenCL calls. */
#ifndef CLGAN_DEVICE_INTERNAL_H
#define CLGAN_DEVICE_INTERNAL_H

#include <CL/cl.h>

#include "clgan/device.h"

typedef struct {
  char file[64];
  const char *prefix; /* clgan_kernel_get_prefixed's, or NULL */
  cl_program program;
} clgan_program_slot;

struct clgan_kernel {
  char file[64];
  char name[64];
  const char *prefix;
  cl_kernel kernel;
};

typedef struct {
  cl_event event;
  cl_event after; /* NULL, or a marker enqueued just before: the span starts at its end */
  const char *name; /* points into a clgan_kernel or a string literal */
} clgan_profile_record;

struct clgan_device {
  clgan_device_info info;
  cl_platform_id platform;
  cl_device_id id;
  cl_context context;
  cl_command_queue queue;
  cl_command_queue upload; /* clgan_buffer_upload's queue, made on first use, or NULL */
  size_t align; /* sub-buffer offset alignment, bytes */
  char kernel_dir[512];
  int profile;

  clgan_program_slot *programs;
  int nprograms;
  clgan_kernel **kernels;
  int nkernels;

  cl_mem gemm_temp;       /* CLBlast's indirect-GEMM scratch, kept across calls (gemm.c) */
  size_t gemm_temp_bytes;
  clgan_buffer splitk_ws; /* split-k's partial products, kept across calls (gemm.c) */
  int splitk;
  clgan_gemm_kind gemm;   /* CLBLAST or PACKED (clgan_gemm_choose) */
  int gemm_mr;            /* the packed kernels' tile height (GEMM_MR) */
  int gemm_pack_all;      /* pack plain operands too (cfg.gemm_pack_all) */
  int vec_width;          /* CLGAN_VEC of every program (clgan_vec_width) */
  clgan_buffer pack_a, pack_b; /* the packed GEMM's panels, kept across calls (gemm.c) */
  clgan_tuning_status tuning; /* the class and cache file looked in, and what was applied */

  clgan_profile_record *records;
  /* clgan_gemm_record: where the shapes go, or NULL */
  clgan_tune_shape *gemm_log;
  int gemm_log_max, *gemm_log_count, *gemm_log_dropped;
  int nrecords, cap_records;
};

/* The tuning class, built-in flag, cache path and slow_defaults of clgan_tuning_lookup, with
 * source NONE (or OFF under cfg->no_tuning): the cache is not read. */
void clgan_tuning_status_init(const clgan_device_info *info, const clgan_device_cfg *cfg,
                              clgan_tuning_status *status);

const char *clgan_cl_error_name(cl_int err);
clgan_status clgan_status_from_cl(cl_int err);

/* Reports a failed OpenCL call once, with its text, file and line, and yields the status. */
clgan_status clgan_cl_fail(cl_int err, const char *call, const char *file, int line);
/* The same for CLBlast (a CLBlastStatusCode as int, so this header needs no clblast_c.h). */
clgan_status clgan_status_from_clblast(int code);
clgan_status clgan_clblast_fail(int code, const char *call, const char *file, int line);

#define CL_TRY(call)                                                                        \
  do {                                                                                      \
    cl_int cl_try_err_ = (call);                                                            \
    if (cl_try_err_ != CL_SUCCESS) {                                                        \
      st = clgan_cl_fail(cl_try_err_, #call, __FILE__, __LINE__);                           \
      goto fail;                                                                            \
    }                                                                                       \
  } while (0)

/* Records an event for the profile; takes ownership of ev. */
void clgan_profile_record_event(clgan_device *dev, cl_event ev, const char *name);
/* clgan_launch, except that with profiling on the launch's event goes to *out (the caller's to
 * record or release) instead of the profile under the kernel's name; out may be NULL. */
clgan_status clgan_launch_event(clgan_device *dev, clgan_kernel *kernel, clgan_range r, int nargs,
                                const clgan_arg *args, cl_event *out);
/* A span from the end of `after` (a marker enqueued before a library call that runs several
 * kernels but returns one event, as CLBlast does) to the end of ev; after may be NULL. */
void clgan_profile_record_span(clgan_device *dev, cl_event after, cl_event ev, const char *name);

#endif

