# Fails when a source file includes a layer above its own (docs/internals/pipeline.md, "The layering rule").
#   cmake -DSOURCE_DIR=<repository> -P scripts/check_layers.cmake
# Layers, lowest first: util < steppers_catalogue < model < kernels < interp < cache < core < cli. The JIT
# component (jit) sits on top of core and may include every layer but cli. plugin_abi is the neutral table
# the loader (core) and the JIT agree on: it includes nothing of ours but util, and only core and jit
# include it. The MPI component (mpi) sits on top of core like jit and uses the public headers only.
# The persistent cache (cache) is stricter than its rank: it includes only util (its callers hand it the
# configured root and the warning sink).
# Nobody includes cli, jit or mpi but themselves. Includes of the public headers (<dynlib/...>, "dynlib/...")
# are allowed everywhere.
cmake_minimum_required(VERSION 3.16)
if(NOT SOURCE_DIR)
  message(FATAL_ERROR "check_layers: pass -DSOURCE_DIR=<repository root>")
endif()

set(_order util steppers_catalogue model kernels interp cache core cli)

# Rank of a layer (-1: not a layer of ours).
function(_layer_rank layer out)
  list(FIND _order ${layer} r)
  if(layer STREQUAL "jit" OR layer STREQUAL "mpi")
    set(r 100)
  endif()
  set(${out} ${r} PARENT_SCOPE)
endfunction()

# Sets ${out} to TRUE if a file of layer `from` may include a header of layer `to`.
function(_allowed from to out)
  set(ok FALSE)
  if(from STREQUAL to)
    set(ok TRUE)
  elseif(to STREQUAL "plugin_abi")
    if(from STREQUAL "core" OR from STREQUAL "jit")
      set(ok TRUE)
    endif()
  elseif(from STREQUAL "plugin_abi" OR from STREQUAL "cache")
    if(to STREQUAL "util")
      set(ok TRUE)
    endif()
  elseif(to STREQUAL "cli" OR to STREQUAL "jit" OR to STREQUAL "mpi")
    set(ok FALSE)
  else()
    _layer_rank(${from} rf)
    _layer_rank(${to} rt)
    if(rf GREATER_EQUAL 0 AND rt GREATER_EQUAL 0 AND rt LESS rf)
      set(ok TRUE)
    endif()
  endif()
  set(${out} ${ok} PARENT_SCOPE)
endfunction()

set(_known ${_order} jit mpi plugin_abi)
set(_violations "")
set(_checked 0)
file(GLOB_RECURSE _files RELATIVE ${SOURCE_DIR}/src ${SOURCE_DIR}/src/*.hpp ${SOURCE_DIR}/src/*.cpp
     ${SOURCE_DIR}/src/*.h ${SOURCE_DIR}/src/*.cc ${SOURCE_DIR}/src/*.inc)
foreach(_rel IN LISTS _files)
  string(REGEX MATCH "^[^/]+" _from "${_rel}")
  if(NOT _from IN_LIST _known)
    if(_rel MATCHES "/")
      list(APPEND _violations "src/${_rel}: folder '${_from}' is not in the layer list of scripts/check_layers.cmake")
    endif()
    continue()
  endif()
  math(EXPR _checked "${_checked} + 1")
  file(STRINGS ${SOURCE_DIR}/src/${_rel} _lines REGEX "^[ \t]*#[ \t]*include[ \t]*[\"<][^/\">]+/")
  foreach(_line IN LISTS _lines)
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*[\"<]([^/\">]+)/.*$" "\\1" _to "${_line}")
    if(NOT _to IN_LIST _known)
      continue()  # public headers (dynlib/...), system and third-party headers
    endif()
    _allowed(${_from} ${_to} _ok)
    if(NOT _ok)
      string(STRIP "${_line}" _shown)
      list(APPEND _violations "src/${_rel}: layer '${_from}' must not include '${_to}': ${_shown}")
    endif()
  endforeach()
endforeach()

if(_violations)
  list(LENGTH _violations _n)
  string(REPLACE ";" "\n  " _text "${_violations}")
  message(FATAL_ERROR "check_layers: ${_n} include(s) against the layer order "
                      "(util < steppers_catalogue < model < kernels < interp < cache < core < cli; jit on top of core):\n  ${_text}")
endif()
message(STATUS "check_layers: ${_checked} files, no include against the layer order")
