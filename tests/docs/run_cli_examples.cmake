# Runs every `dynlib ...` command line shown in the given Markdown files (see dynlib_extract_commands in
# extract_snippets.cmake) in a fresh work directory with a private configuration and cache root, and
# fails on the first non-zero exit code. -DDYNLIB=<the dynlib binary> -DSOURCE_DIR=... -DWORK=<dir>
# -DMD_FILES=<|-separated .md files> [-DPLOT=OFF: skip `dynlib plot` lines]
cmake_minimum_required(VERSION 3.25)
include(${CMAKE_CURRENT_LIST_DIR}/extract_snippets.cmake)
set(PROJECT_SOURCE_DIR ${SOURCE_DIR})

string(REPLACE "|" ";" MD_FILES "${MD_FILES}")
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/snippets)
# Data files of the pages (e.g. pendulum.toml in getting-started.md) are in the work directory.
set(programs)
set(files)
set(unmarked)
set(commands)
foreach(md IN LISTS MD_FILES)
  dynlib_extract_snippets(${md} ${WORK}/snippets programs files unmarked)
  dynlib_extract_commands(${md} commands)
endforeach()
foreach(f IN LISTS files)
  file(COPY_FILE ${WORK}/snippets/${f} ${WORK}/${f})
endforeach()
file(COPY ${SOURCE_DIR}/docs/examples DESTINATION ${WORK}/docs)
file(WRITE ${WORK}/dynlib-config.toml "cache_root = \"${WORK}/cache\"\n")
set(ENV{DYNLIB_CONFIG} ${WORK}/dynlib-config.toml)
set(ENV{XDG_CACHE_HOME} ${WORK}/xdg-cache)

list(LENGTH commands n)
if(n EQUAL 0)
  message(FATAL_ERROR "docs: no dynlib command lines found in ${MD_FILES}")
endif()
foreach(cmd IN LISTS commands)
  if(cmd MATCHES "^dynlib plot" AND NOT PLOT)
    message(STATUS "skipped (built without the Python package): ${cmd}")
    continue()
  endif()
  separate_arguments(argv UNIX_COMMAND "${cmd}")
  list(POP_FRONT argv)   # "dynlib"
  execute_process(COMMAND ${DYNLIB} ${argv} WORKING_DIRECTORY ${WORK}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 300)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "docs: `${cmd}` exited with ${rc}\nstdout:\n${out}\nstderr:\n${err}")
  endif()
  string(LENGTH "${out}" len)
  message(STATUS "ok: ${cmd}  (${len} bytes of output)")
endforeach()
message(STATUS "docs: ${n} commands OK")
