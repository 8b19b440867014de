/* The status table and the mappings into it. Every entry of CLGAN_STATUS_TABLE has its name
 * ("CLGAN_" and the entry) and its message, names are unique, values out of range get the
 * unknown name and message; OpenCL and CLBlast codes map to the statuses listed here (the
 * mapping functions are device-layer internals: this test includes src/device/internal.h and
 * the CL and CLBlast headers on purpose), every code maps into the table, and a failed call is
 * reported once with its text, code name, file and line. Host code only: no device needed. */
#include <clblast_c.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "device/internal.h"
#include "harness.h"

static char logged[4096];
static int log_calls;

static void capture(const char *level, const char *text, void *user) {
  (void)user;
  log_calls++;
  snprintf(logged, sizeof logged, "%s: %s", level, text);
}

static void check_table(void) {
  static const struct {
    clgan_status s;
    const char *name, *message;
  } table[] = {
#define X_ROW(n, m) {CLGAN_##n, "CLGAN_" #n, m},
      CLGAN_STATUS_TABLE(X_ROW)
#undef X_ROW
  };
  int n = (int)(sizeof table / sizeof table[0]);
  CHECK(n == CLGAN_STATUS_COUNT && CLGAN_OK == 0, "%d entries, CLGAN_STATUS_COUNT %d", n,
        CLGAN_STATUS_COUNT);
  for (int i = 0; i < n; i++) {
    CHECK((int)table[i].s == i, "%s is %d, its place in the table", table[i].name, i);
    CHECK(!strcmp(clgan_status_name(table[i].s), table[i].name), "name of %d: '%s', want '%s'",
          i, clgan_status_name(table[i].s), table[i].name);
    CHECK(!strcmp(clgan_status_message(table[i].s), table[i].message) && table[i].message[0],
          "message of %s: '%s', want '%s'", table[i].name, clgan_status_message(table[i].s),
          table[i].message);
    for (int j = 0; j < i; j++)
      CHECK(strcmp(clgan_status_name(table[i].s), clgan_status_name(table[j].s)) &&
                strcmp(clgan_status_message(table[i].s), clgan_status_message(table[j].s)),
            "%s and %s have their own name and message", table[i].name, table[j].name);
  }
  const int outside[] = {-1, CLGAN_STATUS_COUNT, CLGAN_STATUS_COUNT + 1, 1000, INT_MIN, INT_MAX};
  for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
    clgan_status s = (clgan_status)outside[i];
    CHECK(!strcmp(clgan_status_name(s), "CLGAN_UNKNOWN_STATUS") &&
              !strcmp(clgan_status_message(s), "unknown status"),
          "%d is outside the table: '%s', '%s'", outside[i], clgan_status_name(s),
          clgan_status_message(s));
  }
}

static void check_from_cl(void) {
  static const struct {
    cl_int code;
    clgan_status want;
    const char *name;
  } cases[] = {
      {CL_SUCCESS, CLGAN_OK, "CL_SUCCESS"},
      {CL_MEM_OBJECT_ALLOCATION_FAILURE, CLGAN_DEVICE_OUT_OF_MEMORY,
       "CL_MEM_OBJECT_ALLOCATION_FAILURE"},
      {CL_OUT_OF_RESOURCES, CLGAN_DEVICE_OUT_OF_MEMORY, "CL_OUT_OF_RESOURCES"},
      {CL_INVALID_BUFFER_SIZE, CLGAN_DEVICE_OUT_OF_MEMORY, "CL_INVALID_BUFFER_SIZE"},
      {CL_OUT_OF_HOST_MEMORY, CLGAN_HOST_OUT_OF_MEMORY, "CL_OUT_OF_HOST_MEMORY"},
      {CL_BUILD_PROGRAM_FAILURE, CLGAN_BUILD_FAILED, "CL_BUILD_PROGRAM_FAILURE"},
      {CL_COMPILE_PROGRAM_FAILURE, CLGAN_BUILD_FAILED, "CL_COMPILE_PROGRAM_FAILURE"},
      {CL_INVALID_BUILD_OPTIONS, CLGAN_BUILD_FAILED, "CL_INVALID_BUILD_OPTIONS"},
      {CL_INVALID_KERNEL_NAME, CLGAN_KERNEL_NOT_FOUND, "CL_INVALID_KERNEL_NAME"},
      {CL_DEVICE_NOT_FOUND, CLGAN_NO_DEVICE, "CL_DEVICE_NOT_FOUND"},
      {-1001, CLGAN_NO_PLATFORM, "CL_PLATFORM_NOT_FOUND_KHR"},
      {CL_INVALID_VALUE, CLGAN_OPENCL_ERROR, "CL_INVALID_VALUE"},
      {CL_INVALID_KERNEL_ARGS, CLGAN_OPENCL_ERROR, "CL_INVALID_KERNEL_ARGS"},
      {CL_INVALID_DEVICE_PARTITION_COUNT, CLGAN_OPENCL_ERROR,
       "CL_INVALID_DEVICE_PARTITION_COUNT"},
      {-9999, CLGAN_OPENCL_ERROR, "unknown OpenCL error"},
      {7, CLGAN_OPENCL_ERROR, "unknown OpenCL error"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    clgan_status st = clgan_status_from_cl(cases[i].code);
    CHECK(st == cases[i].want, "OpenCL %d (%s) maps to %s, want %s", (int)cases[i].code,
          cases[i].name, clgan_status_name(st), clgan_status_name(cases[i].want));
    CHECK(!strcmp(clgan_cl_error_name(cases[i].code), cases[i].name), "OpenCL %d is named '%s', "
          "want '%s'", (int)cases[i].code, clgan_cl_error_name(cases[i].code), cases[i].name);
  }
  /* Every code OpenCL 1.2 defines (0 to -68) and a few beyond: a status in the table, OK only
   * for CL_SUCCESS, and each defined code has its own name. */
  int bad = 0, named = 0;
  for (int code = -70; code <= 0; code++) {
    clgan_status st = clgan_status_from_cl(code);
    bad += st < 0 || st >= CLGAN_STATUS_COUNT || (st == CLGAN_OK) != (code == 0);
    named += strncmp(clgan_cl_error_name(code), "CL_", 3) == 0;
  }
  CHECK(bad == 0, "%d of the OpenCL codes -70..0 map outside the table or to OK wrongly", bad);
  CHECK(named >= 59, "%d of the OpenCL codes -70..0 have a CL_ name (OpenCL 1.2 defines 59)", named);
}

static void check_from_clblast(void) {
  static const struct {
    int code;
    clgan_status want;
  } cases[] = {
      {CLBlastSuccess, CLGAN_OK},
      {CLBlastOpenCLOutOfResources, CLGAN_DEVICE_OUT_OF_MEMORY}, /* OpenCL codes pass through */
      {CLBlastInvalidKernel, CLGAN_OPENCL_ERROR},
      {CL_BUILD_PROGRAM_FAILURE, CLGAN_BUILD_FAILED},
      {CLBlastInvalidDimension, CLGAN_INVALID_ARGUMENT},
      {CLBlastInvalidLeadDimA, CLGAN_INVALID_ARGUMENT},
      {CLBlastInvalidLeadDimC, CLGAN_INVALID_ARGUMENT},
      {CLBlastInsufficientMemoryB, CLGAN_INVALID_ARGUMENT},
      {CLBlastInvalidMatrixC, CLGAN_INVALID_ARGUMENT},
      {CLBlastInvalidOverrideKernel, CLGAN_INVALID_ARGUMENT},
      {CLBlastMissingOverrideParameter, CLGAN_INVALID_ARGUMENT},
      {CLBlastInvalidLocalMemUsage, CLGAN_UNSUPPORTED},
      {CLBlastNotImplemented, CLGAN_CLBLAST_ERROR},
      {CLBlastNoDoublePrecision, CLGAN_CLBLAST_ERROR},
      {CLBlastDatabaseError, CLGAN_CLBLAST_ERROR},
      {CLBlastUnknownError, CLGAN_CLBLAST_ERROR},
      {CLBlastUnexpectedError, CLGAN_CLBLAST_ERROR},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    clgan_status st = clgan_status_from_clblast(cases[i].code);
    CHECK(st == cases[i].want, "CLBlast %d maps to %s, want %s", cases[i].code,
          clgan_status_name(st), clgan_status_name(cases[i].want));
  }
  int bad = 0;
  for (int code = -2100; code <= 0; code++) {
    clgan_status st = clgan_status_from_clblast(code);
    bad += st < 0 || st >= CLGAN_STATUS_COUNT || (st == CLGAN_OK) != (code == 0);
  }
  CHECK(bad == 0, "%d of the CLBlast codes -2100..0 map outside the table or to OK wrongly", bad);
}

/* A failed call is reported once: the status's message, the call's text, the code's name and
 * number, file and line; the status comes back unchanged. */
static void check_fail_reports(void) {
  clgan_set_log(capture, NULL);
  log_calls = 0;
  clgan_status st = clgan_cl_fail(CL_OUT_OF_RESOURCES, "clEnqueueNDRangeKernel(q, k)", "x.c", 42);
  CHECK(st == CLGAN_DEVICE_OUT_OF_MEMORY && log_calls == 1, "cl_fail: %s, %d reports",
        clgan_status_name(st), log_calls);
  CHECK(strstr(logged, "error: ") == logged &&
            strstr(logged, clgan_status_message(CLGAN_DEVICE_OUT_OF_MEMORY)) &&
            strstr(logged, "clEnqueueNDRangeKernel(q, k)") &&
            strstr(logged, "CL_OUT_OF_RESOURCES (-5)") && strstr(logged, "x.c:42"),
        "cl_fail's report: %s", logged);
  log_calls = 0;
  st = clgan_clblast_fail(CLBlastInvalidLeadDimA, "CLBlastSgemm(...)", "y.c", 7);
  CHECK(st == CLGAN_INVALID_ARGUMENT && log_calls == 1, "clblast_fail: %s, %d reports",
        clgan_status_name(st), log_calls);
  CHECK(strstr(logged, "CLBlastSgemm(...)") && strstr(logged, "CLBlastInvalidLeadDimA (-1016)") &&
            strstr(logged, "y.c:7"),
        "clblast_fail's report: %s", logged);
  clgan_set_log(NULL, NULL);
}

int main(void) {
  check_table();
  check_from_cl();
  check_from_clblast();
  check_fail_reports();
  return test_finish();
}
