/* Open devices: enumeration, context and queue, buffers, the launch function, profiling.
 * Kernel programs live in program.c, GEMM and tuning in gemm.c and tuning.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/internal.h"

static void info_string(cl_device_id d, cl_device_info what, char *out, size_t size) {
  out[0] = '\0';
  if (clGetDeviceInfo(d, what, size, out, NULL) != CL_SUCCESS) snprintf(out, size, "?");
  out[size - 1] = '\0';
}

/* A fixed-size property; zero, with a warning, when the driver does not answer. */
static void info_value(cl_device_id d, cl_device_info what, const char *name, size_t size,
                       void *out) {
  cl_int err = clGetDeviceInfo(d, what, size, out, NULL);
  if (err != CL_SUCCESS) {
    memset(out, 0, size);
    clgan_warn("clGetDeviceInfo(%s) failed (%s): taken as 0", name, clgan_cl_error_name(err));
  }
}

static void platform_string(cl_platform_id p, cl_platform_info what, char *out, size_t size) {
  out[0] = '\0';
  if (clGetPlatformInfo(p, what, size, out, NULL) != CL_SUCCESS) snprintf(out, size, "?");
  out[size - 1] = '\0';
}

/* Vendor queries for the architecture (CL/cl_ext.h has them; the values are fixed by the
 * extensions, so clgan needs no newer header than OpenCL 1.2's). */
#define NV_COMPUTE_CAPABILITY_MAJOR 0x4000 /* cl_nv_device_attribute_query */
#define NV_COMPUTE_CAPABILITY_MINOR 0x4001
#define AMD_GFXIP_MAJOR 0x404A             /* cl_amd_device_attribute_query */
#define AMD_GFXIP_MINOR 0x404B
#define INTEL_IP_VERSION 0x4250            /* cl_intel_device_attribute_query */

/* clgan_device_info.arch, for the tuning class (tuning_builtin.c). Silent where a driver that
 * lists the extension still does not answer: the class falls back to the name. */
static void fill_arch(cl_device_id d, const char *ext, char *arch, size_t size) {
  cl_uint major = 0, minor = 0, ip = 0;
  arch[0] = '\0';
  if (strstr(ext, "cl_nv_device_attribute_query") &&
      clGetDeviceInfo(d, NV_COMPUTE_CAPABILITY_MAJOR, sizeof major, &major, NULL) == CL_SUCCESS &&
      clGetDeviceInfo(d, NV_COMPUTE_CAPABILITY_MINOR, sizeof minor, &minor, NULL) == CL_SUCCESS)
    snprintf(arch, size, "sm_%u%u", major, minor);
  else if (strstr(ext, "cl_amd_device_attribute_query") &&
           clGetDeviceInfo(d, AMD_GFXIP_MAJOR, sizeof major, &major, NULL) == CL_SUCCESS &&
           clGetDeviceInfo(d, AMD_GFXIP_MINOR, sizeof minor, &minor, NULL) == CL_SUCCESS)
    snprintf(arch, size, "gfxip-%u.%u", major, minor);
  else if (strstr(ext, "cl_intel_device_attribute_query") &&
           clGetDeviceInfo(d, INTEL_IP_VERSION, sizeof ip, &ip, NULL) == CL_SUCCESS)
    /* A cl_version: 10 bits major, 10 minor, 12 patch. */
    snprintf(arch, size, "ip-%u.%u.%u", ip >> 22, (ip >> 12) & 0x3FF, ip & 0xFFF);
}

static void fill_info(cl_platform_id p, cl_device_id d, clgan_device_info *info) {
  char ext[8192];
  cl_device_type type = 0;
  cl_uint cu = 0;
  cl_ulong gmem = 0, alloc = 0, lmem = 0;
  cl_device_fp_config fp64 = 0;
  size_t wg = 0;
  platform_string(p, CL_PLATFORM_NAME, info->platform_name, sizeof info->platform_name);
  platform_string(p, CL_PLATFORM_VERSION, info->platform_version, sizeof info->platform_version);
  info_string(d, CL_DEVICE_NAME, info->name, sizeof info->name);
  info_string(d, CL_DEVICE_VENDOR, info->vendor, sizeof info->vendor);
  info_string(d, CL_DEVICE_VERSION, info->version, sizeof info->version);
  info_string(d, CL_DRIVER_VERSION, info->driver, sizeof info->driver);
  info_string(d, CL_DEVICE_OPENCL_C_VERSION, info->c_version, sizeof info->c_version);
  info_string(d, CL_DEVICE_EXTENSIONS, ext, sizeof ext);
  info_value(d, CL_DEVICE_TYPE, "CL_DEVICE_TYPE", sizeof type, &type);
  info_value(d, CL_DEVICE_MAX_COMPUTE_UNITS, "CL_DEVICE_MAX_COMPUTE_UNITS", sizeof cu, &cu);
  info_value(d, CL_DEVICE_GLOBAL_MEM_SIZE, "CL_DEVICE_GLOBAL_MEM_SIZE", sizeof gmem, &gmem);
  info_value(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, "CL_DEVICE_MAX_MEM_ALLOC_SIZE", sizeof alloc,
             &alloc);
  info_value(d, CL_DEVICE_LOCAL_MEM_SIZE, "CL_DEVICE_LOCAL_MEM_SIZE", sizeof lmem, &lmem);
  info_value(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, "CL_DEVICE_MAX_WORK_GROUP_SIZE", sizeof wg, &wg);
  /* Not every OpenCL 1.2 driver answers this one for devices without fp64: no warning. */
  if (clGetDeviceInfo(d, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof fp64, &fp64, NULL) != CL_SUCCESS)
    fp64 = 0;
  info->type = (type & CL_DEVICE_TYPE_GPU)           ? CLGAN_DEVICE_GPU
               : (type & CL_DEVICE_TYPE_CPU)         ? CLGAN_DEVICE_CPU
               : (type & CL_DEVICE_TYPE_ACCELERATOR) ? CLGAN_DEVICE_ACCELERATOR
                                                     : CLGAN_DEVICE_OTHER;
  info->compute_units = cu;
  info->global_mem = gmem;
  info->max_alloc = alloc;
  info->local_mem = lmem;
  info->max_work_group = wg;
  info->fp64 = fp64 != 0 || strstr(ext, "cl_khr_fp64") != NULL;
  info->fp16 = strstr(ext, "cl_khr_fp16") != NULL;
  if (info->type != CLGAN_DEVICE_CPU) fill_arch(d, ext, info->arch, sizeof info->arch);
}

/* Walks every device of every platform in a fixed order; calls fn for each. */
typedef int (*device_visit_fn)(cl_platform_id p, cl_device_id d, int pi, int di, int flat,
                               void *user);

/* The platform and device arrays are sized by what the driver reports, so a machine with many
 * of either is listed whole (they were fixed at 16 and 32, silently truncated: issue 9). A
 * platform that fails to list its devices (CL_DEVICE_NOT_FOUND: it has none) is skipped. */
static clgan_status visit_devices(device_visit_fn fn, void *user) {
  clgan_status st = CLGAN_OK;
  cl_platform_id *platforms = NULL;
  cl_device_id *devices = NULL;
  cl_uint np = 0;
  cl_int err = clGetPlatformIDs(0, NULL, &np);
  if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR: the ICD loader found no driver */ || np == 0)
    return CLGAN_NO_PLATFORM;
  if (err != CL_SUCCESS) return clgan_cl_fail(err, "clGetPlatformIDs", __FILE__, __LINE__);
  platforms = malloc((size_t)np * sizeof *platforms);
  if (!platforms) return CLGAN_HOST_OUT_OF_MEMORY;
  CL_TRY(clGetPlatformIDs(np, platforms, NULL));
  int flat = 0;
  for (cl_uint p = 0; p < np; p++) {
    cl_uint nd = 0;
    if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS || nd == 0)
      continue;
    free(devices);
    devices = malloc((size_t)nd * sizeof *devices);
    if (!devices) {
      st = CLGAN_HOST_OUT_OF_MEMORY;
      goto fail;
    }
    CL_TRY(clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, nd, devices, NULL));
    for (cl_uint d = 0; d < nd; d++, flat++)
      if (fn(platforms[p], devices[d], (int)p, (int)d, flat, user)) goto fail;
  }
fail:
  free(devices);
  free(platforms);
  return st;
}

typedef struct {
  clgan_device_info *list;
  int count, cap;
  int failed;
} list_state;

static int collect(cl_platform_id p, cl_device_id d, int pi, int di, int flat, void *user) {
  list_state *s = user;
  if (s->count == s->cap) {
    int cap = s->cap ? 2 * s->cap : 8;
    clgan_device_info *grown = realloc(s->list, (size_t)cap * sizeof *grown);
    if (!grown) {
      s->failed = 1;
      return 1;
    }
    s->list = grown;
    s->cap = cap;
  }
  clgan_device_info *info = &s->list[s->count++];
  memset(info, 0, sizeof *info);
  info->index = flat;
  info->platform = pi;
  info->device = di;
  fill_info(p, d, info);
  return 0;
}

clgan_status clgan_devices_list(clgan_device_info **list, int *count) {
  list_state s = {0};
  *list = NULL;
  *count = 0;
  clgan_status st = visit_devices(collect, &s);
  if (s.failed) st = CLGAN_HOST_OUT_OF_MEMORY;
  if (st != CLGAN_OK) {
    free(s.list);
    return st;
  }
  *list = s.list;
  *count = s.count;
  return CLGAN_OK;
}

typedef struct {
  int want;
  cl_platform_id platform;
  cl_device_id device;
} find_state;

static int find(cl_platform_id p, cl_device_id d, int pi, int di, int flat, void *user) {
  (void)pi;
  (void)di;
  find_state *s = user;
  if (flat != s->want) return 0;
  s->platform = p;
  s->device = d;
  return 1;
}

void clgan_device_cfg_from_env(clgan_device_cfg *cfg) {
  if (!cfg->selector) cfg->selector = getenv("CLGAN_DEVICE");
  if (!cfg->kernel_dir) {
    const char *dir = getenv("CLGAN_KERNEL_DIR");
    if (dir && *dir) cfg->kernel_dir = dir;
  }
  if (!cfg->tuning_class) {
    const char *cls = getenv("CLGAN_TUNING_CLASS");
    if (cls && *cls) cfg->tuning_class = cls;
  }
  const char *no_tuning = getenv("CLGAN_NO_TUNING");
  if (no_tuning && *no_tuning && strcmp(no_tuning, "0") != 0) cfg->no_tuning = 1;
  const char *splitk = getenv("CLGAN_SPLITK");
  if (splitk && *splitk && strcmp(splitk, "0") != 0) cfg->splitk = 1;
  /* A choice other than those named is -1, which clgan_device_open refuses. */
  const char *mr = getenv("CLGAN_GEMM_MR");
  if (!cfg->gemm_mr && mr && *mr)
    cfg->gemm_mr = !strcmp(mr, "6") ? 6 : !strcmp(mr, "12") ? 12 : -1;
  const char *vec = getenv("CLGAN_VEC_WIDTH");
  if (!cfg->vec_width && vec && *vec)
    cfg->vec_width = !strcmp(vec, "1") ? 1 : !strcmp(vec, "16") ? 16 : -1;
  const char *pack_all = getenv("CLGAN_GEMM_PACK_ALL");
  if (pack_all && *pack_all && strcmp(pack_all, "0") != 0) cfg->gemm_pack_all = 1;
  const char *gemm = getenv("CLGAN_GEMM");
  if (cfg->gemm == CLGAN_GEMM_AUTO && gemm && *gemm) {
    cfg->gemm = CLGAN_GEMM_INVALID;
    for (int k = CLGAN_GEMM_AUTO; k < CLGAN_GEMM_INVALID; k++)
      if (strcmp(gemm, clgan_gemm_kind_name((clgan_gemm_kind)k)) == 0) cfg->gemm = (clgan_gemm_kind)k;
  }
}

/* Whether a cfg choice is 0 (the device's) or one of a and b; otherwise reported, with the
 * environment variable's text. */
static int choice_ok(const char *env, const char *field, int value, int a, int b) {
  if (value == 0 || value == a || value == b) return 1;
  const char *text = getenv(env);
  clgan_error("%s: $%s='%s' (clgan_device_cfg.%s %d): expected %d or %d",
              clgan_status_message(CLGAN_INVALID_ARGUMENT), env, text ? text : "", field, value,
              a, b);
  return 0;
}

static void report_no_match(const char *text, const clgan_device_info *list, int count) {
  char buf[3072];
  size_t used = 0;
  for (int i = 0; i < count && used < sizeof buf - 256; i++)
    used += (size_t)snprintf(buf + used, sizeof buf - used, "\n  %d (%d:%d) %s: %s [%s]",
                             list[i].index, list[i].platform, list[i].device,
                             clgan_device_type_name(list[i].type), list[i].name,
                             list[i].platform_name);
  buf[used] = '\0';
  clgan_error("device selector '%s' matches no OpenCL device. Use a flat index, P:D, a type "
              "(cpu, gpu, accelerator) or part of a name. Devices on this machine:%s",
              text, buf);
}

clgan_status clgan_device_open(clgan_device **out, const clgan_device_cfg *cfg_in) {
  clgan_status st = CLGAN_OK;
  clgan_device_cfg cfg = cfg_in ? *cfg_in : (clgan_device_cfg){0};
  clgan_device_info *list = NULL;
  int count = 0;
  clgan_device *dev = NULL;
  cl_int err = CL_SUCCESS;
  *out = NULL;

  clgan_selector sel;
  if (clgan_selector_parse(cfg.selector, &sel) != CLGAN_OK) {
    clgan_error("'%s' is not a valid selector for a device: use a flat index (0), P:D (0:1), a "
                "type (cpu, gpu, accelerator) or part of a platform or device name (pocl, nvidia)",
                cfg.selector);
    return CLGAN_INVALID_ARGUMENT;
  }
  st = clgan_devices_list(&list, &count);
  if (st == CLGAN_NO_PLATFORM) {
    clgan_error("no OpenCL platform found: install a driver (for the CPU: apt-get install "
                "pocl-opencl-icd) and check /etc/OpenCL/vendors");
    return st;
  }
  if (st != CLGAN_OK) return st;
  if (count == 0) {
    clgan_error("OpenCL platforms are installed but report no device");
    st = CLGAN_NO_DEVICE;
    goto fail;
  }
  int pick = clgan_selector_match(&sel, list, count);
  if (pick < 0) {
    report_no_match(sel.text, list, count);
    st = CLGAN_NO_DEVICE;
    goto fail;
  }

  dev = calloc(1, sizeof *dev);
  if (!dev) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto fail;
  }
  dev->info = list[pick];
  find_state fs = {.want = dev->info.index};
  if ((st = visit_devices(find, &fs))) goto fail;
  if (!fs.device) { /* the device went away between two enumerations */
    clgan_error("OpenCL device %d (%s) is no longer listed by its driver", dev->info.index,
                dev->info.name);
    st = CLGAN_NO_DEVICE;
    goto fail;
  }
  dev->platform = fs.platform;
  dev->id = fs.device;
  dev->profile = cfg.profile;
  dev->splitk = cfg.splitk;
  dev->gemm = clgan_gemm_choose(&dev->info, &cfg);
  dev->gemm_pack_all = cfg.gemm_pack_all;
  if (dev->gemm == CLGAN_GEMM_INVALID) {
    clgan_error("%s: $CLGAN_GEMM='%s': expected auto, clblast or packed",
                clgan_status_message(CLGAN_INVALID_ARGUMENT), getenv("CLGAN_GEMM") ? getenv("CLGAN_GEMM") : "");
    st = CLGAN_INVALID_ARGUMENT;
    goto fail;
  }
  if (!choice_ok("CLGAN_GEMM_MR", "gemm_mr", cfg.gemm_mr, 6, 12) ||
      !choice_ok("CLGAN_VEC_WIDTH", "vec_width", cfg.vec_width, 1, 16)) {
    st = CLGAN_INVALID_ARGUMENT;
    goto fail;
  }
  dev->gemm_mr = clgan_gemm_packed_rows(&dev->info, &cfg);
  dev->vec_width = clgan_vec_width(&dev->info, &cfg);
  if (cfg.kernel_dir) snprintf(dev->kernel_dir, sizeof dev->kernel_dir, "%s", cfg.kernel_dir);

  cl_uint align_bits = 0;
  CL_TRY(clGetDeviceInfo(dev->id, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof align_bits, &align_bits,
                         NULL));
  dev->align = align_bits / 8 < 256 ? 256 : align_bits / 8;

  cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)dev->platform, 0};
  dev->context = clCreateContext(props, 1, &dev->id, NULL, NULL, &err);
  CL_TRY(err);
  dev->queue = clCreateCommandQueue(dev->context, dev->id,
                                    cfg.profile ? CL_QUEUE_PROFILING_ENABLE : 0, &err);
  CL_TRY(err);

  clgan_tuning_status_init(&dev->info, &cfg, &dev->tuning);
  if (!cfg.no_tuning) {
    st = clgan_tuning_apply_stored(dev);
    if (st != CLGAN_OK) goto fail;
  }
  free(list);
  *out = dev;
  return CLGAN_OK;

fail:
  free(list);
  clgan_device_close(dev);
  return st;
}

void clgan_device_close(clgan_device *dev) {
  if (!dev) return;
  if (dev->upload) clFinish(dev->upload);
  if (dev->queue) clFinish(dev->queue);
  for (int i = 0; i < dev->nrecords; i++) {
    clReleaseEvent(dev->records[i].event);
    if (dev->records[i].after) clReleaseEvent(dev->records[i].after);
  }
  if (dev->gemm_temp) clReleaseMemObject(dev->gemm_temp);
  clgan_buffer_free(&dev->splitk_ws);
  clgan_buffer_free(&dev->pack_a);
  clgan_buffer_free(&dev->pack_b);
  free(dev->records);
  for (int i = 0; i < dev->nkernels; i++) {
    clReleaseKernel(dev->kernels[i]->kernel);
    free(dev->kernels[i]);
  }
  free(dev->kernels);
  for (int i = 0; i < dev->nprograms; i++) clReleaseProgram(dev->programs[i].program);
  free(dev->programs);
  if (dev->upload) clReleaseCommandQueue(dev->upload);
  if (dev->queue) clReleaseCommandQueue(dev->queue);
  if (dev->context) clReleaseContext(dev->context);
  free(dev);
}

const clgan_device_info *clgan_device_get_info(const clgan_device *dev) { return &dev->info; }

size_t clgan_device_align(const clgan_device *dev) { return dev->align; }

clgan_status clgan_device_finish(clgan_device *dev) {
  clgan_status st = CLGAN_OK;
  if (dev->upload) CL_TRY(clFinish(dev->upload));
  CL_TRY(clFinish(dev->queue));
fail:
  return st;
}

clgan_status clgan_device_flush(clgan_device *dev) {
  clgan_status st = CLGAN_OK;
  CL_TRY(clFlush(dev->queue));
fail:
  return st;
}

/* ---- Markers ---- */

clgan_status clgan_marker_enqueue(clgan_device *dev, clgan_marker *marker) {
  clgan_status st = CLGAN_OK;
  cl_event ev = NULL;
  *marker = NULL;
  CL_TRY(clEnqueueMarkerWithWaitList(dev->queue, 0, NULL, &ev));
  CL_TRY(clFlush(dev->queue));
  *marker = ev;
  return CLGAN_OK;
fail:
  if (ev) clReleaseEvent(ev);
  return st;
}

clgan_status clgan_marker_wait(clgan_marker marker) {
  clgan_status st = CLGAN_OK;
  cl_event ev = marker;
  if (!ev) return CLGAN_OK;
  CL_TRY(clWaitForEvents(1, &ev));
fail:
  clReleaseEvent(ev);
  return st;
}

clgan_status clgan_marker_sync(clgan_marker marker) {
  clgan_status st = CLGAN_OK;
  cl_event ev = marker;
  if (ev) CL_TRY(clWaitForEvents(1, &ev));
fail:
  return st;
}

clgan_status clgan_queue_wait(clgan_device *dev, clgan_marker marker) {
  clgan_status st = CLGAN_OK;
  cl_event ev = marker;
  if (ev) CL_TRY(clEnqueueBarrierWithWaitList(dev->queue, 1, &ev, NULL));
fail:
  return st;
}

void clgan_marker_release(clgan_marker marker) {
  if (marker) clReleaseEvent((cl_event)marker);
}

/* ---- Buffers ---- */

clgan_status clgan_buffer_alloc(clgan_device *dev, clgan_buffer *buf, size_t bytes) {
  clgan_status st = CLGAN_OK;
  cl_int err = CL_SUCCESS;
  buf->mem = NULL;
  buf->bytes = 0;
  if (bytes == 0) bytes = 4;
  if (bytes > dev->info.max_alloc) {
    clgan_error("%s: a buffer of %zu bytes exceeds the device's largest allocation (%llu bytes)",
                clgan_status_message(CLGAN_DEVICE_OUT_OF_MEMORY), bytes, dev->info.max_alloc);
    return CLGAN_DEVICE_OUT_OF_MEMORY;
  }
  cl_mem mem = clCreateBuffer(dev->context, CL_MEM_READ_WRITE, bytes, NULL, &err);
  CL_TRY(err);
  buf->mem = mem;
  buf->bytes = bytes;
fail:
  return st;
}

clgan_status clgan_buffer_view(clgan_device *dev, const clgan_buffer *parent, size_t offset,
                               size_t bytes, clgan_buffer *view) {
  clgan_status st = CLGAN_OK;
  cl_int err = CL_SUCCESS;
  view->mem = NULL;
  view->bytes = 0;
  if (offset % dev->align != 0 || offset + bytes > parent->bytes || bytes == 0) {
    clgan_error("buffer view [%zu, +%zu) of a %zu-byte buffer is out of range or not aligned to "
                "%zu bytes", offset, bytes, parent->bytes, dev->align);
    return CLGAN_INVALID_ARGUMENT;
  }
  cl_buffer_region region = {offset, bytes};
  cl_mem mem = clCreateSubBuffer((cl_mem)parent->mem, CL_MEM_READ_WRITE,
                                 CL_BUFFER_CREATE_TYPE_REGION, &region, &err);
  CL_TRY(err);
  view->mem = mem;
  view->bytes = bytes;
fail:
  return st;
}

void clgan_buffer_free(clgan_buffer *buf) {
  if (buf && buf->mem) clReleaseMemObject((cl_mem)buf->mem);
  if (buf) {
    buf->mem = NULL;
    buf->bytes = 0;
  }
}

static clgan_status check_range(const clgan_buffer *buf, size_t offset, size_t bytes) {
  if (!buf->mem || offset + bytes > buf->bytes || offset + bytes < offset) {
    clgan_error("transfer [%zu, +%zu) is outside a %zu-byte buffer", offset, bytes, buf->bytes);
    return CLGAN_INVALID_ARGUMENT;
  }
  return CLGAN_OK;
}

static clgan_status write_buffer(clgan_device *dev, clgan_buffer *buf, size_t offset,
                                 size_t bytes, const void *src, cl_bool blocking) {
  clgan_status st = check_range(buf, offset, bytes);
  if (st != CLGAN_OK || bytes == 0) return st;
  CL_TRY(clEnqueueWriteBuffer(dev->queue, (cl_mem)buf->mem, blocking, offset, bytes, src, 0, NULL,
                              NULL));
fail:
  return st;
}

clgan_status clgan_buffer_write(clgan_device *dev, clgan_buffer *buf, size_t offset, size_t bytes,
                                const void *src) {
  return write_buffer(dev, buf, offset, bytes, src, CL_TRUE);
}

/* A second in-order queue: a transfer on it runs beside the main queue's kernels (a discrete
 * GPU's copy engine), ordered against them by events only. */
clgan_status clgan_buffer_upload(clgan_device *dev, clgan_buffer *buf, size_t offset,
                                 size_t bytes, const void *src, clgan_marker after,
                                 clgan_marker *done) {
  cl_int err = CL_SUCCESS;
  cl_event ev = NULL, wait = after;
  *done = NULL;
  clgan_status st = check_range(buf, offset, bytes);
  if (st != CLGAN_OK) return st;
  if (!dev->upload) {
    dev->upload = clCreateCommandQueue(dev->context, dev->id, 0, &err);
    CL_TRY(err);
  }
  CL_TRY(clEnqueueWriteBuffer(dev->upload, (cl_mem)buf->mem, CL_FALSE, offset, bytes, src,
                              wait ? 1 : 0, wait ? &wait : NULL, &ev));
  CL_TRY(clFlush(dev->upload));
  *done = ev;
  return CLGAN_OK;
fail:
  if (ev) clReleaseEvent(ev);
  return st;
}

clgan_status clgan_buffer_write_async(clgan_device *dev, clgan_buffer *buf, size_t offset,
                                      size_t bytes, const void *src) {
  return write_buffer(dev, buf, offset, bytes, src, CL_FALSE);
}

clgan_status clgan_buffer_read(clgan_device *dev, const clgan_buffer *buf, size_t offset,
                               size_t bytes, void *dst) {
  clgan_status st = check_range(buf, offset, bytes);
  if (st != CLGAN_OK || bytes == 0) return st;
  CL_TRY(clEnqueueReadBuffer(dev->queue, (cl_mem)buf->mem, CL_TRUE, offset, bytes, dst, 0, NULL,
                             NULL));
fail:
  return st;
}

clgan_status clgan_buffer_zero(clgan_device *dev, clgan_buffer *buf) {
  clgan_status st = CLGAN_OK;
  const cl_uchar zero = 0;
  CL_TRY(clEnqueueFillBuffer(dev->queue, (cl_mem)buf->mem, &zero, 1, 0, buf->bytes, 0, NULL, NULL));
fail:
  return st;
}

clgan_status clgan_buffer_copy(clgan_device *dev, clgan_buffer *dst, size_t dst_off,
                               const clgan_buffer *src, size_t src_off, size_t bytes) {
  clgan_status st = check_range(dst, dst_off, bytes);
  if (st == CLGAN_OK) st = check_range(src, src_off, bytes);
  if (st != CLGAN_OK || bytes == 0) return st;
  CL_TRY(clEnqueueCopyBuffer(dev->queue, (cl_mem)src->mem, (cl_mem)dst->mem, src_off, dst_off,
                             bytes, 0, NULL, NULL));
fail:
  return st;
}

/* ---- Launch ---- */

clgan_status clgan_launch(clgan_device *dev, clgan_kernel *kernel, clgan_range r, int nargs,
                          const clgan_arg *args) {
  return clgan_launch_event(dev, kernel, r, nargs, args, NULL);
}

clgan_status clgan_launch_event(clgan_device *dev, clgan_kernel *kernel, clgan_range r, int nargs,
                                const clgan_arg *args, cl_event *out) {
  clgan_status st = CLGAN_OK;
  cl_kernel k = kernel->kernel;
  for (int i = 0; i < nargs; i++) {
    const clgan_arg *a = &args[i];
    cl_int err;
    switch (a->kind) {
      case CLGAN_ARG_BUF:
        err = clSetKernelArg(k, (cl_uint)i, sizeof(cl_mem), &a->v.buf->mem);
        break;
      case CLGAN_ARG_INT:
        err = clSetKernelArg(k, (cl_uint)i, sizeof(cl_int), &a->v.i);
        break;
      case CLGAN_ARG_UINT:
        err = clSetKernelArg(k, (cl_uint)i, sizeof(cl_uint), &a->v.u);
        break;
      case CLGAN_ARG_FLOAT:
        err = clSetKernelArg(k, (cl_uint)i, sizeof(cl_float), &a->v.f);
        break;
      default:
        err = clSetKernelArg(k, (cl_uint)i, a->v.local_bytes, NULL);
        break;
    }
    if (err != CL_SUCCESS) {
      st = clgan_status_from_cl(err);
      clgan_error("%s: setting argument %d of kernel %s returned %s", clgan_status_message(st), i,
                  kernel->name, clgan_cl_error_name(err));
      return st;
    }
  }
  size_t global[3], local[3];
  size_t max_wg = dev->info.max_work_group ? dev->info.max_work_group : 64;
  for (int d = 0; d < r.dims; d++) {
    local[d] = r.local[d];
    if (local[d] == 0) local[d] = r.dims == 1 ? 64 : (d < 2 ? 8 : 1);
    while (local[d] > 1 && local[d] > max_wg) local[d] /= 2;
    size_t g = r.global[d] ? r.global[d] : 1;
    global[d] = (g + local[d] - 1) / local[d] * local[d];
  }
  cl_event ev = NULL;
  cl_int err = clEnqueueNDRangeKernel(dev->queue, k, (cl_uint)r.dims, NULL, global, local, 0, NULL,
                                      dev->profile ? &ev : NULL);
  if (err != CL_SUCCESS) {
    st = clgan_status_from_cl(err);
    clgan_error("%s: launching kernel %s (global %zu, local %zu) returned %s",
                clgan_status_message(st), kernel->name, global[0], local[0],
                clgan_cl_error_name(err));
    return st;
  }
  if (ev && out) *out = ev;
  else if (ev) clgan_profile_record_event(dev, ev, kernel->name);
  return CLGAN_OK;
}

/* ---- Profiling ---- */

void clgan_profile_record_span(clgan_device *dev, cl_event after, cl_event ev, const char *name) {
  if (dev->nrecords == dev->cap_records) {
    int cap = dev->cap_records ? 2 * dev->cap_records : 1024;
    clgan_profile_record *grown = realloc(dev->records, (size_t)cap * sizeof *grown);
    if (!grown) {
      clReleaseEvent(ev); /* the profile loses a sample; training goes on */
      if (after) clReleaseEvent(after);
      return;
    }
    dev->records = grown;
    dev->cap_records = cap;
  }
  dev->records[dev->nrecords++] = (clgan_profile_record){ev, after, name};
}

void clgan_profile_record_event(clgan_device *dev, cl_event ev, const char *name) {
  clgan_profile_record_span(dev, NULL, ev, name);
}

static int by_time_desc(const void *a, const void *b) {
  double x = ((const clgan_profile_entry *)a)->ms, y = ((const clgan_profile_entry *)b)->ms;
  return (x < y) - (x > y);
}

clgan_status clgan_profile_collect(clgan_device *dev, clgan_profile_entry **entries, int *count) {
  clgan_status st = CLGAN_OK;
  clgan_profile_entry *out = NULL;
  int n = 0;
  *entries = NULL;
  *count = 0;
  CL_TRY(clFinish(dev->queue));
  out = calloc((size_t)dev->nrecords + 1, sizeof *out);
  if (!out) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto fail;
  }
  int untimed = 0;
  for (int i = 0; i < dev->nrecords; i++) {
    cl_ulong t0 = 0, t1 = 0;
    /* A span without both timestamps counts as a call of no time, not as garbage. */
    if (clGetEventProfilingInfo(dev->records[i].event, CL_PROFILING_COMMAND_START, sizeof t0, &t0,
                                NULL) != CL_SUCCESS ||
        clGetEventProfilingInfo(dev->records[i].event, CL_PROFILING_COMMAND_END, sizeof t1, &t1,
                                NULL) != CL_SUCCESS ||
        t1 < t0) {
      untimed++;
      t0 = t1 = 0;
    }
    clReleaseEvent(dev->records[i].event);
    if (dev->records[i].after) {
      /* An in-order queue starts the command after the marker ends: the span covers every
       * kernel enqueued in between (CLBlast's padding and copy kernels too). */
      cl_ulong m = 0;
      if (clGetEventProfilingInfo(dev->records[i].after, CL_PROFILING_COMMAND_END, sizeof m, &m,
                                  NULL) == CL_SUCCESS && m > 0 && m <= t1 && t1 > 0)
        t0 = m;
      clReleaseEvent(dev->records[i].after);
    }
    int j = 0;
    while (j < n && strcmp(out[j].name, dev->records[i].name) != 0) j++;
    if (j == n) snprintf(out[n++].name, sizeof out[0].name, "%s", dev->records[i].name);
    out[j].calls++;
    out[j].ms += (double)(t1 - t0) * 1e-6;
  }
  dev->nrecords = 0;
  if (untimed > 0)
    clgan_warn("the driver gave no profiling timestamps for %d of the recorded commands: "
               "counted with no time", untimed);
  qsort(out, (size_t)n, sizeof *out, by_time_desc);
  *entries = out;
  *count = n;
  return CLGAN_OK;
fail:
  free(out);
  return st;
}
