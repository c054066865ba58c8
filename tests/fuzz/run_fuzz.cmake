# cmake -P script run by CTest: builds the loader with clang + libFuzzer + ASan/UBSan in its own tree,
# then fuzzes inline model text for FUZZ_SECONDS, seeded with every model file in the repository.
find_program(CLANGXX NAMES clang++-19 clang++ REQUIRED)
set(build ${WORK_DIR}/build)
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${build} -DCMAKE_CXX_COMPILER=${CLANGXX}
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDYNLIB_WITH_LLVM=OFF -DDYNLIB_BUILD_TESTS=OFF
    -DDYNLIB_BUILD_EXAMPLES=OFF -DDYNLIB_BUILD_FUZZ=ON RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "fuzz configure failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${build} -j2 --target fuzz_load_model RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "fuzz build failed")
endif()
set(corpus ${WORK_DIR}/corpus)
file(REMOVE_RECURSE ${corpus})
file(MAKE_DIRECTORY ${corpus})
file(GLOB_RECURSE seeds ${SOURCE_DIR}/models/*.toml ${SOURCE_DIR}/tests/models/*.toml ${SOURCE_DIR}/docs/examples/*.toml)
foreach(s ${seeds})
  file(COPY ${s} DESTINATION ${corpus})
endforeach()
execute_process(COMMAND ${build}/bin/fuzz_load_model ${corpus} -max_total_time=${FUZZ_SECONDS}
    -max_len=4096 -timeout=10 -rss_limit_mb=4096 -artifact_prefix=${WORK_DIR}/
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "fuzzer found a problem (exit ${rc}); reproducer in ${WORK_DIR}/")
endif()
message("fuzz: no findings in ${FUZZ_SECONDS} s")
