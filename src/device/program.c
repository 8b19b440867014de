/* Run-time kernels: one OpenCL program per cl/<file> (and prefix), built on first use for the
 * open device, from the copy embedded at build time (cmake/embed_run.cmake) or from
 * clgan_device_cfg's kernel_dir. Build options are explicit: OpenCL C 1.2 and IEEE semantics
 * (no fast-math), so NaN checks stay honest. The source handed to OpenCL is, as CLBlast builds
 * its kernels: this layer's own preamble, the caller's prefix (ops' generated one), a #line
 * directive, then the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/internal.h"

typedef struct {
  const char *name;
  const char *text;
  size_t len;
} clgan_embedded_kernel;
extern const clgan_embedded_kernel clgan_embedded_kernels[];

static const char build_options[] = "-cl-std=CL1.2";
/* OpenCL C contracts a*b+c into an fma by default (FP_CONTRACT ON), which one device does and
 * another does not: off everywhere, every kernel rounds each operation as the C references
 * do, and devices agree. */
static const char device_preamble[] = "#pragma OPENCL FP_CONTRACT OFF\n";
/* Then the device's facts: CLGAN_VEC, the elements per work-item of the elementwise kernels
 * (clgan_vec_width), with floatv (float16 or float), VLOAD(p), VSTORE(v, p) and VLOAD_U8F(p)
 * (bytes to floats) to match. */
static const char vec_preamble_16[] =
    "#define CLGAN_VEC 16\n#define floatv float16\n"
    "#define VLOAD(p) vload16(0, (p))\n#define VSTORE(v, p) vstore16((v), 0, (p))\n"
    "#define VLOAD_U8F(p) convert_float16(vload16(0, (p)))\n";
static const char vec_preamble_1[] =
    "#define CLGAN_VEC 1\n#define floatv float\n"
    "#define VLOAD(p) (*(p))\n#define VSTORE(v, p) (*(p) = (v))\n"
    "#define VLOAD_U8F(p) ((float)*(p))\n";
/* After the preambles: the build log's line numbers are the file's. */
static const char line_reset[] = "#line 1\n";

static clgan_status read_source(const clgan_device *dev, const char *file, char **text,
                                size_t *len) {
  *text = NULL;
  if (!dev->kernel_dir[0]) {
    for (const clgan_embedded_kernel *k = clgan_embedded_kernels; k->name; k++) {
      if (strcmp(k->name, file) == 0) {
        *text = malloc(k->len + 1);
        if (!*text) return CLGAN_HOST_OUT_OF_MEMORY;
        memcpy(*text, k->text, k->len + 1);
        *len = k->len;
        return CLGAN_OK;
      }
    }
    clgan_error("%s: no embedded kernel file '%s'", clgan_status_message(CLGAN_KERNEL_NOT_FOUND),
                file);
    return CLGAN_KERNEL_NOT_FOUND;
  }
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dev->kernel_dir, file);
  FILE *f = fopen(path, "rb");
  if (!f) {
    clgan_error("%s: cannot open %s (CLGAN_KERNEL_DIR=%s)",
                clgan_status_message(CLGAN_KERNEL_NOT_FOUND), path, dev->kernel_dir);
    return CLGAN_KERNEL_NOT_FOUND;
  }
  clgan_status st = CLGAN_OK;
  long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
  if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
    clgan_error("%s: cannot seek in %s (not a regular file?)",
                clgan_status_message(CLGAN_IO_ERROR), path);
    st = CLGAN_IO_ERROR;
    goto done;
  }
  *text = malloc((size_t)size + 1);
  if (!*text) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto done;
  }
  if (fread(*text, 1, (size_t)size, f) != (size_t)size) {
    clgan_error("%s: short read from %s", clgan_status_message(CLGAN_IO_ERROR), path);
    free(*text);
    *text = NULL;
    st = CLGAN_IO_ERROR;
    goto done;
  }
  (*text)[size] = '\0';
  *len = (size_t)size;
done:
  fclose(f);
  return st;
}

static clgan_status build_program(clgan_device *dev, const char *prefix, const char *file,
                                  cl_program *out) {
  clgan_status st = CLGAN_OK;
  char *text = NULL;
  size_t len = 0;
  cl_int err = CL_SUCCESS;
  cl_program prog = NULL;
  *out = NULL;
  st = read_source(dev, file, &text, &len);
  if (st != CLGAN_OK) return st;
  const char *vec = dev->vec_width == 16 ? vec_preamble_16 : vec_preamble_1;
  const char *srcs[] = {device_preamble, vec, prefix ? prefix : "", line_reset, text};
  size_t lens[] = {strlen(device_preamble), strlen(vec), strlen(srcs[2]), strlen(line_reset),
                   len};
  prog = clCreateProgramWithSource(dev->context, 5, srcs, lens, &err);
  CL_TRY(err);
  err = clBuildProgram(prog, 1, &dev->id, build_options, NULL, NULL);
  if (err != CL_SUCCESS) {
    size_t log_size = 0;
    char *log = NULL;
    if (clGetProgramBuildInfo(prog, dev->id, CL_PROGRAM_BUILD_LOG, 0, NULL, &log_size) ==
        CL_SUCCESS)
      log = malloc(log_size + 1);
    if (log) {
      log[0] = '\0';
      if (clGetProgramBuildInfo(prog, dev->id, CL_PROGRAM_BUILD_LOG, log_size, log, NULL) !=
          CL_SUCCESS)
        log[0] = '\0';
      log[log_size] = '\0';
    }
    clgan_error("%s: %s%s%s for %s (%s, options '%s'). Build log:\n%s",
                clgan_status_message(CLGAN_BUILD_FAILED), dev->kernel_dir[0] ? dev->kernel_dir : "",
                dev->kernel_dir[0] ? "/" : "embedded ", file, dev->info.name,
                clgan_cl_error_name(err), build_options, log && log[0] ? log : "(no log)");
    free(log);
    st = CLGAN_BUILD_FAILED;
    goto fail;
  }
  free(text);
  *out = prog;
  return CLGAN_OK;
fail:
  free(text);
  if (prog) clReleaseProgram(prog);
  return st;
}

static clgan_status get_program(clgan_device *dev, const char *prefix, const char *file,
                                cl_program *out) {
  for (int i = 0; i < dev->nprograms; i++) {
    if (dev->programs[i].prefix == prefix && strcmp(dev->programs[i].file, file) == 0) {
      *out = dev->programs[i].program;
      return CLGAN_OK;
    }
  }
  if (strlen(file) >= sizeof dev->programs[0].file) {
    clgan_error("kernel file name '%s' is longer than %zu characters", file,
                sizeof dev->programs[0].file - 1);
    return CLGAN_INVALID_ARGUMENT;
  }
  clgan_program_slot *grown =
      realloc(dev->programs, (size_t)(dev->nprograms + 1) * sizeof *dev->programs);
  if (!grown) return CLGAN_HOST_OUT_OF_MEMORY;
  dev->programs = grown;
  clgan_status st = build_program(dev, prefix, file, out);
  if (st != CLGAN_OK) return st;
  clgan_program_slot *slot = &dev->programs[dev->nprograms++];
  snprintf(slot->file, sizeof slot->file, "%s", file);
  slot->prefix = prefix;
  slot->program = *out;
  return CLGAN_OK;
}

clgan_status clgan_kernel_get(clgan_device *dev, const char *file, const char *name,
                              clgan_kernel **kernel) {
  return clgan_kernel_get_prefixed(dev, NULL, file, name, kernel);
}

clgan_status clgan_kernel_get_prefixed(clgan_device *dev, const char *prefix, const char *file,
                                       const char *name, clgan_kernel **kernel) {
  clgan_status st = CLGAN_OK;
  cl_int err = CL_SUCCESS;
  cl_program prog = NULL;
  clgan_kernel *k = NULL;
  *kernel = NULL;
  for (int i = 0; i < dev->nkernels; i++) {
    if (dev->kernels[i]->prefix == prefix && strcmp(dev->kernels[i]->name, name) == 0 &&
        strcmp(dev->kernels[i]->file, file) == 0) {
      *kernel = dev->kernels[i];
      return CLGAN_OK;
    }
  }
  st = get_program(dev, prefix, file, &prog);
  if (st != CLGAN_OK) return st;
  k = calloc(1, sizeof *k);
  clgan_kernel **grown = realloc(dev->kernels, (size_t)(dev->nkernels + 1) * sizeof *grown);
  if (!k || !grown) {
    free(k);
    if (grown) dev->kernels = grown;
    return CLGAN_HOST_OUT_OF_MEMORY;
  }
  dev->kernels = grown;
  snprintf(k->name, sizeof k->name, "%s", name);
  snprintf(k->file, sizeof k->file, "%s", file);
  k->prefix = prefix;
  k->kernel = clCreateKernel(prog, name, &err);
  if (err != CL_SUCCESS) {
    st = clgan_status_from_cl(err);
    clgan_error("%s: kernel %s in %s: %s", clgan_status_message(st), name, file,
                clgan_cl_error_name(err));
    goto fail;
  }
  dev->kernels[dev->nkernels++] = k;
  *kernel = k;
  return CLGAN_OK;
fail:
  free(k);
  return st;
}
