# What `cmake --install` ships (issue 15): the clgan command, libclgan shared (SONAME from the
# major version) and static, the public headers, the CMake package clganConfig.cmake (imported
# targets clgan::clgan and clgan::clgan_static), clgan.pc for pkg-config, the man page generated
# from the --help texts, bash completion, and a .deb through CPack (`cpack -G DEB` in the build
# folder). The tests install_consumer, package_deb and man_completion check all of it.
include(CMakePackageConfigHelpers)

set(CLGAN_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/clgan)

set_target_properties(clgan_shared PROPERTIES EXPORT_NAME clgan)
set_target_properties(clgan PROPERTIES EXPORT_NAME clgan_static)
install(TARGETS clgan_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(TARGETS clgan_shared clgan EXPORT clganTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/clgan DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  COMPONENT dev FILES_MATCHING PATTERN "*.h")
install(EXPORT clganTargets NAMESPACE clgan:: DESTINATION ${CLGAN_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/clganConfig.cmake.in
  ${PROJECT_BINARY_DIR}/clganConfig.cmake INSTALL_DESTINATION ${CLGAN_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/clganConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/clganConfig.cmake ${PROJECT_BINARY_DIR}/clganConfigVersion.cmake
  DESTINATION ${CLGAN_CMAKE_DIR} COMPONENT dev)

# pkg-config: prefix is found from the .pc file's own place (${pcfiledir}), so the file stays
# right under `cmake --install --prefix P` and in the .deb, whatever CMAKE_INSTALL_PREFIX was.
set(CLGAN_PC_PREFIX "\${pcfiledir}")
string(REPLACE "/" ";" clgan_pc_parts "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
foreach(part IN LISTS clgan_pc_parts)
  string(APPEND CLGAN_PC_PREFIX "/..")
endforeach()
set(CLGAN_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
set(CLGAN_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
# Open MPI's pkg-config name for its C bindings (Debian's libopenmpi-dev ships ompi-c.pc).
set(CLGAN_PC_MPI "")
if(CLGAN_WITH_MPI)
  set(CLGAN_PC_MPI " ompi-c")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/clgan.pc.in ${PROJECT_BINARY_DIR}/clgan.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/clgan.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
  COMPONENT dev)

# The man page: written at build time from the built command's own --help texts
# (cmake/clgan_man.cmake), so the two cannot drift.
add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/clgan.1
  COMMAND ${CMAKE_COMMAND} -DCLGAN=$<TARGET_FILE:clgan_cli> -DOUT=${PROJECT_BINARY_DIR}/clgan.1
          -DVERSION=${PROJECT_VERSION} -P ${PROJECT_SOURCE_DIR}/cmake/clgan_man.cmake
  DEPENDS clgan_cli ${PROJECT_SOURCE_DIR}/cmake/clgan_man.cmake
  COMMENT "Generating the man page clgan.1 from clgan --help")
add_custom_target(clgan_man ALL DEPENDS ${PROJECT_BINARY_DIR}/clgan.1)
install(FILES ${PROJECT_BINARY_DIR}/clgan.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
  COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/share/bash-completion/clgan
  DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions COMPONENT runtime)

# The .deb: one package with the command, both libraries, headers and packages for CMake and
# pkg-config. dpkg-shlibdeps computes Depends from what the binaries link (the OpenCL ICD
# loader, CLBlast, libpng, zlib, LAPACKE, libc); PoCL is recommended for running on a CPU.
set(CPACK_PACKAGE_NAME clgan)
set(CPACK_PACKAGE_VENDOR "clgan")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "generative adversarial networks trained in C on any OpenCL device")
set(CPACK_PACKAGE_CONTACT "clgan maintainers <clgan@localhost>")
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The libraries' own folder, so dpkg-shlibdeps resolves the command's libclgan.so.MAJOR there.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${PROJECT_BINARY_DIR})
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "pocl-opencl-icd | opencl-icd")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "dataset-fashion-mnist, clinfo")
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/package)
set(CPACK_STRIP_FILES OFF)
include(CPack)
