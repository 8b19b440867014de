/* Tuning parameters shipped with clgan, for devices CLBlast's own database does not know.
 * Measured with `clgan tune` (see bench/RESULTS.md); a user's own `clgan tune` result, stored
 * in the cache file, is applied after these and so wins. The gflops figures are the tuner's
 * own, over its whole set of training shapes, on a machine shared with other work. */
#include <string.h>

#include "device/internal.h"

typedef struct {
  const char *platform_part; /* substrings the platform and device names must contain */
  const char *device_part;
  const char *device_part2;
  clgan_tuning entry;
} builtin_row;

/* PoCL 3.1 on a 2-core AMD EPYC (Zen, AVX-512; PoCL calls it "pthread-skylake-avx512-AMD EPYC"),
 * CLBlast 1.5.3. Measured with `clgan tune --budget 300` (bench/RESULTS.md has the run): every
 * training GEMM is faster through the tuned indirect Xgemm than through any direct set tried,
 * so the cross-over sends all of them there (XGEMM_MIN_INDIRECT_SIZE=1). */
static const builtin_row rows[] = {
    {"Portable Computing Language", "AMD EPYC", "avx512",
     {"XgemmDirect", 10,
      {"WGD", "MDIMCD", "NDIMCD", "MDIMAD", "NDIMBD", "KWID", "VWMD", "VWND", "PADA", "PADB"},
      {64, 16, 8, 32, 8, 8, 2, 1, 1, 1}, 24.1}},
    {"Portable Computing Language", "AMD EPYC", "avx512",
     {"Xgemm", 16,
      {"GEMMK", "MWG", "NWG", "KWG", "MDIMC", "NDIMC", "MDIMA", "NDIMB", "KWI", "VWM", "VWN",
       "STRM", "STRN", "SA", "SB", "KREG"},
      {0, 64, 128, 16, 8, 8, 8, 16, 2, 8, 8, 1, 1, 0, 0, 1}, 66.7}},
    {"Portable Computing Language", "AMD EPYC", "avx512",
     {"GemmRoutine", 1, {"XGEMM_MIN_INDIRECT_SIZE"}, {1}, 37.2}},
};

int clgan_tuning_builtin(const clgan_device *dev, clgan_tuning *entries, int max) {
  int n = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0] && n < max; i++) {
    const builtin_row *r = &rows[i];
    if (strstr(dev->info.platform_name, r->platform_part) &&
        strstr(dev->info.name, r->device_part) && strstr(dev->info.name, r->device_part2))
      entries[n++] = r->entry;
  }
  return n;
}

int clgan_tuning_builtin_all(clgan_tuning *entries, int max) {
  int n = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0] && n < max; i++) entries[n++] = rows[i].entry;
  return n;
}
