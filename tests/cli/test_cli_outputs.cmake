# CTest driver for the output and snapshot files of `dynlib run` / `dynlib sweep` / `model export-sources`
# (run with -DDYNLIB=<path to dynlib> -DWORK=<dir> -DHAVE_JIT=0|1). Checks that outputs are checked before
# the run, written atomically (a failed write keeps the old file), never replace a device or FIFO, and
# that broken snapshot files are refused with the file, line and field.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(CLI_TEST_CWD ${WORK})
set(CLI_TEST_TIMEOUT 20)
include(${CMAKE_CURRENT_LIST_DIR}/cli_test_helpers.cmake)
# Runs `dynlib ARGN`, expects exit code `rc` and output matching `regex`, and, for rc 2, that the run did
# not start (no summary printed).
function(expect_fail rc regex)
  run_dynlib(o got ${ARGN})
  if(NOT got STREQUAL "${rc}" OR NOT o MATCHES "${regex}")
    message(FATAL_ERROR "dynlib ${ARGN}: expected exit ${rc} and '${regex}', got exit ${got}:\n${o}")
  endif()
  if(rc EQUAL 2 AND o MATCHES "status:")
    message(FATAL_ERROR "dynlib ${ARGN}: the run started although an output path is bad:\n${o}")
  endif()
endfunction()
set(M builtin://ode/lorenz)

# 1. refused targets and preflight: exit 2 before the run
expect_fail(2 "dynlib run: error: --out '/dev/full': is a character device, refused" run ${M} --T 1 --out /dev/full)
expect_fail(2 "--snapshot-out '/dev/full': is a character device, refused" run ${M} --T 1 --snapshot-out /dev/full)
expect_fail(2 "--events-out '/dev/null': is a character device, refused" run ${M} --T 1 --events-out /dev/null)
expect_fail(2 "--out '/nonexistent/x\\.csv': directory '/nonexistent': No such file or directory"
  run ${M} --T 1 --out /nonexistent/x.csv)
file(MAKE_DIRECTORY ${WORK}/adir)
expect_fail(2 "--out 'adir': is a directory, refused" run ${M} --T 1 --out adir)
file(WRITE ${WORK}/plain "x")
expect_fail(2 "--out 'plain/x\\.csv': 'plain' is not a directory" run ${M} --T 1 --out plain/x.csv)
execute_process(COMMAND mkfifo ${WORK}/fifo RESULT_VARIABLE rc)
if(rc EQUAL 0)
  expect_fail(2 "--out 'fifo': is a FIFO \\(named pipe\\), refused" run ${M} --T 1 --out fifo)
endif()
expect_fail(2 "--events-out '\\./x\\.csv' names the same file as --out 'x\\.csv'" run ${M} --T 1 --out x.csv --events-out ./x.csv)
expect_fail(2 "--snapshot-out 'x\\.csv' names the same file as --out 'x\\.csv'" run ${M} --T 1 --out x.csv --snapshot-out x.csv)
expect_fail(2 "dynlib sweep: error: --out '/dev/full': is a character device, refused"
  sweep builtin://map/logistic --param r=3:4:5 --N 10 --out /dev/full)
expect_fail(2 "dynlib sweep: error: --out '/nonexistent/s\\.csv': directory '/nonexistent'"
  sweep builtin://map/logistic --param r=3:4:5 --N 10 --out /nonexistent/s.csv)
execute_process(COMMAND id -u OUTPUT_VARIABLE uid OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT uid STREQUAL "0")  # root may write anywhere
  file(MAKE_DIRECTORY ${WORK}/ro)
  file(CHMOD ${WORK}/ro PERMISSIONS OWNER_READ OWNER_EXECUTE)
  expect_fail(2 "--out 'ro/x\\.csv': directory 'ro' is not writable: Permission denied" run ${M} --T 1 --out ro/x.csv)
  file(CHMOD ${WORK}/ro PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
endif()
execute_process(COMMAND stat -c %F /dev/full OUTPUT_VARIABLE kind)
if(NOT kind MATCHES "character special file")
  message(FATAL_ERROR "/dev/full was replaced: ${kind}")
endif()

# 2. a write that fails half-way (file size limit: EFBIG) reports it, exit 1, and keeps the old file
run_dynlib(o rc run ${M} --T 1 --out old.csv --quiet)
file(SHA256 ${WORK}/old.csv before)
execute_process(COMMAND sh -c "ulimit -f 8 && exec \"$0\" run ${M} --T 20 --out old.csv --quiet" ${DYNLIB}
  WORKING_DIRECTORY ${WORK} RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
if(NOT rc STREQUAL "1" OR NOT e MATCHES "Cannot write 'old\\.csv': write failed: File too large")
  message(FATAL_ERROR "size limit: expected exit 1 and 'File too large', got ${rc}:\n${o}${e}")
endif()
file(SHA256 ${WORK}/old.csv after)
if(NOT before STREQUAL after)
  message(FATAL_ERROR "the old old.csv was changed by a failed write")
endif()
file(GLOB leftovers ${WORK}/.*.tmp.*)
if(leftovers)
  message(FATAL_ERROR "temporary files left behind: ${leftovers}")
endif()
# a good run replaces it
run_dynlib(o rc run ${M} --T 2 --out old.csv --quiet)
file(STRINGS ${WORK}/old.csv rows)
list(LENGTH rows n)
if(NOT rc EQUAL 0 OR NOT n EQUAL 202)
  message(FATAL_ERROR "rewrite: exit ${rc}, ${n} lines\n${o}")
endif()

# 3. snapshot files that are not regular files fail at once; broken fields are named
expect_fail(1 "Cannot read snapshot file '/dev/zero': is a character device, not a regular file"
  run ${M} --T 2 --snapshot-in /dev/zero)
if(EXISTS ${WORK}/fifo)
  expect_fail(1 "Cannot read snapshot file 'fifo': is a FIFO" run ${M} --T 2 --snapshot-in fifo)
endif()
file(WRITE ${WORK}/lagmap.toml "[model]\ntype = \"map\"\n[states]\nx = 0.2\n[params]\nr = 1.2\n[equations.rhs]\nx = \"r*x*(1 - lag_x(1))\"\n")
set(modes "")
if(HAVE_JIT)
  set(modes --jit)
endif()
foreach(jit "" ${modes})
  run_dynlib(o rc run lagmap.toml --N 10 --snapshot-out lag.snap --quiet ${jit})
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "snapshot-out ${jit}: ${o}")
  endif()
  file(READ ${WORK}/lag.snap good)
  string(REGEX REPLACE "\nlag_head 1 [0-9]+\n" "\nlag_head 1 -3\n" bad "${good}")
  file(WRITE ${WORK}/bad.snap "${bad}")
  expect_fail(1 "Cannot read snapshot file 'bad\\.snap', line 25 \\('lag_head'\\): value -3 is out of range \\[0, 1\\]"
    run lagmap.toml --N 20 --snapshot-in bad.snap ${jit})
  string(REGEX REPLACE "\nstatus [0-9]+\n" "\nstatus 999\n" bad "${good}")
  file(WRITE ${WORK}/bad.snap "${bad}")
  expect_fail(1 "line 14 \\('status'\\): unknown status code 999" run lagmap.toml --N 20 --snapshot-in bad.snap ${jit})
  run_dynlib(o rc run lagmap.toml --N 20 --snapshot-in lag.snap ${jit})
  if(NOT rc EQUAL 0 OR NOT o MATCHES "steps:   20\n")
    message(FATAL_ERROR "resume ${jit}: exit ${rc}\n${o}")
  endif()
endforeach()

# 4. export-sources refuses a target file that is not a regular file, before compiling
if(HAVE_JIT AND EXISTS ${WORK}/fifo)
  file(MAKE_DIRECTORY ${WORK}/export)
  execute_process(COMMAND mkfifo ${WORK}/export/rhs.ll)
  expect_fail(1 "dynlib model export-sources: cannot write 'export/rhs\\.ll': is a FIFO \\(named pipe\\), refused"
    model export-sources builtin://ode/vanderpol export)
endif()
message("outputs: all checks passed")
