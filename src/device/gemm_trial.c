/* GEMMs for code that judges parameter sets itself (the tuning search in src/tune/): a failure
 * there rejects a set and is an answer, not an error, so nothing here reports one; each function
 * returns NULL or says why in the caller's buffer. The search sits above the device layer and
 * sees no OpenCL or CLBlast types; these are the few calls it needs that clgan_gemm, which adds
 * split-k, a scratch buffer, profiling and the shape record and reports every failure, cannot
 * stand in for. */
#include <clblast_c.h>
#include <stdio.h>

#include "device/internal.h"

static CLBlastStatusCode plain_sgemm(clgan_device *dev, const clgan_gemm_args *g) {
  return CLBlastSgemm(CLBlastLayoutRowMajor, g->trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
                      g->trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, g->m, g->n, g->k,
                      g->alpha, (cl_mem)g->a->mem, g->a_off, g->lda, (cl_mem)g->b->mem, g->b_off,
                      g->ldb, g->beta, (cl_mem)g->c->mem, g->c_off, g->ldc, &dev->queue, NULL);
}

const char *clgan_gemm_verify(clgan_device *dev, const clgan_gemm_args *g, const float *ref,
                              float *out, char *why, size_t why_size) {
  /* A sentinel in C shows elements the kernel never wrote; beta = 0 keeps it out of the sum. */
  const cl_float sentinel = 12345.0f;
  size_t nc = g->m * g->n;
  cl_int err = clEnqueueFillBuffer(dev->queue, (cl_mem)g->c->mem, &sentinel, sizeof sentinel, 0,
                                   nc * sizeof(float), 0, NULL, NULL);
  CLBlastStatusCode c = plain_sgemm(dev, g);
  if (c != CLBlastSuccess) {
    snprintf(why, why_size, "CLBlast returned %d on %zux%zux%zu", (int)c, g->m, g->n, g->k);
    clFinish(dev->queue);
    return why;
  }
  if (err == CL_SUCCESS)
    err = clEnqueueReadBuffer(dev->queue, (cl_mem)g->c->mem, CL_TRUE, 0, nc * sizeof(float), out,
                              0, NULL, NULL);
  if (err != CL_SUCCESS) {
    snprintf(why, why_size, "OpenCL error %s on %zux%zux%zu", clgan_cl_error_name(err), g->m,
             g->n, g->k);
    return why;
  }
  size_t j;
  if (!(clgan_gemm_error_ratio(g->k, out, ref, nc, &j) <= 1.0)) {
    snprintf(why, why_size, "wrong result on %zux%zux%zu (element %zu: %g, want %g)", g->m, g->n,
             g->k, j, (double)out[j], (double)ref[j]);
    return why;
  }
  return NULL;
}

const char *clgan_gemm_repeat(clgan_device *dev, const clgan_gemm_args *g, int count, char *why,
                              size_t why_size) {
  for (int r = 0; r < count; r++) {
    CLBlastStatusCode c = plain_sgemm(dev, g);
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
  return NULL;
}
