# cmake -P script run by CTest: builds the fuzz targets with clang + libFuzzer + ASan/UBSan in one tree
# (WORK_DIR/build, shared by every fuzz test: the second test finds it built), then fuzzes FUZZ_TARGET
# for FUZZ_SECONDS, seeded with FUZZ_SEEDS:
#   model     every model file in the repository (fuzz_load_model: inline model text)
#   snapshot  tests/fuzz/corpus/snapshot, valid and broken snapshot files (fuzz_load_snapshot)
find_program(CLANGXX NAMES clang++-19 clang++ REQUIRED)
if(NOT DEFINED FUZZ_TARGET)
  set(FUZZ_TARGET fuzz_load_model)
endif()
if(NOT DEFINED FUZZ_SEEDS)
  set(FUZZ_SEEDS model)
endif()
set(build ${WORK_DIR}/build)
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${build} -DCMAKE_CXX_COMPILER=${CLANGXX}
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDYNLIB_WITH_LLVM=OFF -DDYNLIB_BUILD_TESTS=OFF
    -DDYNLIB_BUILD_EXAMPLES=OFF -DDYNLIB_BUILD_FUZZ=ON RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "fuzz configure failed")
endif()
# Both targets at once: they share the instrumented library, built once.
execute_process(COMMAND ${CMAKE_COMMAND} --build ${build} -j2 --target fuzz_load_model fuzz_load_snapshot
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "fuzz build failed")
endif()
set(corpus ${WORK_DIR}/corpus-${FUZZ_TARGET})
file(REMOVE_RECURSE ${corpus})
file(MAKE_DIRECTORY ${corpus})
if(FUZZ_SEEDS STREQUAL "snapshot")
  file(GLOB_RECURSE seeds ${SOURCE_DIR}/tests/fuzz/corpus/snapshot/*)
else()
  file(GLOB_RECURSE seeds ${SOURCE_DIR}/models/*.toml ${SOURCE_DIR}/tests/models/*.toml ${SOURCE_DIR}/docs/examples/*.toml)
endif()
foreach(s ${seeds})
  file(COPY ${s} DESTINATION ${corpus})
endforeach()
execute_process(COMMAND ${build}/bin/${FUZZ_TARGET} ${corpus} -max_total_time=${FUZZ_SECONDS}
    -max_len=4096 -timeout=10 -rss_limit_mb=4096 -artifact_prefix=${WORK_DIR}/${FUZZ_TARGET}-
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "fuzzer found a problem (exit ${rc}); reproducer in ${WORK_DIR}/")
endif()
message("fuzz: no findings in ${FUZZ_SECONDS} s")
