# The layering check (DESIGN.md "Layers, bottom up"; issue 9, "Layering the build enforces"),
# run by ctest as `layering` on the source tree:
#   cmake -DROOT=<source dir> -DINTERNAL_TESTS=test_a,test_b -P cmake/clgan_layering.cmake
# and as `layering_selftest`, which plants one violation of each kind in a scratch tree and
# passes only if each one, and nothing else, is reported:
#   cmake -DSELFTEST=<scratch dir> -P cmake/clgan_layering.cmake
#
# It reads #include lines and enforces two rules, and two more on calls.
# 1. OpenCL and CLBlast headers (CL/*, OpenCL/*, cl.h, opencl.h, clblast*.h) appear only in
#    src/device/. CMakeLists.txt links OpenCL and CLBlast PRIVATE and defines
#    CL_TARGET_OPENCL_VERSION for the device objects alone, but the headers sit in the system
#    include folder, where no link scope hides them: this check is what keeps them out.
# 2. clgan's own includes point down. A header is public (include/clgan/<name>.h, which belongs
#    to the layer that implements it) or internal ("<layer>/<name>.h" under src/). A file may
#    include the public headers of its own layer and of the layers in its row below, and the
#    internal headers of its own layer and of util (the shared helpers). Tests and benches use
#    the public headers only, except the tests that tests/CMakeLists.txt names in
#    CLGAN_TESTS_WITH_INTERNALS, which are not scanned (and must include an internal header, so
#    that the list stays honest). Fuzz harnesses (fuzz/) are held to rule 1 only.
# 3. nn and gan do not call clgan_gemm: the matrix product reaches them through ops
#    (clgan_matmul), like every other op (issue 9). Calls past a layer cannot be seen in
#    includes, since every layer may include clgan/device.h; this one is looked for by name.
#    The CLI's gemm-check and the GEMM benches test the device's GEMM itself and may call it.
# 4. nn and gan do not drive the device queue: no clgan_marker_*, clgan_device_flush or
#    clgan_device_finish. Bounding the steps in flight is ops' (clgan_inflight, clgan/ops.h);
#    a wait for results is a read of them (clgan_buffer_read blocks). Looked for by name, as 3.
# 5. MPI's header (mpi.h) appears only in src/dist/ (issue 14): data parallelism reaches the
#    rest of clgan through clgan/dist.h, so clgan builds, and every other file compiles, without
#    MPI.
cmake_minimum_required(VERSION 3.25)

# What each layer may include: DESIGN.md's table, and where the tree legitimately differs.
# - util is the bottom layer, below every other: the status table and log sink (status.c), CRC,
#   file helpers. DESIGN.md's table has no row for it; io and util need nothing else.
# - Every layer above device may include clgan/device.h: the device handle and buffers are the
#   types all of them pass around. Whether a layer calls past the one below it cannot be seen in
#   includes; the one such call that was made, clgan_gemm from nn and gan, is rule 3.
# - gan talks to nn for everything a network does (forward, backward, double backward, the
#   optimizer step with its clipping: clgan_net_step) and to ops for what is not a network: the
#   GAN losses and their statistics (a loss is a function of two networks' outputs, not a layer),
#   the latent RNG, the batch gather, the gradient penalty's interpolation and reductions, and
#   the bound on work in flight. So gan may include ops (and device.h for buffers and the
#   device handle), never a CL header or device/internal.h (rules 1 and 2), and calls neither
#   clgan_gemm nor the queue (rules 3 and 4). gan.h exposes ops' types (clgan_opt_cfg).
# - data holds the data sources (IDX, image folders, CIFAR-10, .npy; issue 13) and the upload to
#   the device: device, util, and io for the PNG, JPEG and .npy readers it decodes with (io
#   knows nothing above util, so the arrow still points down).
# - tune is the tuning search behind `clgan tune` (issue 9), a program on the device layer's
#   public API: device and util only. Only cli uses it (benches and tests use its public header).
# - dist is the data-parallel process group (issue 14): MPI behind clgan/dist.h, on util alone;
#   gan's trainer and run, and cli, use it.
set(CLGAN_LAYERS util io device data dist ops nn gan tune cli)
set(allow_util util)
set(allow_io io util)
set(allow_device device util)
set(allow_data data io device util)
set(allow_dist dist util)
set(allow_ops ops device util)
set(allow_nn nn ops device util)
set(allow_gan gan nn ops data io device dist util)
set(allow_tune tune device util)
set(allow_cli cli tune gan nn ops data io device dist util)
# Public headers and the layer that implements each.
set(public_status util)
set(public_io io)
set(public_device device)
set(public_data data)
set(public_ops ops)
set(public_nn nn)
set(public_gan gan)
set(public_eval gan)
set(public_tune tune)
set(public_dist dist)

set(NO_GEMM_LAYERS nn gan)
set(GEMM_CALL_REGEX "(^|[^A-Za-z0-9_])clgan_gemm[ \t]*\\(")
set(NO_QUEUE_LAYERS nn gan)
set(QUEUE_CALL_REGEX "(^|[^A-Za-z0-9_])clgan_(marker_[a-z_]+|device_flush|device_finish)[ \t]*\\(")
set(MPI_HEADER_REGEX "^mpi\\.h$|^mpi[a-z_]*\\.h$")
set(CL_HEADER_REGEX "^(CL|OpenCL)/|^(cl|opencl)\\.h$|^clblast[A-Za-z0-9_]*\\.h$")
set(INCLUDE_REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]([^>\"]+)[>\"]")

# Checks the #include lines of ROOT/REL as a file of layer LAYER ("" for a file that may use
# public headers only, "any" for one held to the CL rule alone); appends "REL: <problem>" entries to the list named by OUT.
function(clgan_layering_scan_file root rel layer cl_allowed out)
  set(found "${${out}}")
  file(STRINGS "${root}/${rel}" lines REGEX "^[ \t]*#[ \t]*include")
  foreach(line IN LISTS lines)
    if(NOT line MATCHES "${INCLUDE_REGEX}")
      continue()
    endif()
    set(inc "${CMAKE_MATCH_1}")
    if(inc MATCHES "${MPI_HEADER_REGEX}")
      if(NOT rel MATCHES "^src/dist/")
        list(APPEND found "${rel}: includes ${inc}: MPI belongs in src/dist/ only (clgan/dist.h)")
      endif()
      continue()
    endif()
    if(inc MATCHES "${CL_HEADER_REGEX}")
      if(NOT cl_allowed)
        list(APPEND found "${rel}: includes ${inc}: OpenCL and CLBlast headers belong in src/device/ only")
      endif()
      continue()
    endif()
    if(layer STREQUAL "any")
      continue()
    endif()
    set(target "")
    if(inc MATCHES "^clgan/([A-Za-z0-9_]+)\\.h$")
      set(name "${CMAKE_MATCH_1}")
      if(NOT DEFINED public_${name})
        list(APPEND found "${rel}: includes ${inc}, a public header with no layer: add it to cmake/clgan_layering.cmake")
        continue()
      endif()
      set(target "${public_${name}}")
    elseif(inc MATCHES "^([A-Za-z0-9_]+)/")
      if(NOT CMAKE_MATCH_1 IN_LIST CLGAN_LAYERS)
        continue() # a system header such as sys/stat.h
      endif()
      if(layer STREQUAL "")
        list(APPEND found "${rel}: includes ${inc}, an internal header of src/${CMAKE_MATCH_1}/: tests and benches use include/clgan/ (a test that needs internals is named in CLGAN_TESTS_WITH_INTERNALS, tests/CMakeLists.txt)")
        continue()
      endif()
      set(target "${CMAKE_MATCH_1}")
      # Another layer's internal headers are its own business; util's are for every layer.
      if(NOT target STREQUAL layer AND NOT target STREQUAL "util")
        list(APPEND found "${rel}: includes ${inc}, an internal header of src/${target}/: use its public header in include/clgan/")
        continue()
      endif()
    else()
      continue() # a system header or one beside the file
    endif()
    if(NOT layer STREQUAL "" AND NOT target IN_LIST allow_${layer})
      string(JOIN ", " allowed ${allow_${layer}})
      list(APPEND found "${rel}: includes ${inc} (layer ${target}), which layer ${layer} may not: ${layer} may include ${allowed}")
    endif()
  endforeach()
  set(${out} "${found}" PARENT_SCOPE)
endfunction()

# Scans the tree at ROOT; INTERNAL is the list of test names allowed internals. Sets OUT to the
# problems found and NFILES to the number of files scanned.
function(clgan_layering_scan root internal out nfiles)
  set(found "")
  set(count 0)

  file(GLOB_RECURSE src_files RELATIVE "${root}" "${root}/src/*.c" "${root}/src/*.h")
  set(ndevice 0)
  foreach(rel IN LISTS src_files)
    if(NOT rel MATCHES "^src/([^/]+)/")
      list(APPEND found "${rel}: a source file outside any layer folder")
      continue()
    endif()
    set(layer "${CMAKE_MATCH_1}")
    if(NOT layer IN_LIST CLGAN_LAYERS)
      list(APPEND found "${rel}: src/${layer}/ is no known layer: give it a row in cmake/clgan_layering.cmake")
      continue()
    endif()
    set(cl_allowed OFF)
    if(layer STREQUAL "device")
      set(cl_allowed ON)
      math(EXPR ndevice "${ndevice} + 1")
    endif()
    clgan_layering_scan_file("${root}" "${rel}" "${layer}" ${cl_allowed} found)
    if(layer IN_LIST NO_GEMM_LAYERS)
      file(STRINGS "${root}/${rel}" calls REGEX "${GEMM_CALL_REGEX}")
      if(calls)
        list(APPEND found "${rel}: calls clgan_gemm past ops: ${layer} uses clgan_matmul (clgan/ops.h)")
      endif()
    endif()
    if(layer IN_LIST NO_QUEUE_LAYERS)
      file(STRINGS "${root}/${rel}" calls REGEX "${QUEUE_CALL_REGEX}")
      if(calls)
        list(APPEND found "${rel}: drives the device queue (markers, flush, finish): ${layer} bounds work in flight with clgan_inflight (clgan/ops.h) and waits by reading results")
      endif()
    endif()
    math(EXPR count "${count} + 1")
  endforeach()

  file(GLOB public_files RELATIVE "${root}" "${root}/include/clgan/*.h")
  foreach(rel IN LISTS public_files)
    get_filename_component(name "${rel}" NAME_WE)
    if(NOT DEFINED public_${name})
      list(APPEND found "${rel}: a public header with no layer: add it to cmake/clgan_layering.cmake")
      continue()
    endif()
    clgan_layering_scan_file("${root}" "${rel}" "${public_${name}}" OFF found)
    math(EXPR count "${count} + 1")
  endforeach()

  file(GLOB test_files RELATIVE "${root}" "${root}/tests/*.c" "${root}/tests/*.h")
  set(ntests 0)
  foreach(rel IN LISTS test_files)
    get_filename_component(name "${rel}" NAME_WE)
    if(name IN_LIST internal)
      file(STRINGS "${root}/${rel}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"(${CLGAN_LAYERS_ALT})/")
      if(NOT lines)
        list(APPEND found "${rel}: named in CLGAN_TESTS_WITH_INTERNALS but includes no internal header: take it off the list")
      endif()
      continue()
    endif()
    clgan_layering_scan_file("${root}" "${rel}" "" OFF found)
    math(EXPR count "${count} + 1")
    math(EXPR ntests "${ntests} + 1")
  endforeach()
  foreach(name IN LISTS internal)
    if(NOT EXISTS "${root}/tests/${name}.c")
      list(APPEND found "tests/CMakeLists.txt: CLGAN_TESTS_WITH_INTERNALS names ${name}, which has no tests/${name}.c")
    endif()
  endforeach()

  file(GLOB_RECURSE bench_files RELATIVE "${root}" "${root}/bench/*.c" "${root}/bench/*.h")
  list(LENGTH bench_files nbench)
  foreach(rel IN LISTS bench_files)
    clgan_layering_scan_file("${root}" "${rel}" "" OFF found)
    math(EXPR count "${count} + 1")
  endforeach()
  # Fuzz harnesses drive parsers, some of them internal, as the internal tests do: only the CL rule.
  file(GLOB_RECURSE fuzz_files RELATIVE "${root}" "${root}/fuzz/*.c" "${root}/fuzz/*.h")
  foreach(rel IN LISTS fuzz_files)
    clgan_layering_scan_file("${root}" "${rel}" "any" OFF found)
    math(EXPR count "${count} + 1")
  endforeach()

  # A scan that saw nothing passes vacuously: each part must have been seen.
  if(ndevice EQUAL 0 OR NOT public_files OR ntests EQUAL 0 OR nbench EQUAL 0)
    list(APPEND found "${root}: src/device, include/clgan, tests or bench had no file to scan")
  endif()
  set(${out} "${found}" PARENT_SCOPE)
  set(${nfiles} ${count} PARENT_SCOPE)
endfunction()

string(REPLACE ";" "|" CLGAN_LAYERS_ALT "${CLGAN_LAYERS}")

# The self-test's tree: one file per rule, each planted violation named in `expect`.
function(clgan_layering_selftest dir)
  file(REMOVE_RECURSE "${dir}")
  set(expect "")
  macro(plant rel text bad)
    file(WRITE "${dir}/${rel}" "${text}\n")
    if(${bad})
      list(APPEND expect "${rel}")
    endif()
  endmacro()
  plant(src/device/ok.c "#include <CL/cl.h>\n#include <clblast_c.h>\n#include \"util/fsutil.h\"" OFF)
  plant(src/gan/ok.c "#include \"clgan/data.h\"\n#include \"clgan/io.h\"\n#include \"gan/net_io.h\"\n#include \"util/fsutil.h\"\n#include <sys/stat.h>" OFF)
  plant(src/cli/nn.c "#include \"clgan/nn.h\"\n#include \"nn/layers.h\"" ON)
  plant(src/io/cl.c "#include <stdio.h>\n  #  include <CL/cl.h>" ON)
  plant(src/nn/opencl.c "#include <OpenCL/opencl.h>" ON)
  plant(src/ops/clblast.c "#include <clblast_c.h>" ON)
  plant(src/dist/ok.c "#include <mpi.h>\n#include \"clgan/dist.h\"" OFF)
  plant(src/gan/mpi.c "#include <mpi.h>" ON)
  plant(src/util/device.c "#include \"clgan/status.h\"\n#include \"clgan/device.h\"" ON)
  plant(src/io/device.c "#include \"device/internal.h\"" ON)
  plant(src/ops/nn.c "#include \"nn/layers.h\"" ON)
  plant(src/ops/gemm.c "#include \"clgan/ops.h\"\nint f(void) { return clgan_gemm(0, 0); }" OFF)
  plant(src/nn/gemm.c "#include \"clgan/ops.h\"\nint f(void) { return clgan_gemm (0, 0); }" ON)
  plant(src/gan/matmul.c "#include \"clgan/ops.h\"\nint f(void) { return clgan_matmul(0, 0) + my_clgan_gemm(0); }" OFF)
  plant(src/gan/queue.c "#include \"clgan/ops.h\"\nint f(void) { return clgan_marker_wait(0); }" ON)
  plant(src/nn/finish.c "#include \"clgan/ops.h\"\nint f(void) { return clgan_device_finish (0); }" ON)
  plant(src/ops/queue.c "#include \"clgan/ops.h\"\nint f(void) { return clgan_device_flush(0); }" OFF)
  plant(src/gan/inflight.c "#include \"clgan/ops.h\"\nint f(void) { return clgan_inflight_step(0, 0, 1, 2) + my_clgan_device_finish(0); }" OFF)
  plant(src/nn/gan.c "#include \"clgan/gan.h\"" ON)
  plant(src/data/ops.c "#include \"clgan/ops.h\"" ON)
  plant(src/data/nn.c "#include \"clgan/nn.h\"" ON)
  plant(src/core/new.c "#include \"clgan/status.h\"" ON)
  plant(include/clgan/status.h "#include <stddef.h>" OFF)
  plant(include/clgan/io.h "#include \"clgan/device.h\"" ON)
  plant(include/clgan/extra.h "#include \"clgan/status.h\"" ON)
  plant(tests/harness.h "#include \"clgan/device.h\"" OFF)
  plant(tests/test_public.c "#include \"clgan/gan.h\"\n#include \"harness.h\"" OFF)
  plant(tests/test_peek.c "#include \"gan/trainer_internal.h\"" ON)
  plant(tests/test_cl.c "#include <CL/cl.h>" ON)
  plant(tests/test_allowed.c "#include \"device/internal.h\"\n#include <CL/cl.h>" OFF)
  plant(tests/test_needless.c "#include \"clgan/io.h\"" ON)
  plant(bench/ok_bench.c "#include \"clgan/gan.h\"" OFF)
  plant(bench/cl_bench.c "#include <clblast_c.h>" ON)
  plant(bench/internal_bench.c "#include \"cli/run.h\"" ON)
  plant(fuzz/fuzz_cl.c "#include <CL/cl.h>" ON)
  plant(fuzz/fuzz_idx.c "#include \"clgan/data.h\"\n#include \"util/fsutil.h\"" OFF)
  list(APPEND expect "tests/CMakeLists.txt") # names test_gone, which does not exist

  clgan_layering_scan("${dir}" "test_allowed;test_needless;test_gone" found nfiles)
  set(reported "")
  foreach(problem IN LISTS found)
    message(STATUS "reported: ${problem}")
    string(REGEX REPLACE ":.*" "" rel "${problem}")
    list(APPEND reported "${rel}")
  endforeach()
  list(REMOVE_DUPLICATES reported)
  list(SORT reported)
  list(SORT expect)
  if(NOT reported STREQUAL expect)
    set(missed "")
    foreach(rel IN LISTS expect)
      if(NOT rel IN_LIST reported)
        list(APPEND missed "${rel}")
      endif()
    endforeach()
    set(extra "")
    foreach(rel IN LISTS reported)
      if(NOT rel IN_LIST expect)
        list(APPEND extra "${rel}")
      endif()
    endforeach()
    message(FATAL_ERROR "layering self-test: planted violations not reported: ${missed}; "
                        "reported where nothing was planted: ${extra}")
  endif()
  list(LENGTH expect n)
  message(STATUS "layering self-test: all ${n} planted violations reported, none elsewhere")
endfunction()

if(DEFINED SELFTEST)
  clgan_layering_selftest("${SELFTEST}")
  return()
endif()
if(NOT DEFINED ROOT)
  message(FATAL_ERROR "usage: cmake -DROOT=<source dir> [-DINTERNAL_TESTS=a,b] -P ${CMAKE_CURRENT_LIST_FILE}")
endif()
string(REPLACE "," ";" internal "${INTERNAL_TESTS}")
clgan_layering_scan("${ROOT}" "${internal}" found nfiles)
if(found)
  list(LENGTH found n)
  foreach(problem IN LISTS found)
    message("${problem}")
  endforeach()
  message(FATAL_ERROR "layering: ${n} violation(s) in ${nfiles} files (rules: cmake/clgan_layering.cmake)")
endif()
message(STATUS "layering: ${nfiles} files, no violation (tests with internals: ${internal})")
