/* DiffAugment (Zhao et al. 2020): translation and cutout of D's inputs as the official PyTorch
 * code does them (include/clgan/ops.h has the exact semantics), the policy's names, and the C
 * reference. Kernels: cl/augment.cl. The ops only move and zero values, so device and reference
 * agree bit for bit. */
#include <string.h>

#include "clgan/ops.h"
#include "ops/internal.h"

/* Indexed by the policy's bits; grows with CLGAN_AUG_TABLE. */
static const char *const policy_names[] = {"none", "translation", "cutout",
                                           "translation,cutout"};
_Static_assert(sizeof policy_names / sizeof policy_names[0] == CLGAN_AUG_ALL + 1,
               "one spelling per policy");

const char *clgan_aug_policy_name(unsigned policy) {
  return policy <= CLGAN_AUG_ALL ? policy_names[policy] : NULL;
}

int clgan_aug_policy_parse(const char *text, unsigned *policy) {
  for (unsigned p = 0; p <= CLGAN_AUG_ALL; p++) {
    if (!strcmp(text, policy_names[p])) {
      *policy = p;
      return 1;
    }
  }
  return 0;
}

static int draw(uint32_t w, int k) { return (int)(((uint64_t)w * (uint64_t)k) >> 32); }

void clgan_aug_sample(const clgan_aug_cfg *cfg, int b, clgan_aug_params *p) {
  uint32_t ctr[4] = {(uint32_t)b, (uint32_t)cfg->step, (uint32_t)(cfg->step >> 32), cfg->stream};
  uint32_t key[2] = {(uint32_t)cfg->seed, (uint32_t)(cfg->seed >> 32)}, r[4];
  int h = cfg->h, w = cfg->w;
  clgan_philox4x32(ctr, key, r);
  *p = (clgan_aug_params){0, 0, 0, 0, 0, 0};
  if (cfg->policy & (1u << CLGAN_AUG_TRANSLATION)) {
    int sh = (h + 4) / 8, sw = (w + 4) / 8; /* int(size * 0.125 + 0.5) */
    p->tx = draw(r[0], 2 * sh + 1) - sh;
    p->ty = draw(r[1], 2 * sw + 1) - sw;
  }
  if (cfg->policy & (1u << CLGAN_AUG_CUTOUT)) {
    int ch = (h + 1) / 2, cw = (w + 1) / 2; /* int(size * 0.5 + 0.5) */
    int r0 = draw(r[2], h + 1 - ch % 2) - ch / 2, c0 = draw(r[3], w + 1 - cw % 2) - cw / 2;
    p->r0 = r0 > 0 ? r0 : 0;
    p->c0 = c0 > 0 ? c0 : 0;
    p->r1 = r0 + ch < h ? r0 + ch : h;
    p->c1 = c0 + cw < w ? c0 + cw : w;
  }
}

static float keep(const clgan_aug_params *p, int i, int j) {
  return i >= p->r0 && i < p->r1 && j >= p->c0 && j < p->c1 ? 0.0f : 1.0f;
}

/* backward = 0: y = A x; 1: y = A^T x. */
static void ref_apply(const clgan_aug_cfg *cfg, float *y, const float *x, int backward) {
  int h = cfg->h, w = cfg->w, sign = backward ? -1 : 1;
  for (int b = 0; b < cfg->n; b++) {
    clgan_aug_params p;
    clgan_aug_sample(cfg, b, &p);
    for (int c = 0; c < cfg->c; c++) {
      size_t plane = ((size_t)b * cfg->c + c) * h * w;
      for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
          int si = i + sign * p.tx, sj = j + sign * p.ty;
          int inside = si >= 0 && si < h && sj >= 0 && sj < w;
          float v = inside ? x[plane + (size_t)si * w + sj] : 0.0f;
          /* forward: the mask at the output; backward: at the output that read (i, j) */
          float m = backward ? (inside ? keep(&p, si, sj) : 0.0f) : keep(&p, i, j);
          y[plane + (size_t)i * w + j] = v * m;
        }
    }
  }
}

void clgan_ref_augment_forward(const clgan_aug_cfg *cfg, float *y, const float *x) {
  ref_apply(cfg, y, x, 0);
}

void clgan_ref_augment_backward(const clgan_aug_cfg *cfg, float *dx, const float *dy) {
  ref_apply(cfg, dx, dy, 1);
}

static clgan_status launch(clgan_device *dev, const char *op, const char *kernel,
                           const clgan_aug_cfg *cfg, clgan_buffer *out, const clgan_buffer *in) {
  clgan_status st;
  clgan_kernel *k = NULL;
  long long total = (long long)cfg->n * cfg->c * cfg->h * cfg->w;
  if ((st = ops_check_count(cfg->n, op, "n")) || (st = ops_check_count(cfg->c, op, "c")) ||
      (st = ops_check_count(cfg->h, op, "h")) || (st = ops_check_count(cfg->w, op, "w")) ||
      (st = ops_check_count(total, op, "n * c * h * w")))
    return st;
  if (cfg->policy & ~CLGAN_AUG_ALL) {
    clgan_error("%s: policy %#x has bits of no op", op, cfg->policy);
    return CLGAN_INVALID_ARGUMENT;
  }
  if (total == 0) return CLGAN_OK;
  if ((st = ops_check_buf(out, (size_t)total * sizeof(float), op, "out")) ||
      (st = ops_check_buf(in, (size_t)total * sizeof(float), op, "in")))
    return st;
  if (out->mem == in->mem) {
    clgan_error("%s: the output buffer is the input (a translation reads its neighbours)", op);
    return CLGAN_INVALID_ARGUMENT;
  }
  if ((st = ops_kernel_get(dev, "augment.cl", kernel, &k))) return st;
  return CLGAN_LAUNCH(dev, k, CLGAN_RANGE_1D(total), CLGAN_BUF(out), CLGAN_BUF(in),
                      CLGAN_INT(total), CLGAN_INT(cfg->c), CLGAN_INT(cfg->h), CLGAN_INT(cfg->w),
                      CLGAN_UINT(cfg->policy), CLGAN_UINT((uint32_t)cfg->seed),
                      CLGAN_UINT((uint32_t)(cfg->seed >> 32)), CLGAN_UINT((uint32_t)cfg->step),
                      CLGAN_UINT((uint32_t)(cfg->step >> 32)), CLGAN_UINT(cfg->stream));
}

clgan_status clgan_augment_forward(clgan_device *dev, const clgan_aug_cfg *cfg, clgan_buffer *y,
                                   const clgan_buffer *x) {
  return launch(dev, "clgan_augment_forward", "augment_forward", cfg, y, x);
}

clgan_status clgan_augment_backward(clgan_device *dev, const clgan_aug_cfg *cfg,
                                    clgan_buffer *dx, const clgan_buffer *dy) {
  return launch(dev, "clgan_augment_backward", "augment_backward", cfg, dx, dy);
}
