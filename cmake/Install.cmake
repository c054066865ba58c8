# cmake --install: headers, libdynlib, the JIT component, the dynlib CLI and a CMake package
# so that a downstream project can find_package(dynlib) and link dynlib::dynlib.
include(CMakePackageConfigHelpers)
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
configure_package_config_file(cmake/dynlibConfig.cmake.in ${PROJECT_BINARY_DIR}/dynlibConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dynlib)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/dynlibConfigVersion.cmake COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/dynlibConfig.cmake ${PROJECT_BINARY_DIR}/dynlibConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/dynlib)
