# cmake --install: headers, libdynlib, the JIT and MPI components, the dynlib CLI and a CMake package
# so that a downstream project can find_package(dynlib [COMPONENTS mpi]) and link dynlib::dynlib
# (and dynlib::dynlib_mpi).
include(CMakePackageConfigHelpers)
# Relocatable install: the `dynlib` command finds libdynlib through $ORIGIN/../lib (whatever prefix
# it is installed or copied to, without LD_LIBRARY_PATH), and libdynlib finds libraries beside itself.
# libdynlib finds the JIT component beside itself on its own (src/core/jit_loader.cpp), and the
# component's RUNPATH is set in src/jit/CMakeLists.txt.
file(RELATIVE_PATH _dynlib_bin_to_lib ${CMAKE_INSTALL_FULL_BINDIR} ${CMAKE_INSTALL_FULL_LIBDIR})
set_target_properties(dynlib_cli PROPERTIES INSTALL_RPATH "$ORIGIN/${_dynlib_bin_to_lib}")
set_target_properties(dynlib PROPERTIES INSTALL_RPATH "$ORIGIN")
install(DIRECTORY include/dynlib DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS dynlib EXPORT dynlibTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS dynlib_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET dynlib_jit)
  install(TARGETS dynlib_jit LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()
install(EXPORT dynlibTargets NAMESPACE dynlib:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dynlib)
# The MPI component, which the CLI links when it is built: a package component of its own
# (find_package(dynlib COMPONENTS mpi) -> dynlib::dynlib_mpi), so that programs that do not ask for it
# do not need MPI to find dynlib.
if(TARGET dynlib_mpi)
  set_target_properties(dynlib_mpi PROPERTIES INSTALL_RPATH "$ORIGIN")
  install(TARGETS dynlib_mpi EXPORT dynlibMpiTargets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT dynlibMpiTargets NAMESPACE dynlib:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dynlib)
endif()
configure_package_config_file(cmake/dynlibConfig.cmake.in ${PROJECT_BINARY_DIR}/dynlibConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dynlib)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/dynlibConfigVersion.cmake COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/dynlibConfig.cmake ${PROJECT_BINARY_DIR}/dynlibConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dynlib)
