/* Tuning parameters shipped with clgan, keyed by tuning class: what decides a GEMM kernel's
 * speed on a device, not its brand (issue 11). A user's own `clgan tune` result, stored in the
 * cache file under the exact device, is applied after these and so wins.
 *
 * The class of a CPU through PoCL is the LLVM target PoCL compiles for, which it writes into
 * the device name: "<driver>-<target>-<CPU model>", e.g. "pthread-skylake-avx512-AMD EPYC"
 * (PoCL 1.8-3.x) or "cpu-haswell-Intel(R) Core(TM) i7-4790 CPU @ 3.60GHz" (4.x and later). An
 * Intel Xeon and an AMD EPYC that PoCL both compiles for skylake-avx512 run the same code, and
 * `clgan tune` found the same Xgemm set on both. For a GPU the class is the vendor and the
 * architecture the driver reports (clgan_device_info.arch), else the vendor and the name. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "device/internal.h"

typedef struct {
  const char *cls;
  clgan_tuning entry;
} builtin_row;

/* PoCL 3.1, LLVM 15, CLBlast 1.5.3, on a 2-core AMD EPYC that PoCL compiles for skylake-avx512
 * (AVX-512). Measured with `clgan tune --budget 300` (bench/RESULTS.md has the run): every
 * training GEMM is faster through the tuned indirect Xgemm than through any direct set tried,
 * so the cross-over sends all of them there (XGEMM_MIN_INDIRECT_SIZE=1). `clgan tune` on an
 * Intel Xeon that PoCL also calls skylake-avx512 found the same Xgemm set (issue 11). The gflops
 * figures are the tuner's own, over its whole set of training shapes, on a shared machine. */
static const builtin_row rows[] = {
    {"pocl:skylake-avx512",
     {"XgemmDirect", 10,
      {"WGD", "MDIMCD", "NDIMCD", "MDIMAD", "NDIMBD", "KWID", "VWMD", "VWND", "PADA", "PADB"},
      {64, 16, 8, 32, 8, 8, 2, 1, 1, 1}, 24.1}},
    {"pocl:skylake-avx512",
     {"Xgemm", 16,
      {"GEMMK", "MWG", "NWG", "KWG", "MDIMC", "NDIMC", "MDIMA", "NDIMB", "KWI", "VWM", "VWN",
       "STRM", "STRN", "SA", "SB", "KREG"},
      {0, 64, 128, 16, 8, 8, 8, 16, 2, 8, 8, 1, 1, 0, 0, 1}, 66.7}},
    {"pocl:skylake-avx512", {"GemmRoutine", 1, {"XGEMM_MIN_INDIRECT_SIZE"}, {1}, 37.2}},
};

/* ---- The tuning class ---------------------------------------------------------------------- */

/* Appends text to out (size bytes, used so far *used) as a key word: lower case, every run of
 * other characters one '-', "(R)" and "(TM)" dropped. */
static void append_word(char *out, size_t size, size_t *used, const char *text, size_t len) {
  int dash = *used > 0 && out[*used - 1] != ':' && out[*used - 1] != '-';
  for (size_t i = 0; i < len && *used + 2 < size; i++) {
    if (text[i] == '(' && (!strncmp(text + i, "(R)", 3) || !strncmp(text + i, "(TM)", 4))) {
      i += text[i + 2] == ')' ? 2 : 3;
      continue;
    }
    unsigned char c = (unsigned char)text[i];
    if (isalnum(c) || c == '_' || c == '.') {
      if (dash) out[(*used)++] = '-';
      out[(*used)++] = (char)tolower(c);
      dash = 0;
    } else if (*used > 0 && out[*used - 1] != ':') {
      dash = 1;
    }
  }
  out[*used] = '\0';
}

/* A token of an LLVM CPU name: lower-case letters, digits, '.' and '_' ("skylake", "avx512",
 * "x86", "64", "v3", "cortex", "a72"). The CPU model that follows it in PoCL's device name
 * starts with a capital or holds a space ("AMD EPYC", "Intel(R) Xeon(R)", "ARMv8 Processor"). */
static size_t cpu_token(const char *s) {
  size_t n = 0;
  while (islower((unsigned char)s[n]) || isdigit((unsigned char)s[n]) || s[n] == '.' ||
         s[n] == '_')
    n++;
  return s[n] == '-' || s[n] == '\0' ? n : 0;
}

/* The LLVM target in a PoCL CPU device name, into target; "" when the name has none (PoCL
 * before 1.8 wrote "pthread-<model>"). */
static void name_target(const char *name, char *target, size_t size) {
  static const char *const drivers[] = {"cpu-minimal-", "cpu-tbb-", "pthread-", "basic-", "cpu-",
                                        "tbb-"};
  for (size_t i = 0; i < sizeof drivers / sizeof drivers[0]; i++)
    if (!strncmp(name, drivers[i], strlen(drivers[i]))) {
      name += strlen(drivers[i]);
      break;
    }
  const char *p = name;
  for (size_t n; (n = cpu_token(p)) > 0;) {
    p += n;
    if (*p != '-') break;
    p++;
  }
  size_t len = (size_t)(p - name);
  while (len > 0 && name[len - 1] == '-') len--;
  if (len >= size) len = size - 1;
  memcpy(target, name, len);
  target[len] = '\0';
}

/* The target from the name, else from the device version, where PoCL writes its binaries'
 * compatibility string: "HSTR: pthread-x86_64-pc-linux-gnu-skylake-avx512" (driver, target
 * triple, CPU). */
static void pocl_target(const clgan_device_info *info, char *target, size_t size) {
  name_target(info->name, target, size);
  const char *hstr = strstr(info->version, "HSTR:");
  if (target[0] || !hstr) return;
  hstr += strspn(hstr + 5, " ") + 5;
  static const char *const environments[] = {"-gnu-", "-gnueabihf-", "-gnueabi-", "-musl-",
                                             "-android-", "-elf-"};
  size_t len = strcspn(hstr, " \t");
  for (size_t i = 0; i < sizeof environments / sizeof environments[0]; i++) {
    const char *e = strstr(hstr, environments[i]);
    if (e && e < hstr + len) {
      const char *cpu = e + strlen(environments[i]);
      snprintf(target, size, "%.*s", (int)(hstr + len - cpu), cpu);
      return;
    }
  }
}

static const char *vendor_word(const clgan_device_info *info) {
  static const struct {
    const char *part, *word;
  } vendors[] = {{"NVIDIA", "nvidia"},   {"Advanced Micro Devices", "amd"}, {"AMD", "amd"},
                 {"Intel", "intel"},     {"Apple", "apple"},   {"ARM", "arm"},
                 {"Qualcomm", "qualcomm"}, {"Imagination", "imagination"}};
  for (size_t i = 0; i < sizeof vendors / sizeof vendors[0]; i++)
    if (strstr(info->vendor, vendors[i].part)) return vendors[i].word;
  return NULL;
}

void clgan_tuning_class(const clgan_device_info *info, char *cls, size_t size) {
  size_t used = 0;
  cls[0] = '\0';
  if (size < 16) return;
  int pocl = strstr(info->platform_name, "Portable Computing Language") != NULL;
  if (pocl && info->type == CLGAN_DEVICE_CPU) {
    char target[128];
    pocl_target(info, target, sizeof target);
    const char *t = target[0] ? target : "unknown";
    used = (size_t)snprintf(cls, size, "pocl:");
    append_word(cls, size, &used, t, strlen(t));
    return;
  }
  const char *vendor = vendor_word(info);
  if (vendor) {
    used = (size_t)snprintf(cls, size, "%s:", vendor);
  } else {
    append_word(cls, size, &used, info->vendor, strcspn(info->vendor, " ,"));
    if (used == 0) used = (size_t)snprintf(cls, size, "unknown");
    cls[used++] = ':';
    cls[used] = '\0';
  }
  /* ROCm names an AMD GPU by its architecture already, more finely than its graphics IP
   * ("gfx90a" against "gfxip-9.0"). */
  if (!strncmp(info->name, "gfx", 3))
    append_word(cls, size, &used, info->name, strcspn(info->name, " :"));
  else if (info->arch[0])
    append_word(cls, size, &used, info->arch, strlen(info->arch));
  else
    append_word(cls, size, &used, info->name, strlen(info->name));
}

/* ---- The table ----------------------------------------------------------------------------- */

static int class_matches(const char *row, const char *cls) {
  size_t n = strlen(cls);
  if (n > 0 && cls[n - 1] == ':') return strncmp(row, cls, n) == 0;
  return strcmp(row, cls) == 0;
}

int clgan_tuning_builtin_for(const char *cls, clgan_tuning *entries, int max) {
  int n = 0;
  for (size_t i = 0; cls && i < sizeof rows / sizeof rows[0] && n < max; i++)
    if (class_matches(rows[i].cls, cls)) entries[n++] = rows[i].entry;
  return n;
}

int clgan_tuning_builtin(const clgan_device *dev, clgan_tuning *entries, int max) {
  return clgan_tuning_builtin_for(dev->tuning.cls, entries, max);
}

int clgan_tuning_builtin_all(clgan_tuning *entries, int max) {
  int n = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0] && n < max; i++) entries[n++] = rows[i].entry;
  return n;
}
