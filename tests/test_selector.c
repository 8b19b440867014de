/* Device selector parsing and matching: pure functions, no device needed. */
#include <string.h>

#include "harness.h"

static clgan_device_info dev(int index, int p, int d, clgan_device_type t, const char *name,
                             const char *platform) {
  clgan_device_info i;
  memset(&i, 0, sizeof i);
  i.index = index;
  i.platform = p;
  i.device = d;
  i.type = t;
  strcpy(i.name, name);
  strcpy(i.platform_name, platform);
  strcpy(i.vendor, "vendor");
  return i;
}

static int pick(const char *text, const clgan_device_info *list, int n) {
  clgan_selector s;
  if (clgan_selector_parse(text, &s) != CLGAN_OK) return -2;
  return clgan_selector_match(&s, list, n);
}

int main(void) {
  clgan_device_info list[] = {
      dev(0, 0, 0, CLGAN_DEVICE_CPU, "pthread-skylake-avx512-AMD EPYC", "Portable Computing Language"),
      dev(1, 1, 0, CLGAN_DEVICE_GPU, "NVIDIA H100 80GB HBM3", "NVIDIA CUDA"),
      dev(2, 1, 1, CLGAN_DEVICE_GPU, "NVIDIA A100", "NVIDIA CUDA"),
      dev(3, 2, 0, CLGAN_DEVICE_ACCELERATOR, "Intel FPGA Emulator", "Intel(R) FPGA"),
  };
  int n = 4;

  CHECK(pick(NULL, list, n) == 1, "default picks the first GPU");
  CHECK(pick("", list, n) == 1, "empty picks the first GPU");
  CHECK(pick("  ", list, n) == 1, "blank picks the first GPU");
  CHECK(pick(NULL, list, 1) == 0, "default falls back to the first device without a GPU");
  CHECK(pick(NULL, list, 0) == -1, "no device at all matches nothing");
  CHECK(pick("0", list, n) == 0, "flat index 0");
  CHECK(pick("2", list, n) == 2, "flat index 2");
  CHECK(pick("9", list, n) == -1, "flat index out of range");
  CHECK(pick("1:1", list, n) == 2, "P:D 1:1");
  CHECK(pick("2:0", list, n) == 3, "P:D 2:0");
  CHECK(pick("0:1", list, n) == -1, "P:D that does not exist");
  CHECK(pick("1:", list, n) == -2, "'1:' is malformed");
  CHECK(pick(":1", list, n) == -2, "':1' is malformed");
  CHECK(pick("a:b", list, n) == -2, "'a:b' is malformed");
  CHECK(pick("cpu", list, n) == 0, "type cpu");
  CHECK(pick("GPU", list, n) == 1, "type GPU, any case");
  CHECK(pick("accelerator", list, n) == 3, "type accelerator");
  strcpy(list[0].platform_version, "OpenCL 3.0 PoCL 3.1+debian");
  CHECK(pick("pocl", list, n) == 0, "'pocl' matches PoCL through its platform version");
  CHECK(pick("portable", list, n) == 0, "platform-name substring, any case");
  CHECK(pick("nvidia", list, n) == 1, "name substring picks the first match");
  CHECK(pick("a100", list, n) == 2, "device-name substring, any case");
  CHECK(pick("epyc", list, n) == 0, "device-name substring");
  CHECK(pick("radeon", list, n) == -1, "a name that matches nothing");
  CHECK(pick("gpu", list, 1) == -1, "type with no such device");

  clgan_selector s;
  CHECK(clgan_selector_parse(" 0:1 ", &s) == CLGAN_OK && s.kind == CLGAN_SEL_PAIR &&
            s.platform == 0 && s.device == 1,
        "P:D parses with surrounding blanks");
  char longsel[300];
  memset(longsel, 'x', sizeof longsel - 1);
  longsel[sizeof longsel - 1] = '\0';
  CHECK(clgan_selector_parse(longsel, &s) == CLGAN_INVALID_ARGUMENT, "an overlong selector is refused");
  CHECK(!strcmp(clgan_device_type_name(CLGAN_DEVICE_ACCELERATOR), "accelerator"), "type name");
  /* Every row of CLGAN_DEVICE_TYPE_TABLE: its own bit, its name back, and a selector word. */
  static const struct {
    clgan_device_type type;
    const char *name;
  } rows[] = {
#define X(e, name) {CLGAN_DEVICE_##e, name},
      CLGAN_DEVICE_TYPE_TABLE(X)
#undef X
  };
  CHECK(CLGAN_DEVICE_TYPE_COUNT == 4, "four device types");
  for (int i = 0; i < CLGAN_DEVICE_TYPE_COUNT; i++) {
    CHECK(rows[i].type == (clgan_device_type)(1 << i) &&
              !strcmp(clgan_device_type_name(rows[i].type), rows[i].name) &&
              clgan_selector_parse(rows[i].name, &s) == CLGAN_OK && s.kind == CLGAN_SEL_TYPE &&
              s.type == rows[i].type,
          "device type %s: bit %d, its name, a selector", rows[i].name, i);
  }
  CHECK(clgan_selector_parse("ACC", &s) == CLGAN_OK && s.kind == CLGAN_SEL_TYPE &&
            s.type == CLGAN_DEVICE_ACCELERATOR,
        "'acc' selects accelerators");
  CHECK(!strcmp(clgan_device_type_name((clgan_device_type)3), "other"), "a mixed value is other");
  CHECK(!strcmp(clgan_status_name(CLGAN_NO_DEVICE), "CLGAN_NO_DEVICE"), "status name");
  CHECK(strlen(clgan_status_message(CLGAN_BUILD_FAILED)) > 0, "status message");
  CHECK(!strcmp(clgan_status_name((clgan_status)999), "CLGAN_UNKNOWN_STATUS"), "unknown status");
  return test_finish();
}
