// Shared pieces of the Python extension `dynlib._dynlib`: one bind_* function per area, and the
// conversions every area uses.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstddef>
#include <dynlib/options.hpp>
#include <string>
#include <vector>

namespace dynlib::python {

namespace py = pybind11;

void bind_errors(py::module_& m);
void bind_model(py::module_& m);
void bind_results(py::module_& m);
void bind_sim(py::module_& m);
void bind_batch(py::module_& m);
void bind_warnings(py::module_& m);

// A read-only 1-D NumPy array over `n` elements at `data` that keeps `owner` alive (no copy).
template <class T>
py::array_t<T> view_of(const T* data, std::size_t n, py::handle owner) {
  py::array_t<T> a({static_cast<py::ssize_t>(n)}, {static_cast<py::ssize_t>(sizeof(T))}, data, owner);
  py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return a;
}

// A new NumPy array holding a copy of `v`.
template <class T>
py::array_t<T> copy_of(const std::vector<T>& v) {
  py::array_t<T> a(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

// {"x": 1.0, ...} or [("x", 1.0), ...] -> Assignments (order kept). None -> empty.
Assignments to_assignments(py::handle values, const char* what);

// Stepper settings from keyword arguments: numbers, or the names of enumerated values ("external").
StepperSettings to_stepper_settings(const py::dict& settings);

// A list of names from a str (one name, or "a,b") or an iterable of str.
std::vector<std::string> to_names(py::handle names, const char* what);

}  // namespace dynlib::python
