/* The CLBlast tuning cache and search: store/load round trip, other devices' lines kept,
 * corrupt caches (garbage, truncated lines, bad numbers, a huge line, binary bytes) skipped with
 * a warning and never a crash, a device opened on a corrupt cache still computing correct GEMMs,
 * the tuning class the shipped sets are keyed by (PoCL device names of several versions and
 * CPUs, GPUs), which source wins (cache > built-in > none, and off), what an open reports, and a
 * short `clgan_tune` (one candidate) that stores an entry and leaves GEMM correct. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clgan/tune.h"
#include "harness.h"

static int warnings;
static char last_warning[2048];

static void count_warnings(const char *level, const char *text, void *user) {
  (void)user;
  if (!strcmp(level, "warning")) {
    warnings++;
    snprintf(last_warning, sizeof last_warning, "%s", text);
  }
  fprintf(stderr, "  [%s] %s\n", level, text);
}

static char dir[256];

static void path_in_dir(char *out, size_t size, const char *name) {
  snprintf(out, size, "%s/%s", dir, name);
}

static void write_bytes(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL, "cannot write %s", path);
  if (!f) return;
  fwrite(data, 1, len, f);
  fclose(f);
}

static clgan_tuning make_entry(const char *kernel, int count, size_t base, double gflops) {
  clgan_tuning e;
  memset(&e, 0, sizeof e);
  snprintf(e.kernel, sizeof e.kernel, "%s", kernel);
  e.count = count;
  for (int i = 0; i < count; i++) {
    snprintf(e.names[i], sizeof e.names[i], "P%d", i);
    e.values[i] = base + (size_t)i;
  }
  e.gflops = gflops;
  return e;
}

static int same_entry(const clgan_tuning *a, const clgan_tuning *b) {
  if (strcmp(a->kernel, b->kernel) || a->count != b->count) return 0;
  for (int i = 0; i < a->count; i++)
    if (strcmp(a->names[i], b->names[i]) || a->values[i] != b->values[i]) return 0;
  return 1;
}

static void test_round_trip(void) {
  char path[512];
  path_in_dir(path, sizeof path, "sub/dir/tuning.txt"); /* parent folders are created */
  clgan_tuning a[3] = {make_entry("XgemmDirect", 10, 8, 50.5), make_entry("Xgemm", 16, 1, 150.0),
                       make_entry("GemmRoutine", 1, 4000, 0.0)};
  snprintf(a[2].names[0], sizeof a[2].names[0], "XGEMM_MIN_INDIRECT_SIZE");
  CHECK(clgan_tuning_store(path, "dev A | 1.0 | plat", a, 3) == CLGAN_OK, "store A");
  clgan_tuning b[2] = {make_entry("XgemmDirect", 3, 100, 7.0), make_entry("Xgemm", 2, 200, 9.0)};
  CHECK(clgan_tuning_store(path, "dev B | 2.0 | plat", b, 2) == CLGAN_OK, "store B");

  clgan_tuning got[8];
  int n = -1;
  warnings = 0;
  CHECK(clgan_tuning_load(path, "dev A | 1.0 | plat", got, 8, &n) == CLGAN_OK, "load A");
  CHECK(n == 3, "device A has 3 entries, got %d", n);
  for (int i = 0; i < n && i < 3; i++) CHECK(same_entry(&got[i], &a[i]), "entry A%d round trip", i);
  CHECK(n < 1 || (got[0].gflops > 50.4 && got[0].gflops < 50.6), "gflops kept");
  CHECK(clgan_tuning_load(path, "dev B | 2.0 | plat", got, 8, &n) == CLGAN_OK && n == 2,
        "device B kept after A was stored");
  for (int i = 0; i < n && i < 2; i++) CHECK(same_entry(&got[i], &b[i]), "entry B%d round trip", i);
  CHECK(warnings == 0, "a clean cache gives no warnings (%d)", warnings);

  /* Storing A again replaces A's lines and keeps B's. */
  clgan_tuning a2 = make_entry("XgemmDirect", 4, 300, 60.0);
  CHECK(clgan_tuning_store(path, "dev A | 1.0 | plat", &a2, 1) == CLGAN_OK, "restore A");
  CHECK(clgan_tuning_load(path, "dev A | 1.0 | plat", got, 8, &n) == CLGAN_OK && n == 1 &&
            same_entry(&got[0], &a2),
        "device A replaced (n=%d)", n);
  CHECK(clgan_tuning_load(path, "dev B | 2.0 | plat", got, 8, &n) == CLGAN_OK && n == 2,
        "device B still there (n=%d)", n);
  CHECK(clgan_tuning_load(path, "dev A", got, 8, &n) == CLGAN_OK && n == 0,
        "a key prefix matches nothing (n=%d)", n);

  /* max bounds what load writes. */
  CHECK(clgan_tuning_load(path, "dev B | 2.0 | plat", got, 1, &n) == CLGAN_OK && n == 1,
        "load respects max (n=%d)", n);

  char missing[512];
  path_in_dir(missing, sizeof missing, "no-such-file.txt");
  CHECK(clgan_tuning_load(missing, "dev A | 1.0 | plat", got, 8, &n) == CLGAN_OK && n == 0,
        "a missing cache is empty, not an error");
}

/* Each corrupt cache holds one good line for "dev" between bad ones: the good one loads, each
 * bad one is a warning. */
static void check_corrupt(const char *name, const char *bad, size_t bad_len, int want_warnings) {
  char path[512];
  path_in_dir(path, sizeof path, "corrupt.txt");
  const char good[] = "dev\tXgemmDirect\t12.5\tWGD=32,KWID=2\n";
  size_t len = bad_len + sizeof good - 1 + bad_len;
  char *data = malloc(len);
  memcpy(data, bad, bad_len);
  memcpy(data + bad_len, good, sizeof good - 1);
  memcpy(data + bad_len + sizeof good - 1, bad, bad_len);
  write_bytes(path, data, len);
  free(data);
  clgan_tuning got[4];
  int n = -1;
  warnings = 0;
  clgan_status st = clgan_tuning_load(path, "dev", got, 4, &n);
  CHECK(st == CLGAN_OK, "%s: load returns OK, got %s", name, clgan_status_name(st));
  CHECK(n == 1 && !strcmp(got[0].kernel, "XgemmDirect") && got[0].count == 2 &&
            got[0].values[0] == 32 && got[0].values[1] == 2,
        "%s: the good line still loads (n=%d)", name, n);
  CHECK(warnings >= want_warnings, "%s: %d warning(s), want at least %d", name, warnings,
        want_warnings);
}

/* A file cut short: its last line lacks the newline, and a number in it may be cut too
 * ("WGD=6" from "WGD=64"), so it is dropped even where it parses. */
static void check_truncated(void) {
  char path[512];
  path_in_dir(path, sizeof path, "truncated.txt");
  const char text[] = "dev\tXgemmDirect\t12.5\tWGD=32,KWID=2\ndev\tXgemm\t10.0\tMWG=6";
  write_bytes(path, text, sizeof text - 1);
  clgan_tuning got[4];
  int n = -1;
  warnings = 0;
  CHECK(clgan_tuning_load(path, "dev", got, 4, &n) == CLGAN_OK, "truncated: load returns OK");
  CHECK(n == 1 && !strcmp(got[0].kernel, "XgemmDirect"), "truncated: the whole line loads, the "
        "cut one does not (n=%d)", n);
  CHECK(warnings == 1, "truncated: one warning, got %d", warnings);
  /* Storing another device's entries must not turn the cut line into a whole one. */
  clgan_tuning other = make_entry("Xgemm", 2, 5, 1.0);
  CHECK(clgan_tuning_store(path, "other", &other, 1) == CLGAN_OK, "truncated: store");
  CHECK(clgan_tuning_load(path, "dev", got, 4, &n) == CLGAN_OK && n == 1 &&
            !strcmp(got[0].kernel, "XgemmDirect"),
        "truncated: after a store the cut line is gone, the whole one kept (n=%d)", n);
  CHECK(clgan_tuning_load(path, "other", got, 4, &n) == CLGAN_OK && n == 1, "truncated: other");
}

static void test_corrupt_caches(void) {
  const char garbage[] = "this is not a tuning cache at all\n";
  check_corrupt("garbage", garbage, sizeof garbage - 1, 2);
  const char fields[] = "dev\tXgemmDirect\n";
  check_corrupt("missing fields", fields, sizeof fields - 1, 2);
  check_truncated();
  const char bad_number[] = "dev\tXgemmDirect\t10.0\tWGD=3x2\n";
  check_corrupt("bad number", bad_number, sizeof bad_number - 1, 2);
  const char negative[] = "dev\tXgemmDirect\t10.0\tWGD=-32\n";
  check_corrupt("negative number", negative, sizeof negative - 1, 2);
  const char huge_value[] = "dev\tXgemmDirect\t10.0\tWGD=99999999999999999999999\n";
  check_corrupt("huge value", huge_value, sizeof huge_value - 1, 2);
  const char bad_gflops[] = "dev\tXgemmDirect\tfast\tWGD=32\n";
  check_corrupt("bad gflops", bad_gflops, sizeof bad_gflops - 1, 2);
  const char empty_params[] = "dev\tXgemmDirect\t10.0\t\n";
  check_corrupt("empty parameters", empty_params, sizeof empty_params - 1, 2);
  const char lower_name[] = "dev\tXgemmDirect\t10.0\twgd=32\n";
  check_corrupt("bad parameter name", lower_name, sizeof lower_name - 1, 2);
  char many[2048];
  size_t used = (size_t)snprintf(many, sizeof many, "dev\tXgemmDirect\t10.0\t");
  for (int i = 0; i < CLGAN_TUNE_MAX_PARAMS + 5; i++)
    used += (size_t)snprintf(many + used, sizeof many - used, "%sP%d=1", i ? "," : "", i);
  used += (size_t)snprintf(many + used, sizeof many - used, "\n");
  check_corrupt("too many parameters", many, used, 2);

  size_t huge_len = 100000;
  char *huge = malloc(huge_len);
  memset(huge, 'A', huge_len);
  memcpy(huge, "dev\tXgemmDirect\t1.0\tWGD=", 24);
  huge[huge_len - 1] = '\n';
  check_corrupt("huge line", huge, huge_len, 2);
  free(huge);

  unsigned char binary[512];
  unsigned long long s = 99;
  for (size_t i = 0; i < sizeof binary; i++) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    binary[i] = (unsigned char)(s >> 56);
    if (binary[i] == '\n') binary[i] = 0xFF;
  }
  binary[100] = '\0'; /* a NUL inside a line */
  binary[sizeof binary - 1] = '\n';
  check_corrupt("binary bytes", (const char *)binary, sizeof binary, 2);
}

/* A device opened on a corrupt cache: warnings, then correct GEMMs with the builtin set. */
static void test_device_with_corrupt_cache(void) {
  char path[512];
  path_in_dir(path, sizeof path, "device-corrupt.txt");
  const unsigned char junk[] = "\x01\x02garbage\tXgemmDirect\t1.0\tWGD=\xff\xfe\n\0\0\0tail";
  write_bytes(path, junk, sizeof junk);
  setenv("CLGAN_TUNING_FILE", path, 1);
  clgan_device *dev = test_open_device();
  const clgan_device_info *info = clgan_device_get_info(dev);
  /* Lines for this device's own key, each broken differently. */
  char key[512], text[4096];
  clgan_device_tuning_key(dev, key, sizeof key);
  snprintf(text, sizeof text,
           "%s\tXgemmDirect\t1.0\tWGD=64,MDIMCD=zz\n"
           "%s\tXgemmDirect\t1.0\tWGD=1\n" /* parses, but CLBlast wants every parameter */
           "%s\tNoSuchKernel\t1.0\tWGD=8\n",
           key, key, key);
  write_bytes(path, text, strlen(text));
  clgan_device_close(dev);
  warnings = 0;
  dev = test_open_device();
  CHECK(warnings >= 1, "the corrupt cache for this device warns (%d)", warnings);
  (void)info;

  unsigned long long rng = 7;
  test_gemm_case(dev,
                 (clgan_gemm_args){.trans_b = 1, .m = 37, .n = 29, .k = 53, .alpha = 1.0f,
                                   .beta = 0.0f, .lda = 53, .ldb = 53, .ldc = 29},
                 &rng, "gemm with a corrupt tuning cache");
  clgan_device_close(dev);
  unsetenv("CLGAN_TUNING_FILE");
}

/* ---- Issue 9, finding 1: sets that parse but make no sense ---- */

/* A copy of the shipped set for kernel with one parameter changed (name = NULL: unchanged). */
static clgan_tuning shipped_with(const char *kernel, const char *name, size_t value) {
  clgan_tuning all[8], e;
  memset(&e, 0, sizeof e);
  int n = clgan_tuning_builtin_all(all, 8);
  for (int i = 0; i < n; i++)
    if (!strcmp(all[i].kernel, kernel)) e = all[i];
  CHECK(e.count > 0, "the shipped table has a %s set", kernel);
  for (int j = 0; name && j < e.count; j++)
    if (!strcmp(e.names[j], name)) e.values[j] = value;
  return e;
}

static void test_validation(void) {
  clgan_device_info info;
  memset(&info, 0, sizeof info);
  info.max_work_group = 256; /* a modest GPU's limits: the shipped sets must fit them */
  info.local_mem = 48 * 1024;
  clgan_tuning all[8];
  int n = clgan_tuning_builtin_all(all, 8);
  CHECK(n >= 3, "the shipped table has sets (%d)", n);
  char why[256];
  for (int i = 0; i < n; i++)
    CHECK(clgan_tuning_valid(&info, &all[i], why, sizeof why), "shipped %s set invalid: %s",
          all[i].kernel, why);

  static const struct {
    const char *kernel, *name;
    size_t value;
    const char *says;
  } bad[] = {
      {"XgemmDirect", "WGD", 0, "WGD=0"},     {"Xgemm", "MWG", 0, "MWG=0"},
      {"Xgemm", "KWG", 3, "KWG=3"},           {"Xgemm", "MDIMC", 0, "MDIMC=0"},
      {"Xgemm", "VWM", 3, "VWM=3"},           {"Xgemm", "VWN", 0, "VWN=0"},
      {"Xgemm", "NDIMB", 3, "NDIMB"},         {"Xgemm", "KWI", 0, "KWI=0"},
      {"Xgemm", "GEMMK", 1, "GEMMK=1"},       {"Xgemm", "SA", 2, "SA"},
      {"XgemmDirect", "KWID", 3, "KWID=3"},
      {"XgemmDirect", "VWMD", 3, "VWMD=3"},   {"XgemmDirect", "MDIMAD", 0, "MDIMAD=0"},
      {"XgemmDirect", "NDIMBD", 3, "NDIMBD"}, {"XgemmDirect", "WGD", 128, "local memory"},
      {"XgemmDirect", "PADA", 7, "PADA"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    clgan_tuning e = shipped_with(bad[i].kernel, bad[i].name, bad[i].value);
    why[0] = '\0';
    CHECK(!clgan_tuning_valid(&info, &e, why, sizeof why) && strstr(why, bad[i].says),
          "%s %s=%zu: refused saying '%s', got '%s'", bad[i].kernel, bad[i].name, bad[i].value,
          bad[i].says, why);
  }
  clgan_device_info small = info;
  small.max_work_group = 32;
  clgan_tuning e = shipped_with("Xgemm", NULL, 0);
  CHECK(!clgan_tuning_valid(&small, &e, why, sizeof why) && strstr(why, "threads"),
        "more threads than the device allows: %s", why);
  e.count--; /* KREG missing */
  CHECK(!clgan_tuning_valid(&info, &e, why, sizeof why) && strstr(why, "missing"),
        "a missing parameter is refused: %s", why);
  e.count++;
  snprintf(e.names[3], sizeof e.names[3], "MWG"); /* MWG twice, KWG missing */
  CHECK(!clgan_tuning_valid(&info, &e, why, sizeof why) && strstr(why, "twice"),
        "a repeated parameter is refused: %s", why);
  e = shipped_with("Xgemm", NULL, 0);
  snprintf(e.names[0], sizeof e.names[0], "GEMMX");
  CHECK(!clgan_tuning_valid(&info, &e, why, sizeof why) && strstr(why, "GEMMX"),
        "an unknown parameter is refused: %s", why);
  e = make_entry("Copy", 2, 1, 0.0);
  CHECK(!clgan_tuning_valid(&info, &e, why, sizeof why), "a kernel clgan does not tune");
}

/* Finding 3: a folder or /dev/zero as the cache is one warning naming it, not a hang. */
static void test_cache_file_kinds(void) {
  clgan_tuning got[4];
  int n = -1;
  warnings = 0;
  CHECK(clgan_tuning_load(dir, "dev", got, 4, &n) == CLGAN_OK && n == 0, "a folder loads nothing");
  CHECK(warnings == 1 && strstr(last_warning, dir) && strstr(last_warning, "folder"),
        "a folder as the cache is one warning naming it (%d): %s", warnings, last_warning);
  struct stat sb;
  if (stat("/dev/zero", &sb) == 0) {
    warnings = 0;
    CHECK(clgan_tuning_load("/dev/zero", "dev", got, 4, &n) == CLGAN_OK && n == 0,
          "/dev/zero loads nothing");
    CHECK(warnings == 1 && strstr(last_warning, "/dev/zero"),
          "/dev/zero as the cache is one warning naming it (%d): %s", warnings, last_warning);
  }
  /* A file of garbage: a few warnings, then one that says the rest is not reported. */
  char path[512];
  path_in_dir(path, sizeof path, "garbage.txt");
  char text[64 * 40];
  size_t used = 0;
  for (int i = 0; i < 60; i++) used += (size_t)snprintf(text + used, sizeof text - used, "junk %d\n", i);
  write_bytes(path, text, used);
  warnings = 0;
  CHECK(clgan_tuning_load(path, "dev", got, 4, &n) == CLGAN_OK && n == 0, "garbage loads nothing");
  CHECK(warnings > 1 && warnings <= 10, "60 bad lines give a few warnings, not 60 (%d)", warnings);
  /* The tuner's store refuses to replace a device node (as root, rename() would). */
  if (stat("/dev/zero", &sb) == 0) {
    clgan_tuning one = make_entry("Xgemm", 2, 5, 1.0);
    CHECK(clgan_tuning_store("/dev/zero", "dev", &one, 1) == CLGAN_WRITE_FAILED &&
              stat("/dev/zero", &sb) == 0 && S_ISCHR(sb.st_mode),
          "storing into /dev/zero is refused and leaves it a device");
  }
}

/* The training GEMMs of mlp (batch 128, the 784x256 layer) and a small odd one. */
static void check_training_gemms(clgan_device *dev, const char *what) {
  unsigned long long rng = 5;
  char label[256];
  snprintf(label, sizeof label, "%s: y = x W^T", what);
  test_gemm_case(dev,
                 (clgan_gemm_args){.trans_b = 1, .m = 128, .n = 256, .k = 784, .alpha = 1.0f,
                                   .lda = 784, .ldb = 784, .ldc = 256},
                 &rng, label);
  snprintf(label, sizeof label, "%s: dW = dy^T x", what);
  test_gemm_case(dev,
                 (clgan_gemm_args){.trans_a = 1, .m = 256, .n = 784, .k = 128, .alpha = 1.0f,
                                   .lda = 256, .ldb = 784, .ldc = 784},
                 &rng, label);
  snprintf(label, sizeof label, "%s: odd sizes", what);
  test_gemm_case(dev,
                 (clgan_gemm_args){.m = 37, .n = 29, .k = 53, .alpha = 1.0f, .lda = 53, .ldb = 29,
                                   .ldc = 29},
                 &rng, label);
}

/* Each bad set stored for this device: the device opens without a crash, one warning names the
 * cache file and the device key, and training's GEMMs stay right. */
static void test_device_with_bad_sets(void) {
  char path[512], key[1024], line[2048];
  path_in_dir(path, sizeof path, "bad-sets.txt");
  setenv("CLGAN_TUNING_FILE", path, 1);
  clgan_device *dev = test_open_device();
  clgan_device_tuning_key(dev, key, sizeof key);
  clgan_device_close(dev);
  static const struct {
    const char *kernel, *name;
    size_t value;
  } bad[] = {{"XgemmDirect", "WGD", 0}, {"Xgemm", "MWG", 0}, {"Xgemm", "KWG", 3},
             {"Xgemm", "MDIMC", 0},     {"Xgemm", "VWM", 3}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    clgan_tuning e = shipped_with(bad[i].kernel, bad[i].name, bad[i].value);
    size_t used = (size_t)snprintf(line, sizeof line, "%s\t%s\t1.0\t", key, e.kernel);
    for (int j = 0; j < e.count; j++)
      used += (size_t)snprintf(line + used, sizeof line - used, "%s%s=%zu", j ? "," : "",
                               e.names[j], e.values[j]);
    snprintf(line + used, sizeof line - used, "\n");
    write_bytes(path, line, strlen(line));
    warnings = 0;
    last_warning[0] = '\0';
    dev = test_open_device();
    char what[128];
    snprintf(what, sizeof what, "%s %s=%zu", bad[i].kernel, bad[i].name, bad[i].value);
    CHECK(warnings == 1, "%s: one warning, got %d", what, warnings);
    CHECK(strstr(last_warning, path) && strstr(last_warning, key),
          "%s: the warning names the cache file and the key: %s", what, last_warning);
    check_training_gemms(dev, what);
    clgan_device_close(dev);
  }

  /* A good set (the shipped ones, stored in the cache): no warning, checked once, kept. */
  size_t used = 0;
  clgan_tuning all[8];
  int n = clgan_tuning_builtin_all(all, 8);
  for (int i = 0; i < n; i++) {
    used += (size_t)snprintf(line + used, sizeof line - used, "%s\t%s\t1.0\t", key, all[i].kernel);
    for (int j = 0; j < all[i].count; j++)
      used += (size_t)snprintf(line + used, sizeof line - used, "%s%s=%zu", j ? "," : "",
                               all[i].names[j], all[i].values[j]);
    used += (size_t)snprintf(line + used, sizeof line - used, "\n");
  }
  write_bytes(path, line, used);
  warnings = 0;
  dev = test_open_device();
  CHECK(warnings == 0, "a good cached set gives no warning (%d): %s", warnings, last_warning);
  check_training_gemms(dev, "good cached sets");
  clgan_device_close(dev);
  unsetenv("CLGAN_TUNING_FILE");
}

/* ---- Issue 11: the tuning class, and which source wins ---- */

static clgan_device_info fake_info(clgan_device_type type, const char *platform, const char *vendor,
                                   const char *name, const char *version, const char *arch) {
  clgan_device_info info;
  memset(&info, 0, sizeof info);
  info.type = type;
  snprintf(info.platform_name, sizeof info.platform_name, "%s", platform);
  snprintf(info.vendor, sizeof info.vendor, "%s", vendor);
  snprintf(info.name, sizeof info.name, "%s", name);
  snprintf(info.version, sizeof info.version, "%s", version);
  snprintf(info.driver, sizeof info.driver, "3.1+debian");
  snprintf(info.arch, sizeof info.arch, "%s", arch);
  info.max_work_group = 4096;
  info.local_mem = 1 << 20;
  return info;
}

#define POCL "Portable Computing Language"

static void test_tuning_class(void) {
  static const struct {
    clgan_device_type type;
    const char *platform, *vendor, *name, *version, *arch, *want;
  } cases[] = {
      /* PoCL 3.x, this machine and the Intel Xeon: the same class. */
      {CLGAN_DEVICE_CPU, POCL, "AuthenticAMD", "pthread-skylake-avx512-AMD EPYC",
       "OpenCL 3.0 PoCL HSTR: pthread-x86_64-pc-linux-gnu-skylake-avx512", "",
       "pocl:skylake-avx512"},
      {CLGAN_DEVICE_CPU, POCL, "GenuineIntel", "pthread-skylake-avx512-Intel(R) Xeon(R) Processor",
       "", "", "pocl:skylake-avx512"},
      {CLGAN_DEVICE_CPU, POCL, "AuthenticAMD", "pthread-znver2-AMD EPYC 7R32", "", "",
       "pocl:znver2"},
      /* PoCL 4 and later call the driver "cpu"; its variants. */
      {CLGAN_DEVICE_CPU, POCL, "GenuineIntel",
       "cpu-haswell-Intel(R) Core(TM) i7-4790 CPU @ 3.60GHz", "", "", "pocl:haswell"},
      {CLGAN_DEVICE_CPU, POCL, "AuthenticAMD", "cpu-x86-64-v3-AMD Ryzen 7 5800X 8-Core Processor",
       "", "", "pocl:x86-64-v3"},
      {CLGAN_DEVICE_CPU, POCL, "GenuineIntel",
       "basic-icelake-server-Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz", "", "",
       "pocl:icelake-server"},
      {CLGAN_DEVICE_CPU, POCL, "AuthenticAMD", "cpu-minimal-znver3-AMD EPYC 7763 64-Core Processor",
       "", "", "pocl:znver3"},
      {CLGAN_DEVICE_CPU, POCL, "ARM", "pthread-cortex-a72-ARM Cortex-A72", "", "",
       "pocl:cortex-a72"},
      {CLGAN_DEVICE_CPU, POCL, "Apple", "cpu-apple-m1-Apple M1", "", "", "pocl:apple-m1"},
      /* PoCL before 1.8 wrote no target into the name: its binary string has it. */
      {CLGAN_DEVICE_CPU, POCL, "GenuineIntel", "pthread-Intel(R) Core(TM) i7-4790 CPU @ 3.60GHz",
       "OpenCL 1.2 pocl HSTR: pthread-x86_64-pc-linux-gnu-haswell", "", "pocl:haswell"},
      {CLGAN_DEVICE_CPU, POCL, "GenuineIntel", "pthread-Intel(R) Xeon(R)", "OpenCL 1.2 pocl", "",
       "pocl:unknown"},
      /* GPUs: vendor and architecture, else vendor and name. */
      {CLGAN_DEVICE_GPU, "NVIDIA CUDA", "NVIDIA Corporation", "NVIDIA H100 80GB HBM3",
       "OpenCL 3.0 CUDA", "sm_90", "nvidia:sm_90"},
      {CLGAN_DEVICE_GPU, "NVIDIA CUDA", "NVIDIA Corporation", "NVIDIA GeForce RTX 3090",
       "OpenCL 3.0 CUDA", "", "nvidia:nvidia-geforce-rtx-3090"},
      {CLGAN_DEVICE_GPU, "AMD Accelerated Parallel Processing", "Advanced Micro Devices, Inc.",
       "gfx90a:sramecc+:xnack-", "OpenCL 2.0", "gfxip-9.0", "amd:gfx90a"},
      {CLGAN_DEVICE_GPU, "AMD Accelerated Parallel Processing", "Advanced Micro Devices, Inc.",
       "Ellesmere", "OpenCL 2.0", "gfxip-8.0", "amd:gfxip-8.0"},
      {CLGAN_DEVICE_GPU, "Intel(R) OpenCL Graphics", "Intel(R) Corporation",
       "Intel(R) Arc(TM) A770 Graphics", "OpenCL 3.0 NEO", "ip-12.55.8", "intel:ip-12.55.8"},
      /* PoCL's GPU drivers are GPUs: classed by vendor, not by a CPU target. */
      {CLGAN_DEVICE_GPU, POCL, "NVIDIA Corporation", "NVIDIA H100 80GB HBM3", "", "sm_90",
       "nvidia:sm_90"},
      {CLGAN_DEVICE_ACCELERATOR, "Mystery", "Mystery Labs", "MX-1 (TM) Accelerator", "", "",
       "mystery:mx-1-accelerator"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    clgan_device_info info = fake_info(cases[i].type, cases[i].platform, cases[i].vendor,
                                       cases[i].name, cases[i].version, cases[i].arch);
    char cls[128];
    clgan_tuning_class(&info, cls, sizeof cls);
    CHECK(!strcmp(cls, cases[i].want), "class of '%s': want %s, got %s", cases[i].name,
          cases[i].want, cls);
  }
  clgan_tuning e[8];
  CHECK(clgan_tuning_builtin_for("pocl:skylake-avx512", e, 8) == 3, "shipped sets for "
        "pocl:skylake-avx512");
  CHECK(clgan_tuning_builtin_for("pocl:haswell", e, 8) == 0, "none shipped for pocl:haswell");
  CHECK(clgan_tuning_builtin_for("pocl:", e, 8) == 3, "the pocl family has the shipped sets");
  CHECK(clgan_tuning_builtin_for("pocl", e, 8) == 0, "a family needs its ':'");
}

/* Writes the cache lines for key: the shipped sets (valid) or one set of them broken. */
static void write_cache(const char *path, const char *key, int broken) {
  char text[4096];
  size_t used = 0;
  clgan_tuning all[8];
  int n = clgan_tuning_builtin_all(all, 8);
  for (int i = 0; i < n; i++) {
    used += (size_t)snprintf(text + used, sizeof text - used, "%s\t%s\t1.0\t", key, all[i].kernel);
    for (int j = 0; j < all[i].count; j++)
      used += (size_t)snprintf(text + used, sizeof text - used, "%s%s=%zu", j ? "," : "",
                               all[i].names[j], broken && j == 1 ? (size_t)0 : all[i].values[j]);
    used += (size_t)snprintf(text + used, sizeof text - used, "\n");
    if (broken) break; /* XgemmDirect with MDIMCD=0 alone */
  }
  write_bytes(path, text, used);
}

static void check_source(const clgan_device_info *info, const clgan_device_cfg *cfg,
                         clgan_tuning_source want, int want_wanted, const char *says,
                         const char *what) {
  clgan_tuning_status ts;
  char text[1400];
  clgan_tuning_lookup(info, cfg, &ts);
  clgan_tuning_describe(&ts, text, sizeof text);
  CHECK(ts.source == want, "%s: source %s, want %s (%s)", what, clgan_tuning_source_name(ts.source),
        clgan_tuning_source_name(want), text);
  CHECK(clgan_tuning_wanted(&ts) == want_wanted, "%s: tuning wanted %d, want %d", what,
        clgan_tuning_wanted(&ts), want_wanted);
  CHECK(strstr(text, says) != NULL, "%s: '%s' does not say '%s'", what, text, says);
}

static void test_which_source_wins(void) {
  char path[512], other[512], key[1024];
  path_in_dir(path, sizeof path, "wins.txt");
  path_in_dir(other, sizeof other, "no-such-cache.txt");
  clgan_device_info epyc = fake_info(CLGAN_DEVICE_CPU, POCL, "AuthenticAMD",
                                     "pthread-skylake-avx512-AMD EPYC", "", "");
  clgan_device_info xeon = fake_info(CLGAN_DEVICE_CPU, POCL, "GenuineIntel",
                                     "pthread-skylake-avx512-Intel(R) Xeon(R) Processor", "", "");
  clgan_device_info haswell = fake_info(CLGAN_DEVICE_CPU, POCL, "GenuineIntel",
                                        "cpu-haswell-Intel(R) Core(TM) i7-4790 CPU", "", "");
  clgan_device_info h100 = fake_info(CLGAN_DEVICE_GPU, "NVIDIA CUDA", "NVIDIA Corporation",
                                     "NVIDIA H100 80GB HBM3", "", "sm_90");
  /* CLBlast's tuning matters where CLBlast computes the GEMMs: a CPU's default is clgan's packed
   * kernels, which want no tuning (the last checks). */
  clgan_device_cfg none = {.tuning_file = other, .gemm = CLGAN_GEMM_CLBLAST},
                   cached = {.tuning_file = path, .gemm = CLGAN_GEMM_CLBLAST};

  /* No cache: the class decides, whoever made the CPU. */
  check_source(&epyc, &none, CLGAN_TUNING_BUILTIN, 0, "built-in for pocl:skylake-avx512", "EPYC");
  check_source(&xeon, &none, CLGAN_TUNING_BUILTIN, 0, "built-in for pocl:skylake-avx512", "Xeon");
  check_source(&haswell, &none, CLGAN_TUNING_NONE, 1, "none for pocl:haswell", "haswell");
  check_source(&h100, &none, CLGAN_TUNING_NONE, 0, "CLBlast's defaults", "H100: its defaults");
  setenv("CLGAN_TUNING_FILE", other, 1); /* a NULL cfg: the default cache */
  check_source(&epyc, NULL, CLGAN_TUNING_BUILTIN, 0, "built-in", "a NULL cfg");
  unsetenv("CLGAN_TUNING_FILE");
  clgan_device_cfg packed = {.tuning_file = other};
  check_source(&haswell, &packed, CLGAN_TUNING_NONE, 0, "none for pocl:haswell",
               "haswell, packed kernels (the default): no advice");

  /* The cache's sets for the exact device win over the built-in ones, and stand for none. */
  clgan_tuning_device_key(&epyc, key, sizeof key);
  write_cache(path, key, 0);
  check_source(&epyc, &cached, CLGAN_TUNING_CACHED, 0, path, "EPYC, cached");
  check_source(&xeon, &cached, CLGAN_TUNING_BUILTIN, 0, "built-in", "Xeon, another's cache");
  clgan_tuning_device_key(&haswell, key, sizeof key);
  write_cache(path, key, 0);
  check_source(&haswell, &cached, CLGAN_TUNING_CACHED, 0, path, "haswell, cached");
  /* A cached set that cannot be right counts for nothing. */
  write_cache(path, key, 1);
  warnings = 0;
  check_source(&haswell, &cached, CLGAN_TUNING_NONE, 1, "none", "haswell, a broken set cached");
  clgan_tuning_device_key(&epyc, key, sizeof key);
  write_cache(path, key, 1);
  check_source(&epyc, &cached, CLGAN_TUNING_BUILTIN, 0, "built-in", "EPYC, a broken set cached");

  /* A cache file of the format before issue 11, keyed "name | driver | platform", still reads. */
  const char old[] = "pthread-skylake-avx512-AMD EPYC | 3.1+debian | Portable Computing Language"
                     "\tGemmRoutine\t37.2\tXGEMM_MIN_INDIRECT_SIZE=1\n";
  write_bytes(path, old, sizeof old - 1);
  check_source(&epyc, &cached, CLGAN_TUNING_CACHED, 0, path, "EPYC, an older cache file");

  /* A class borrowed ($CLGAN_TUNING_CLASS), or none; and tuning off. */
  clgan_device_cfg borrow = {.tuning_file = other, .tuning_class = "pocl:skylake-avx512",
                             .gemm = CLGAN_GEMM_CLBLAST};
  check_source(&haswell, &borrow, CLGAN_TUNING_BUILTIN, 0, "built-in for pocl:skylake-avx512",
               "haswell borrowing skylake-avx512");
  clgan_device_cfg nothing = {.tuning_file = other, .tuning_class = "none",
                              .gemm = CLGAN_GEMM_CLBLAST};
  check_source(&epyc, &nothing, CLGAN_TUNING_NONE, 1, "none for none", "EPYC with class none");
  clgan_device_cfg off = {.tuning_file = path, .no_tuning = 1};
  check_source(&epyc, &off, CLGAN_TUNING_OFF, 0, "off", "EPYC, tuning off");
  check_source(&haswell, &off, CLGAN_TUNING_OFF, 0, "off", "haswell, tuning off: no advice");
  CHECK(warnings == 0, "looking up gives no warnings (%d): %s", warnings, last_warning);
}

/* What an open reports: the same as the lookup for the device, and the cache's sets once they
 * pass the check on the device. */
static void test_open_reports_source(void) {
  char path[512], key[1024], cls[128];
  path_in_dir(path, sizeof path, "open-source.txt");
  unlink(path);
  setenv("CLGAN_TUNING_FILE", path, 1);
  clgan_device *dev = test_open_device();
  clgan_tuning_status ts, want;
  clgan_device_tuning_status(dev, &ts);
  clgan_tuning_lookup(clgan_device_get_info(dev), NULL, &want);
  clgan_tuning_class(clgan_device_get_info(dev), cls, sizeof cls);
  clgan_tuning shipped[8];
  int own = clgan_tuning_builtin_for(cls, shipped, 8) > 0;
  CHECK(ts.source == (own ? CLGAN_TUNING_BUILTIN : CLGAN_TUNING_NONE) && ts.source == want.source,
        "open with no cache: %s, the lookup %s", clgan_tuning_source_name(ts.source),
        clgan_tuning_source_name(want.source));
  CHECK(!strcmp(ts.cls, cls) && !strcmp(ts.path, path), "open reports class %s and file %s",
        ts.cls, ts.path);
  clgan_device_tuning_key(dev, key, sizeof key);
  clgan_device_close(dev);

  setenv("CLGAN_TUNING_CLASS", "pocl:skylake-avx512", 1);
  dev = test_open_device();
  clgan_device_tuning_status(dev, &ts);
  CHECK(ts.source == CLGAN_TUNING_BUILTIN && !strcmp(ts.cls, "pocl:skylake-avx512"),
        "$CLGAN_TUNING_CLASS borrows a class's sets: %s for %s",
        clgan_tuning_source_name(ts.source), ts.cls);
  check_training_gemms(dev, "a borrowed class");
  clgan_device_close(dev);

  write_cache(path, key, 0);
  dev = test_open_device();
  clgan_device_tuning_status(dev, &ts);
  CHECK(ts.source == CLGAN_TUNING_CACHED, "the cache wins over the built-in sets: %s",
        clgan_tuning_source_name(ts.source));
  clgan_device_close(dev);

  setenv("CLGAN_TUNING_CLASS", "none", 1);
  write_cache(path, key, 1);
  warnings = 0;
  dev = test_open_device();
  clgan_device_tuning_status(dev, &ts);
  CHECK(ts.source == CLGAN_TUNING_NONE && warnings == 1,
        "a broken cached set and no class: none (%s), one warning (%d)",
        clgan_tuning_source_name(ts.source), warnings);
  clgan_device_close(dev);
  unsetenv("CLGAN_TUNING_CLASS");

  dev = test_open_device_cfg((clgan_device_cfg){.no_tuning = 1});
  clgan_device_tuning_status(dev, &ts);
  CHECK(ts.source == CLGAN_TUNING_OFF, "no_tuning: %s", clgan_tuning_source_name(ts.source));
  clgan_device_close(dev);
  unsetenv("CLGAN_TUNING_FILE");
}

static int progress_lines;
static void count_progress(const char *line, void *user) {
  (void)user;
  progress_lines++;
  fprintf(stderr, "  tune: %s\n", line);
}

/* One candidate on two small shapes: an entry is produced and stored, GEMM stays right. Where
 * clgan ships a set for the device, that is the first candidate and CLBlast has its program
 * already (the GEMM above built it), so this costs no kernel build. */
static void test_tune_smoke(void) {
  clgan_device *dev = test_open_device();
  const clgan_tune_shape shapes[] = {{48, 40, 56, 0, 1, 1}, {40, 56, 48, 1, 0, 2}};
  clgan_tune_cfg cfg = {.budget_s = 60, .max_candidates = 1, .reps = 2, .seed = 3,
                        .skip_baseline = 1, .shapes = shapes, .nshapes = 2,
                        .progress = count_progress};
  clgan_tune_result res;
  clgan_status st = clgan_tune(dev, &cfg, &res);
  CHECK(st == CLGAN_OK, "clgan_tune returned %s", clgan_status_name(st));
  CHECK(res.tried == 1, "one candidate tried, got %d", res.tried);
  CHECK(progress_lines > 0, "progress reported");
  CHECK(res.count >= 1, "at least one winner (count %d)", res.count);
  int has_xgemm = 0, has_routine = 0;
  for (int i = 0; i < res.count; i++) {
    if (!strcmp(res.entries[i].kernel, "Xgemm") && res.entries[i].count == 16) has_xgemm = 1;
    if (!strcmp(res.entries[i].kernel, "GemmRoutine") && res.entries[i].count == 1) has_routine = 1;
  }
  CHECK(has_xgemm && has_routine, "the first candidate, an Xgemm set, and the cross-over are "
        "stored");
  CHECK(res.nshapes == 2 && res.shapes[0].after_gflops > 0 && res.shapes[1].after_gflops > 0,
        "the winners were timed");

  char path[512], key[512];
  path_in_dir(path, sizeof path, "tuned.txt");
  clgan_device_tuning_key(dev, key, sizeof key);
  CHECK(clgan_tuning_store(path, key, res.entries, res.count) == CLGAN_OK, "store");
  clgan_tuning got[8];
  int n = 0;
  CHECK(clgan_tuning_load(path, key, got, 8, &n) == CLGAN_OK && n == res.count,
        "the stored entries load back (n=%d, want %d)", n, res.count);
  for (int i = 0; i < n && i < res.count; i++)
    CHECK(same_entry(&got[i], &res.entries[i]), "stored entry %d", i);
  CHECK(clgan_tuning_apply(dev, got, n) == CLGAN_OK, "CLBlast accepts the stored entries");

  /* GEMM with the tuned set in effect, at a shape the tuner did not see. */
  unsigned long long rng = 11;
  test_gemm_case(dev,
                 (clgan_gemm_args){.m = 70, .n = 33, .k = 91, .alpha = 0.5f, .beta = 0.0f,
                                   .lda = 91, .ldb = 33, .ldc = 33},
                 &rng, "gemm after tuning");

  /* Bad configurations are refused before any work. */
  clgan_tune_shape zero = {0, 4, 4, 0, 0, 1};
  clgan_tune_cfg bad = {.shapes = &zero, .nshapes = 1};
  CHECK(clgan_tune(dev, &bad, &res) == CLGAN_INVALID_ARGUMENT, "a zero dimension is refused");
  clgan_device_close(dev);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/clgan-test-tuning-%ld", (long)getpid());
  clgan_set_log(count_warnings, NULL);
  test_round_trip();
  test_corrupt_caches();
  test_validation();
  test_cache_file_kinds();
  test_device_with_corrupt_cache();
  test_device_with_bad_sets();
  test_tuning_class();
  test_which_source_wins();
  test_open_reports_source();
  test_tune_smoke();
  clgan_set_log(NULL, NULL);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return test_finish();
}
