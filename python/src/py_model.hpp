// The Python-side handle of a compiled model, and how setup()/build() read their options.
#pragma once
#include <dynlib/full_model.hpp>

#include "bindings.hpp"

namespace dynlib::python {

struct PyFullModel {
  FullModelPtr p;
};

BuildOptions build_options(const py::object& stepper, const py::object& mods, bool jit,
                           const py::object& dtype, bool disk_cache, const std::string& cache_token,
                           bool jit_tiered);
// A FullModel as is, or a URI / path / "inline: ..." text built with the options (GIL released).
PyFullModel build_model(const py::object& model, const BuildOptions& options);

}  // namespace dynlib::python
