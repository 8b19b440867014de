# Embeds cl/*.cl into a generated C file as byte arrays, so the binary carries its kernels.
# The table it writes is read by src/device/program.c (clgan_embedded_kernels).
function(clgan_embed_kernels out_c)
  string(JOIN "|" joined ${ARGN})
  add_custom_command(
    OUTPUT ${out_c}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out_c} -DSOURCES=${joined} -P ${PROJECT_SOURCE_DIR}/cmake/embed_run.cmake
    DEPENDS ${ARGN} ${PROJECT_SOURCE_DIR}/cmake/embed_run.cmake
    COMMENT "Embedding OpenCL kernel sources"
    VERBATIM)
endfunction()
