# CTest driver: `dynlib run --snapshot-in` over every broken snapshot of tests/fuzz/corpus/snapshot under
# valgrind (memcheck): each must be refused (exit 1) with no memory error. Skipped when valgrind is not
# installed. Run with -DDYNLIB=<path to dynlib> -DSOURCE_DIR=<repository>.
find_program(VALGRIND valgrind)
if(NOT VALGRIND)
  message("valgrind not installed: skipped")
  return()
endif()
set(corpus ${SOURCE_DIR}/tests/fuzz/corpus/snapshot)
file(GLOB broken ${corpus}/broken/*.snap)
file(GLOB valid ${corpus}/valid/*.snap)
foreach(f ${broken} ${valid})
  get_filename_component(name ${f} NAME)
  # The snapshot's model: the vanderpol_bdf2 files are of Van der Pol with bdf2, the others of the lag map.
  if(name MATCHES "^vanderpol_bdf2")
    set(model builtin://ode/vanderpol --stepper bdf2 --T 0.2)
  else()
    set(model ${SOURCE_DIR}/tests/fuzz/snapshot_model.toml --N 20)
  endif()
  # Valid files resume (0); should the model's hash ever change they are refused (1): either is clean.
  set(expected "^1$")
  if(f MATCHES "/valid/")
    set(expected "^[01]$")
  endif()
  execute_process(COMMAND ${VALGRIND} -q --error-exitcode=99 ${DYNLIB} run ${model} --snapshot-in ${f} --quiet
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 120)
  if(NOT rc MATCHES "${expected}" OR err MATCHES "==[0-9]+==")
    message(FATAL_ERROR "${name}: expected exit ${expected}, got ${rc}\n${out}${err}")
  endif()
endforeach()
list(LENGTH broken nb)
message("valgrind: ${nb} broken snapshots refused cleanly")
