/* The OpenCL C preamble of every ops program (issue 9, "One table per fact"), generated at
 * compile time from the tables in include/clgan/ops.h, so a kernel never restates a C fact:
 * the enums the kernels switch on, with the values the C code passes; the pixel scale of
 * clgan_pixel_to_unit; Philox-4x32-10 (random.cl and augment.cl both draw from it); and
 * clgan_tree_sum, the one local-memory tree sum of the reductions.
 * The device layer places it before each ops file (clgan_kernel_get_prefixed) without knowing
 * what it says, after its own part (FP_CONTRACT OFF), as CLBlast prepends its generated
 * defines to its kernels. */
#include "clgan/ops.h"
#include "ops/internal.h"

#define OPS_STR_(x) #x
#define OPS_STR(x) OPS_STR_(x)

static const char preamble[] =
    "/* ops preamble (src/ops/preamble.c) */\n"
    "enum clgan_act {"
#define X(e, name) " CLGAN_ACT_" #e ","
    CLGAN_ACT_TABLE(X)
#undef X
    " };\n"
    "enum clgan_opt_kind {"
#define X(e, name) " CLGAN_OPT_" #e ","
    CLGAN_OPT_TABLE(X)
#undef X
    " };\n"
    "enum clgan_critic_kind {"
#define X(e, name) " CLGAN_CRITIC_" #e ","
    CLGAN_CRITIC_TABLE(X)
#undef X
    " };\n"
    "enum clgan_aug_op {"
#define X(e, name) " CLGAN_AUG_" #e ","
    CLGAN_AUG_TABLE(X)
#undef X
    " };\n"
    /* Philox-4x32-10 (clgan_philox4x32; constants from Random123's philox.h), shared by the
     * random numbers (cl/random.cl) and DiffAugment's draws (cl/augment.cl). */
    /* The rounds on four words x, y, z, w of type T (uint, or uintn for n blocks side by
     * side, cl/random.cl's rand_normal) and the key k0, k1 (uint, updated). */
    "#define CLGAN_PHILOX4X32_10(T, x, y, z, w, k0, k1) \\\n"
    "  for (int r_ = 0; r_ < 10; r_++) { \\\n"
    "    if (r_ > 0) { \\\n"
    "      k0 += 0x9E3779B9u; \\\n"
    "      k1 += 0xBB67AE85u; \\\n"
    "    } \\\n"
    "    T lo0_ = 0xD2511F53u * x, hi0_ = mul_hi((T)(0xD2511F53u), x); \\\n"
    "    T lo1_ = 0xCD9E8D57u * z, hi1_ = mul_hi((T)(0xCD9E8D57u), z); \\\n"
    "    x = hi1_ ^ y ^ k0; \\\n"
    "    y = lo1_; \\\n"
    "    z = hi0_ ^ w ^ k1; \\\n"
    "    w = lo0_; \\\n"
    "  }\n"
    "static inline uint4 clgan_philox4x32_10(uint4 ctr, uint2 key) {\n"
    "  uint x = ctr.x, y = ctr.y, z = ctr.z, w = ctr.w, k0 = key.x, k1 = key.y;\n"
    "  CLGAN_PHILOX4X32_10(uint, x, y, z, w, k0, k1)\n"
    "  return (uint4)(x, y, z, w);\n"
    "}\n"
    /* An elementwise kernel's work-item takes elements [i, i + CLGAN_VEC) of n (CLGAN_VEC and
     * floatv come from the device layer, clgan_vec_width): BODY(T, LD, ST) runs once on floatv
     * when all of them are there, else once per element on float (the tail), where LD(p) is
     * p's element(s) at i and ST(p, v) stores v there. The same operations either way, so
     * the results are the same bits at every width. The host launches clgan_vec_groups(n)
     * work-items. */
    "#define CLGAN_LDV(p) VLOAD((p) + clgan_i_)\n"
    "#define CLGAN_STV(p, v) VSTORE((v), (p) + clgan_i_)\n"
    "#define CLGAN_LDS(p) ((p)[clgan_i_])\n"
    "#define CLGAN_STS(p, v) ((p)[clgan_i_] = (v))\n"
    /* (The index is a long: CLGAN_VEC past an n near INT_MAX must not wrap.) */
    "#define CLGAN_EACH(n, BODY) do { \\\n"
    "  long clgan_i_ = (long)get_global_id(0) * CLGAN_VEC; \\\n"
    "  if (clgan_i_ + CLGAN_VEC <= (long)(n)) { BODY(floatv, CLGAN_LDV, CLGAN_STV) } \\\n"
    "  else for (; clgan_i_ < (long)(n); clgan_i_++) { BODY(float, CLGAN_LDS, CLGAN_STS) } \\\n"
    "} while (0)\n"
    "#define CLGAN_PIXEL_OFFSET " OPS_STR(CLGAN_PIXEL_OFFSET) "\n"
    "#define CLGAN_PIXEL_SCALE " OPS_STR(CLGAN_PIXEL_SCALE) "\n"
    /* Launched as one or more work-groups of a power-of-two size L, each work-item holding its
     * partial sum v: a fixed pairwise tree in local memory (scratch, L floats) gives every
     * work-item the group's sum, the same additions in the same order on every run. All
     * work-items must call it (barriers); scratch may be reused as soon as it returns. */
    "static inline float clgan_tree_sum(__local float *scratch, float v) {\n"
    "  int l = get_local_id(0);\n"
    "  scratch[l] = v;\n"
    "  barrier(CLK_LOCAL_MEM_FENCE);\n"
    "  for (int step = (int)get_local_size(0) / 2; step > 0; step /= 2) {\n"
    "    if (l < step) scratch[l] += scratch[l + step];\n"
    "    barrier(CLK_LOCAL_MEM_FENCE);\n"
    "  }\n"
    "  float r = scratch[0];\n"
    "  barrier(CLK_LOCAL_MEM_FENCE);\n"
    "  return r;\n"
    "}\n";

const char *clgan_kernel_preamble(void) { return preamble; }

clgan_range ops_vec_range(const clgan_device *dev, int n) {
  size_t v = (size_t)clgan_device_vec_width(dev);
  return CLGAN_RANGE_1D(((size_t)n + v - 1) / v);
}

clgan_status ops_kernel_get(clgan_device *dev, const char *file, const char *name,
                            clgan_kernel **kernel) {
  return clgan_kernel_get_prefixed(dev, preamble, file, name, kernel);
}
