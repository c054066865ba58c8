// The extension module dynlib._dynlib; the package dynlib (python/dynlib/__init__.py) re-exports it.
#include "bindings.hpp"

PYBIND11_MODULE(_dynlib, m) {
  m.doc() = "dynlib: dynamical systems in TOML, interpreted or compiled by an LLVM JIT (C++ engine)";
  dynlib::python::bind_errors(m);
  dynlib::python::bind_model(m);
  dynlib::python::bind_results(m);
  dynlib::python::bind_sim(m);
  dynlib::python::bind_batch(m);
  dynlib::python::bind_warnings(m);
}
