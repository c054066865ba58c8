# Runs a program, fails if it exits non-zero (or dies of a signal), then fails unless its output
# (stdout and stderr, merged in order) matches the expected regular expression. A test property
# PASS_REGULAR_EXPRESSION on the program itself would ignore the exit code; this does not.
#
#   cmake [-DEXPECT_FILE=<file holding the regex>] [-DWORKING_DIRECTORY=<dir>]
#         -P run_checked.cmake -- <program> [args...]
#
# The regex lives in a file so that any character (;, [, newlines) survives (the program and its
# arguments cannot contain a semicolon, the CMake list separator). No EXPECT_FILE, or an
# empty one: only the exit code is checked. Written by dynlib_add_checked_test (tests/CMakeLists.txt).
set(cmd)
set(after_dashes FALSE)
math(EXPR last "${CMAKE_ARGC} - 1")
foreach(i RANGE ${last})
  if(after_dashes)
    list(APPEND cmd "${CMAKE_ARGV${i}}")
  elseif(CMAKE_ARGV${i} STREQUAL "--")
    set(after_dashes TRUE)
  endif()
endforeach()
if(NOT cmd)
  message(FATAL_ERROR "run_checked: no program given (usage: cmake -P run_checked.cmake -- <program> [args...])")
endif()
if(NOT WORKING_DIRECTORY)
  set(WORKING_DIRECTORY .)
endif()

execute_process(COMMAND ${cmd} WORKING_DIRECTORY ${WORKING_DIRECTORY}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
# The output goes to the test log either way (and to FAIL_REGULAR_EXPRESSION, if the test sets one).
message("${out}")
if(NOT rc STREQUAL "0")
  message(FATAL_ERROR "run_checked: `${cmd}` exited with ${rc} (expected 0)")
endif()
if(EXPECT_FILE)
  file(READ ${EXPECT_FILE} expect)
  if(NOT expect STREQUAL "" AND NOT out MATCHES "${expect}")
    message(FATAL_ERROR "run_checked: the output of `${cmd}` does not match the regular expression\n${expect}")
  endif()
endif()
