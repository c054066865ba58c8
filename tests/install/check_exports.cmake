# cmake -P script: checks the dynamic symbol table of libdynlib (docs/internals/visibility.md).
#   cmake -DNM=<nm> -DLIBRARY=<libdynlib.so> -DMAX_SYMBOLS=<n> -P check_exports.cmake
# Fails (FATAL_ERROR) if a defined, exported symbol is outside the `dynlib` namespace (the library was
# built without hidden visibility, or code of another library leaked into it), or if there are more
# than MAX_SYMBOLS of them (something is exported that should not be). The only exception: weak copies
# of the C++ standard library's templates, which the standard headers keep visible.
cmake_minimum_required(VERSION 3.16)
foreach(_var NM LIBRARY MAX_SYMBOLS)
  if(NOT ${_var})
    message(FATAL_ERROR "check_exports: pass -D${_var}=...")
  endif()
endforeach()
if(NOT EXISTS "${LIBRARY}")
  message(FATAL_ERROR "check_exports: ${LIBRARY} does not exist")
endif()

# The same table twice, in the file's order: mangled names (for the exact namespace test) and
# demangled ones (for the messages and the standard library test).
foreach(_form mangled demangled)
  set(_opts -D --defined-only --no-sort --format=posix)
  if(_form STREQUAL "demangled")
    list(APPEND _opts -C)
  endif()
  execute_process(COMMAND ${NM} ${_opts} ${LIBRARY} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out_${_form}
                  ERROR_VARIABLE _err)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "check_exports: `${NM} ${_opts} ${LIBRARY}` failed (${_rc}): ${_err}")
  endif()
  # One line a symbol, "<name> <type> <value> [<size>]"; demangled names contain spaces. CMake lists
  # split at ';' and do not like unbalanced brackets, so those are masked first.
  string(REPLACE ";" "<semicolon>" _out "${_out_${_form}}")
  string(REPLACE "[" "<lb>" _out "${_out}")
  string(REPLACE "]" "<rb>" _out "${_out}")
  string(REPLACE "\n" ";" _lines_${_form} "${_out}")
endforeach()

# Mangled names of the dynlib namespace: entities (_ZN6dynlib, _ZNK6dynlib, ...), locals of its
# functions (_ZZN6dynlib...), type information, vtables, VTTs, guard variables and thunks of its classes.
set(_dynlib_re "^_Z(TI|TS|TV|TT|GV|Th[n0-9]+_|Tv[n0-9]+_[n0-9]+_)?Z*N[rVKRO]*6dynlib")
set(_count 0)
set(_std 0)
set(_outside "")
list(LENGTH _lines_mangled _n)
list(LENGTH _lines_demangled _n_demangled)
if(NOT _n EQUAL _n_demangled)
  message(FATAL_ERROR "check_exports: ${NM} listed ${_n} symbols, but ${_n_demangled} with -C")
endif()
math(EXPR _last "${_n} - 1")
foreach(_i RANGE ${_last})
  list(GET _lines_mangled ${_i} _line)
  list(GET _lines_demangled ${_i} _dline)
  if(NOT _line MATCHES "^([^ ]+) ([A-Za-z]) ")
    continue()
  endif()
  set(_name "${CMAKE_MATCH_1}")
  set(_type "${CMAKE_MATCH_2}")
  string(REGEX REPLACE " [A-Za-z] [0-9a-f]+( [0-9a-f]+)?$" "" _readable "${_dline}")
  math(EXPR _count "${_count} + 1")
  if(_name MATCHES "${_dynlib_re}")
    continue()
  endif()
  # Copies of the standard library's templates and inline functions instantiated in our code (weak,
  # or unique for their function-local statics) stay exported: the standard headers give namespace
  # std default visibility, on purpose, so that every module of a program shares them.
  if(_type MATCHES "^[WVu]$" AND _readable MATCHES "std::")
    math(EXPR _std "${_std} + 1")
    continue()
  endif()
  list(APPEND _outside "${_readable} (${_type})")
endforeach()

if(_count EQUAL 0)
  message(FATAL_ERROR "check_exports: ${LIBRARY} exports no symbol at all (is it libdynlib?)")
endif()
message("check_exports: ${LIBRARY} exports ${_count} symbols (bound ${MAX_SYMBOLS}), ${_std} of them "
        "weak copies of standard library templates")

if(_outside)
  list(LENGTH _outside _n_outside)
  string(REPLACE ";" "\n  " _list "${_outside}")
  string(REPLACE "<semicolon>" ";" _list "${_list}")
  string(REPLACE "<lb>" "[" _list "${_list}")
  string(REPLACE "<rb>" "]" _list "${_list}")
  message(FATAL_ERROR "check_exports: ${LIBRARY} exports ${_n_outside} symbols outside the dynlib "
                      "namespace (it must be built with hidden visibility, and export only what "
                      "DYNLIB_API / DYNLIB_INTERNAL_API mark):\n  ${_list}")
endif()
if(_count GREATER MAX_SYMBOLS)
  message(FATAL_ERROR "check_exports: ${LIBRARY} exports ${_count} symbols, more than the bound "
                      "${MAX_SYMBOLS}. Mark only what programs and our components call (DYNLIB_API, "
                      "DYNLIB_INTERNAL_API); if the new exports are intended, raise the bound in "
                      "tests/install/CMakeLists.txt.")
endif()
