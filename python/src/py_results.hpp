// The Python-side handle of a run's results: a shared pointer, so NumPy views of the data stay valid
// after the Sim runs again (the Sim then works on a copy of what this handle holds).
#pragma once
#include <dynlib/results.hpp>
#include <memory>

namespace dynlib::python {

struct PyResults {
  std::shared_ptr<const Results> r;
};

}  // namespace dynlib::python
