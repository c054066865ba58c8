// The library's warnings (max_steps reached, cache fallbacks, ...) as Python RuntimeWarnings, so that
// `warnings` filters and pytest see them. Warnings may come from library threads: the GIL is taken here.
#include <dynlib/warnings.hpp>

#include "bindings.hpp"

namespace dynlib::python {

void bind_warnings(py::module_&) {
  set_warning_handler([](std::string_view message) {
    if (!Py_IsInitialized() || _Py_IsFinalizing()) return;
    py::gil_scoped_acquire gil;
    try {
      py::module_::import("warnings")
          .attr("warn")(py::str(std::string(message)), py::handle(PyExc_RuntimeWarning));
    } catch (py::error_already_set& e) {
      // A filter turned the warning into an error: it cannot travel through a running simulation.
      e.discard_as_unraisable("dynlib warning");
    }
  });
}

}  // namespace dynlib::python
