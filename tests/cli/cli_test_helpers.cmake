# Helpers shared by the CLI test drivers: include(${CMAKE_CURRENT_LIST_DIR}/cli_test_helpers.cmake).
# Before including, a driver may set CLI_TEST_CWD (the folder dynlib runs in) and CLI_TEST_TIMEOUT
# (seconds a single dynlib call may take).

# Runs ${DYNLIB} with the given arguments; out_var gets stdout followed by stderr, rc_var the exit code.
function(run_dynlib out_var rc_var)
  set(_extra)
  if(DEFINED CLI_TEST_CWD)
    list(APPEND _extra WORKING_DIRECTORY ${CLI_TEST_CWD})
  endif()
  if(DEFINED CLI_TEST_TIMEOUT)
    list(APPEND _extra TIMEOUT ${CLI_TEST_TIMEOUT})
  endif()
  execute_process(COMMAND ${DYNLIB} ${ARGN} ${_extra} OUTPUT_VARIABLE _o ERROR_VARIABLE _e RESULT_VARIABLE _rc)
  set(${out_var} "${_o}${_e}" PARENT_SCOPE)
  set(${rc_var} "${_rc}" PARENT_SCOPE)
endfunction()

function(expect text regex what)
  if(NOT text MATCHES "${regex}")
    message(FATAL_ERROR "${what}: output does not match '${regex}':\n${text}")
  endif()
endfunction()

# expect_rc(rc want what [output]): the exit code, with the output in the failure message if given.
function(expect_rc rc want what)
  if(NOT rc EQUAL want)
    message(FATAL_ERROR "${what}: exit ${rc}, expected ${want}:\n${ARGN}")
  endif()
endfunction()
