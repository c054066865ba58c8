# The optional Python package (python/): built when pybind11, NumPy and the Python headers are there
# (DYNLIB_WITH_PYTHON=AUTO), required with ON. The core library never depends on it.
# Debian's python3 is the one that sees Debian's NumPy and pybind11, whatever else is first on PATH
# (pyenv, a venv): pass -DPython_EXECUTABLE=... to choose another.
if(NOT DEFINED Python_EXECUTABLE AND EXISTS /usr/bin/python3)
  set(Python_EXECUTABLE /usr/bin/python3)
endif()
set(PYBIND11_FINDPYTHON ON)
find_package(Python 3.9 COMPONENTS Interpreter Development.Module NumPy QUIET)
find_package(pybind11 CONFIG QUIET)
if(Python_FOUND AND Python_NumPy_FOUND AND pybind11_FOUND)
  message(STATUS "Python package: building for ${Python_EXECUTABLE} (${Python_VERSION})")
  add_subdirectory(python)
elseif(DYNLIB_WITH_PYTHON STREQUAL "ON")
  message(FATAL_ERROR "DYNLIB_WITH_PYTHON=ON needs pybind11-dev, python3-dev and python3-numpy "
                      "(scripts/install-deps.sh installs them)")
else()
  message(STATUS "Python package: not built (needs pybind11-dev, python3-dev, python3-numpy)")
endif()
