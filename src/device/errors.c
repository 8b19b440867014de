/* OpenCL and CLBlast error codes: their names, and how they map into clgan's status table.
 * Both mappings sit here, at the bottom of the device layer, so that tuning.c and gemm.c can
 * report CLBlast failures without calling each other. */
#include <clblast_c.h>
#include <stdio.h>

#include "device/internal.h"

#define CLGAN_CL_ERRORS(X)                                                                   \
  X(CL_SUCCESS) X(CL_DEVICE_NOT_FOUND) X(CL_DEVICE_NOT_AVAILABLE)                            \
  X(CL_COMPILER_NOT_AVAILABLE) X(CL_MEM_OBJECT_ALLOCATION_FAILURE) X(CL_OUT_OF_RESOURCES)    \
  X(CL_OUT_OF_HOST_MEMORY) X(CL_PROFILING_INFO_NOT_AVAILABLE) X(CL_MEM_COPY_OVERLAP)         \
  X(CL_IMAGE_FORMAT_MISMATCH) X(CL_IMAGE_FORMAT_NOT_SUPPORTED) X(CL_BUILD_PROGRAM_FAILURE)   \
  X(CL_MAP_FAILURE) X(CL_MISALIGNED_SUB_BUFFER_OFFSET)                                       \
  X(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST) X(CL_COMPILE_PROGRAM_FAILURE)              \
  X(CL_LINKER_NOT_AVAILABLE) X(CL_LINK_PROGRAM_FAILURE) X(CL_DEVICE_PARTITION_FAILED)        \
  X(CL_KERNEL_ARG_INFO_NOT_AVAILABLE) X(CL_INVALID_VALUE) X(CL_INVALID_DEVICE_TYPE)          \
  X(CL_INVALID_PLATFORM) X(CL_INVALID_DEVICE) X(CL_INVALID_CONTEXT)                          \
  X(CL_INVALID_QUEUE_PROPERTIES) X(CL_INVALID_COMMAND_QUEUE) X(CL_INVALID_HOST_PTR)          \
  X(CL_INVALID_MEM_OBJECT) X(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR) X(CL_INVALID_IMAGE_SIZE)    \
  X(CL_INVALID_SAMPLER) X(CL_INVALID_BINARY) X(CL_INVALID_BUILD_OPTIONS)                     \
  X(CL_INVALID_PROGRAM) X(CL_INVALID_PROGRAM_EXECUTABLE) X(CL_INVALID_KERNEL_NAME)           \
  X(CL_INVALID_KERNEL_DEFINITION) X(CL_INVALID_KERNEL) X(CL_INVALID_ARG_INDEX)               \
  X(CL_INVALID_ARG_VALUE) X(CL_INVALID_ARG_SIZE) X(CL_INVALID_KERNEL_ARGS)                   \
  X(CL_INVALID_WORK_DIMENSION) X(CL_INVALID_WORK_GROUP_SIZE) X(CL_INVALID_WORK_ITEM_SIZE)    \
  X(CL_INVALID_GLOBAL_OFFSET) X(CL_INVALID_EVENT_WAIT_LIST) X(CL_INVALID_EVENT)              \
  X(CL_INVALID_OPERATION) X(CL_INVALID_GL_OBJECT) X(CL_INVALID_BUFFER_SIZE)                  \
  X(CL_INVALID_MIP_LEVEL) X(CL_INVALID_GLOBAL_WORK_SIZE) X(CL_INVALID_PROPERTY)              \
  X(CL_INVALID_IMAGE_DESCRIPTOR) X(CL_INVALID_COMPILER_OPTIONS) X(CL_INVALID_LINKER_OPTIONS) \
  X(CL_INVALID_DEVICE_PARTITION_COUNT)

const char *clgan_cl_error_name(cl_int err) {
  switch (err) {
#define CLGAN_X_CASE(code) \
  case code:               \
    return #code;
    CLGAN_CL_ERRORS(CLGAN_X_CASE)
#undef CLGAN_X_CASE
    case -1001:
      return "CL_PLATFORM_NOT_FOUND_KHR";
    default:
      return "unknown OpenCL error";
  }
}

clgan_status clgan_status_from_cl(cl_int err) {
  switch (err) {
    case CL_SUCCESS:
      return CLGAN_OK;
    case CL_MEM_OBJECT_ALLOCATION_FAILURE:
    case CL_OUT_OF_RESOURCES:
    case CL_INVALID_BUFFER_SIZE:
      return CLGAN_DEVICE_OUT_OF_MEMORY;
    case CL_OUT_OF_HOST_MEMORY:
      return CLGAN_HOST_OUT_OF_MEMORY;
    case CL_BUILD_PROGRAM_FAILURE:
    case CL_COMPILE_PROGRAM_FAILURE:
    case CL_INVALID_BUILD_OPTIONS:
      return CLGAN_BUILD_FAILED;
    case CL_INVALID_KERNEL_NAME:
      return CLGAN_KERNEL_NOT_FOUND;
    case CL_DEVICE_NOT_FOUND:
      return CLGAN_NO_DEVICE;
    case -1001:
      return CLGAN_NO_PLATFORM;
    default:
      return CLGAN_OPENCL_ERROR;
  }
}

clgan_status clgan_cl_fail(cl_int err, const char *call, const char *file, int line) {
  clgan_status st = clgan_status_from_cl(err);
  clgan_error("%s: %s returned %s (%d) at %s:%d", clgan_status_message(st), call,
              clgan_cl_error_name(err), (int)err, file, line);
  return st;
}

static const char *clblast_name(CLBlastStatusCode c) {
  switch (c) {
    case CLBlastNotImplemented: return "CLBlastNotImplemented";
    case CLBlastInvalidMatrixA: return "CLBlastInvalidMatrixA";
    case CLBlastInvalidMatrixB: return "CLBlastInvalidMatrixB";
    case CLBlastInvalidMatrixC: return "CLBlastInvalidMatrixC";
    case CLBlastInvalidDimension: return "CLBlastInvalidDimension";
    case CLBlastInvalidLeadDimA: return "CLBlastInvalidLeadDimA";
    case CLBlastInvalidLeadDimB: return "CLBlastInvalidLeadDimB";
    case CLBlastInvalidLeadDimC: return "CLBlastInvalidLeadDimC";
    case CLBlastInsufficientMemoryA: return "CLBlastInsufficientMemoryA";
    case CLBlastInsufficientMemoryB: return "CLBlastInsufficientMemoryB";
    case CLBlastInsufficientMemoryC: return "CLBlastInsufficientMemoryC";
    case CLBlastInsufficientMemoryTemp: return "CLBlastInsufficientMemoryTemp";
    case CLBlastInvalidOverrideKernel: return "CLBlastInvalidOverrideKernel";
    case CLBlastMissingOverrideParameter: return "CLBlastMissingOverrideParameter";
    case CLBlastInvalidLocalMemUsage: return "CLBlastInvalidLocalMemUsage";
    case CLBlastDatabaseError: return "CLBlastDatabaseError";
    case CLBlastUnknownError: return "CLBlastUnknownError";
    case CLBlastUnexpectedError: return "CLBlastUnexpectedError";
    default: return c > -1000 ? clgan_cl_error_name((cl_int)c) : "CLBlast error";
  }
}

clgan_status clgan_status_from_clblast(int code) {
  CLBlastStatusCode c = (CLBlastStatusCode)code;
  if (c == CLBlastSuccess) return CLGAN_OK;
  if (c > -1000) return clgan_status_from_cl((cl_int)c);
  switch (c) {
    case CLBlastInvalidDimension:
    case CLBlastInvalidLeadDimA:
    case CLBlastInvalidLeadDimB:
    case CLBlastInvalidLeadDimC:
    case CLBlastInsufficientMemoryA:
    case CLBlastInsufficientMemoryB:
    case CLBlastInsufficientMemoryC:
    case CLBlastInvalidMatrixA:
    case CLBlastInvalidMatrixB:
    case CLBlastInvalidMatrixC:
    case CLBlastInvalidOverrideKernel:
    case CLBlastMissingOverrideParameter:
      return CLGAN_INVALID_ARGUMENT;
    case CLBlastInvalidLocalMemUsage:
      return CLGAN_UNSUPPORTED;
    default:
      return CLGAN_CLBLAST_ERROR;
  }
}

clgan_status clgan_clblast_fail(int code, const char *call, const char *file, int line) {
  clgan_status st = clgan_status_from_clblast(code);
  clgan_error("%s: %s returned %s (%d) at %s:%d", clgan_status_message(st), call,
              clblast_name((CLBlastStatusCode)code), code, file, line);
  return st;
}
