# cmake -P script: install, configure + build the downstream project against the install, run it, then
# run the installed `dynlib` command from the prefix with LD_LIBRARY_PATH unset (it must find
# libdynlib and the JIT component through its RUNPATH). Every step must exit 0 and print what it should.
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
# run(<expected-regex> <command...>): fails unless the command exits 0 and its stdout matches.
function(run expect)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  if(NOT out MATCHES "${expect}")
    message(FATAL_ERROR "unexpected output of ${ARGN} (expected /${expect}/):\n${out}\n${err}")
  endif()
  message("${out}")
endfunction()
# The installed programs see neither the build tree nor the caller's library path or configuration.
set(clean_env ${CMAKE_COMMAND} -E env --unset=LD_LIBRARY_PATH --unset=DYNLIB_JIT_LIBRARY
    DYNLIB_CONFIG=/nonexistent/dynlib-test-config.toml XDG_CACHE_HOME=${WORK_DIR}/cache)

run("" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
run("" ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build -DCMAKE_CXX_COMPILER=${CXX}
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release)
run("" ${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run("downstream: Model OK kind=ode states=2\ndownstream: 101 records, status DONE\n\
downstream: caught UnknownStepperError\ndownstream: caught ModelLoadError kind=TomlSyntaxError exact=1\n\
downstream: caught ArgumentError" ${clean_env} ${WORK_DIR}/build/downstream)

# The MPI component as a package component: found, linked and run with 2 ranks; without it, asking for
# it fails with the reason.
if(MPIRUN)
  run("" ${CMAKE_COMMAND} -S ${MPI_SOURCE_DIR} -B ${WORK_DIR}/build-mpi -DCMAKE_CXX_COMPILER=${CXX}
      -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release)
  run("" ${CMAKE_COMMAND} --build ${WORK_DIR}/build-mpi)
  run("downstream mpi: 40 points on 2 processes, same as one process: yes"
      ${clean_env} OMPI_MCA_btl_vader_single_copy_mechanism=none ${MPIRUN} ${WORK_DIR}/build-mpi/downstream_mpi)
else()
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${MPI_SOURCE_DIR} -B ${WORK_DIR}/build-mpi
                  -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_PREFIX_PATH=${prefix}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0 OR NOT "${out}${err}" MATCHES "this dynlib was built without MPI")
    message(FATAL_ERROR "find_package(dynlib COMPONENTS mpi) without the component: exit ${rc}:\n${out}\n${err}")
  endif()
  message("install: MPI component not built; find_package(dynlib COMPONENTS mpi) refused it")
endif()

if(NOT EXISTS ${prefix}/bin/dynlib)
  message(FATAL_ERROR "the install has no bin/dynlib")
endif()
run("Model OK: kind=ode" ${clean_env} ${prefix}/bin/dynlib model validate builtin://ode/vanderpol)
if(WITH_JIT)
  set(jit_lib ${prefix}/${LIBDIR}/libdynlib_jit.so)
  run("stepper: rk4 \\(jit\\).*status: +DONE" ${clean_env} ${prefix}/bin/dynlib run builtin://ode/vanderpol --jit --T 1)
  # It was the installed component: without it, --jit names the path beside the installed libdynlib.
  file(RENAME ${jit_lib} ${jit_lib}.away)
  execute_process(COMMAND ${clean_env} ${prefix}/bin/dynlib run builtin://ode/vanderpol --jit --T 1
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  file(RENAME ${jit_lib}.away ${jit_lib})
  if(rc EQUAL 0 OR NOT err MATCHES "not found at ${jit_lib}")
    message(FATAL_ERROR "--jit without the installed component: exit ${rc}, expected an error naming ${jit_lib}:\n${out}\n${err}")
  endif()
else()
  run("status: +DONE" ${clean_env} ${prefix}/bin/dynlib run builtin://ode/vanderpol --T 1)
endif()
if(PYTHON)
  # The installed Python package finds the installed libdynlib (and the JIT component) by itself.
  if(WITH_JIT)
    set(py_jit True)
  else()
    set(py_jit False)
  endif()
  # (A script file: the statements' semicolons would split a CMake argument.)
  file(WRITE ${WORK_DIR}/installed_python.py "import dynlib\n"
       "s = dynlib.setup('builtin://ode/vanderpol', jit=${py_jit})\n"
       "s.run(T=1.0)\n"
       "r = s.results()\n"
       "print(f'python: {len(r)} records, status {r.status.name}, jit {s.model.jit}')\n"
       "print('python: from', dynlib.__file__)\n")
  run("python: 101 records, status DONE, jit ${py_jit}\npython: from ${prefix}/"
      ${clean_env} PYTHONPATH=${prefix}/${PYTHON_DIR} ${PYTHON} ${WORK_DIR}/installed_python.py)
  # The installed `dynlib plot` draws with the installed package (no PYTHONPATH needed).
  run("" ${clean_env} ${prefix}/bin/dynlib run builtin://ode/vanderpol --T 5 --quiet --out ${WORK_DIR}/vdp.csv)
  run("" ${clean_env} ${prefix}/bin/dynlib plot ${WORK_DIR}/vdp.csv --phase x,y --out ${WORK_DIR}/vdp.png)
  file(SIZE ${WORK_DIR}/vdp.png png_size)
  if(png_size LESS 1000)
    message(FATAL_ERROR "the installed dynlib plot wrote ${png_size} bytes to ${WORK_DIR}/vdp.png")
  endif()
endif()
message("install: every step passed")
