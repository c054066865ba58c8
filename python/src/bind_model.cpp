// Models and their compiled form: build(), FullModel, the stepper catalogue, builtin models.
#include <dynlib/full_model.hpp>
#include <dynlib/model.hpp>

#include "bindings.hpp"
#include "py_model.hpp"
#include "steppers_catalogue/stepper_registry.hpp"

namespace dynlib::python {
namespace {

py::dict stepper_info(const kernels::StepperInfo& s) {
  py::dict d;
  d["name"] = s.name;
  d["aliases"] = s.aliases;
  d["kind"] = s.kind_name();
  d["time_control"] = s.time_control();
  d["scheme"] = s.scheme();
  d["family"] = s.family;
  d["order"] = s.order;
  d["embedded_order"] = s.embedded_order;
  d["stiff"] = s.stiff;
  d["dense_output"] = s.dense_output;
  d["jacobian"] = kernels::jacobian_cap_name(s.jacobian);
  d["jit_capable"] = s.jit_capable;
  py::dict cfg;
  for (const auto& f : s.config) {
    if (!f.enum_values.empty()) {
      py::object v = py::float_(f.default_value);
      for (const auto& [name, code] : f.enum_values)
        if (code == static_cast<int>(f.default_value)) v = py::str(name);
      cfg[py::str(f.name)] = v;
    } else if (f.is_int) {
      cfg[py::str(f.name)] = static_cast<long long>(f.default_value);
    } else {
      cfg[py::str(f.name)] = f.default_value;
    }
  }
  d["config"] = cfg;
  return d;
}

}  // namespace

BuildOptions build_options(const py::object& stepper, const py::object& mods, bool jit,
                           const py::object& dtype, bool disk_cache, const std::string& cache_token,
                           bool jit_tiered) {
  BuildOptions o;
  if (!stepper.is_none()) o.stepper = stepper.cast<std::string>();
  if (!mods.is_none()) o.mods = to_names(mods, "mods");
  o.jit = jit;
  if (!dtype.is_none()) o.dtype = py::str(dtype).cast<std::string>();
  o.disk_cache = disk_cache;
  o.cache_token = cache_token;
  o.jit_tiered = jit_tiered;
  return o;
}

PyFullModel build_model(const py::object& model, const BuildOptions& o) {
  if (py::isinstance<PyFullModel>(model)) return model.cast<PyFullModel>();
  const auto uri = model.cast<std::string>();
  py::gil_scoped_release release;
  return PyFullModel{build(uri, o)};
}

void bind_model(py::module_& m) {
  m.def("jit_available", &jit_available, "True if the LLVM JIT component can be loaded.");
  m.def("builtin_models", &builtin_model_names, "Names of the builtin models, e.g. 'ode/lorenz'.");
  m.def(
      "list_steppers",
      [](const py::object& kind) {
        kernels::StepperFilter f;
        if (!kind.is_none()) {
          const auto k = kind.cast<std::string>();
          if (k != "ode" && k != "map") throw ArgumentError("kind must be 'ode' or 'map', not '" + k + "'");
          f.kind = k == "ode" ? ir::Kind::ode : ir::Kind::map;
        }
        py::list out;
        for (const auto* s : kernels::list_steppers(f)) out.append(stepper_info(*s));
        return out;
      },
      py::arg("kind") = py::none(),
      "Every stepper as a dict (name, aliases, kind, order, stiff, settings with defaults, ...).");
  m.def(
      "stepper_info", [](const std::string& name) { return stepper_info(kernels::get_stepper(name)); },
      py::arg("name"), "One stepper's metadata and settings (aliases accepted).");

  py::class_<PyFullModel>(m, "FullModel", "A model bound to a stepper and compiled (interpreted or JIT).")
      .def_property_readonly("stepper_name", [](const PyFullModel& f) { return f.p->stepper_name(); })
      .def_property_readonly("stepper", [](const PyFullModel& f) { return f.p->stepper(); })
      .def_property_readonly("dtype", [](const PyFullModel& f) { return std::string(f.p->dtype_name()); })
      .def_property_readonly("jit", [](const PyFullModel& f) { return f.p->jit(); })
      .def_property_readonly("kind",
                             [](const PyFullModel& f) {
                               return std::string(f.p->model().kind == ir::Kind::ode ? "ode" : "map");
                             })
      .def_property_readonly("name", [](const PyFullModel& f) { return f.p->model().name; })
      .def_property_readonly("states", [](const PyFullModel& f) { return f.p->model().states; })
      .def_property_readonly("params", [](const PyFullModel& f) { return f.p->model().params; })
      .def_property_readonly("aux", [](const PyFullModel& f) { return f.p->model().aux; })
      .def_property_readonly("state_ic", [](const PyFullModel& f) { return copy_of(f.p->model().state_ic); })
      .def_property_readonly("param_values",
                             [](const PyFullModel& f) { return copy_of(f.p->model().param_vals); })
      .def_property_readonly("spec_hash", [](const PyFullModel& f) { return f.p->model_hash(); })
      .def("components", [](const PyFullModel& f) { return f.p->components(); })
      .def("is_jitted", [](const PyFullModel& f, const std::string& c) { return f.p->is_jitted(c); })
      .def("signature", [](const PyFullModel& f, const std::string& c) { return f.p->signature(c); })
      .def("source", [](const PyFullModel& f, const std::string& c) { return f.p->source(c); })
      .def("export_sources",
           [](const PyFullModel& f, const std::string& dir) {
             py::dict out;
             for (const auto& [k, v] : f.p->export_sources(dir)) out[py::str(k)] = v.string();
             return out;
           })
      .def_property_readonly("cache_origin", [](const PyFullModel& f) { return f.p->cache_origin(); })
      .def_property_readonly("jit_tier", [](const PyFullModel& f) { return f.p->jit_tier(); })
      .def(
          "wait_optimized", [](const PyFullModel& f) { f.p->wait_optimized(); },
          py::call_guard<py::gil_scoped_release>())
      .def("__repr__", [](const PyFullModel& f) {
        return "<FullModel " + f.p->model().source + " stepper=" + f.p->stepper_name() +
               (f.p->jit() ? " jit" : " interpreted") + ">";
      });

  m.def(
      "build",
      [](const py::object& model, const py::object& stepper, const py::object& mods, bool jit,
         const py::object& dtype, bool disk_cache, const std::string& cache_token, bool jit_tiered) {
        return build_model(model,
                           build_options(stepper, mods, jit, dtype, disk_cache, cache_token, jit_tiered));
      },
      py::arg("model"), py::kw_only(), py::arg("stepper") = py::none(), py::arg("mods") = py::none(),
      py::arg("jit") = false, py::arg("dtype") = py::none(), py::arg("disk_cache") = false,
      py::arg("cache_token") = "", py::arg("jit_tiered") = true,
      "Load a model (URI, path or 'inline: ...' text) and compile it for a stepper.");
}

}  // namespace dynlib::python
