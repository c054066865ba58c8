// Batches and parameter sweeps (any stepper), on the library's thread pool (GIL released).
#include <dynlib/batch.hpp>
#include <dynlib/errors.hpp>

#include "bindings.hpp"
#include "py_model.hpp"

namespace dynlib::python {
namespace {

BatchOptions batch_options(const py::kwargs& kw) {
  BatchOptions o;
  py::dict settings;
  for (auto item : kw) {
    const auto key = py::str(item.first).cast<std::string>();
    const py::handle v = item.second;
    if (v.is_none()) continue;
    if (key == "T")
      o.T = v.cast<double>();
    else if (key == "N")
      o.N = static_cast<std::int64_t>(v.cast<double>());
    else if (key == "dt")
      o.dt = v.cast<double>();
    else if (key == "t0")
      o.t0 = v.cast<double>();
    else if (key == "transient")
      o.transient = v.cast<double>();
    else if (key == "record")
      o.record = v.cast<bool>();
    else if (key == "record_interval")
      o.record_interval = static_cast<std::int64_t>(v.cast<double>());
    else if (key == "record_vars")
      o.record_vars = to_names(v, "record_vars");
    else if (key == "record_last")
      o.record_last = static_cast<std::int64_t>(v.cast<double>());
    else if (key == "max_steps")
      o.max_steps = static_cast<std::int64_t>(v.cast<double>());
    else if (key == "threads")
      o.threads = v.cast<unsigned>();
    else if (key == "observers") {
      if (py::isinstance<Observer>(v))
        o.observers.push_back(v.cast<Observer>());
      else
        for (auto ob : v) o.observers.push_back(ob.cast<Observer>());
    } else {
      settings[item.first] = item.second;
    }
  }
  o.stepper = to_stepper_settings(settings);
  return o;
}

py::array_t<double> series_matrix(const BatchRun& r) {
  const auto k = static_cast<py::ssize_t>(r.series.size());
  const auto n = static_cast<py::ssize_t>(r.t.size());
  py::array_t<double> out({n, k});
  auto w = out.mutable_unchecked<2>();
  for (py::ssize_t j = 0; j < k; ++j)
    for (py::ssize_t i = 0; i < n; ++i)
      w(i, j) = r.series[static_cast<std::size_t>(j)][static_cast<std::size_t>(i)];
  return out;
}

}  // namespace

void bind_batch(py::module_& m) {
  py::class_<BatchRun>(m, "BatchRun", "One run of a batch or one point of a sweep.")
      .def_readonly("status", &BatchRun::status)
      .def_readonly("error", &BatchRun::error)
      .def_readonly("t_final", &BatchRun::t_final)
      .def_readonly("steps", &BatchRun::steps)
      .def_readonly("stopped_by", &BatchRun::stopped_by,
                    "The terminal root event that ended the run, or '' (as Results.stopped_by).")
      .def_property_readonly("ok", &BatchRun::ok)
      .def_property_readonly("final_state", [](const BatchRun& r) { return copy_of(r.final_state); })
      .def_property_readonly("params", [](const BatchRun& r) { return copy_of(r.params); })
      .def_property_readonly("t", [](const BatchRun& r) { return copy_of(r.t); })
      .def_property_readonly("data", &series_matrix, "Recorded series, shape (records, recorded vars).")
      .def_property_readonly("observers", [](const BatchRun& r) {
        py::dict d;
        for (const auto& o : r.observers) d[py::str(o.key)] = py::cast(o);
        return d;
      });

  py::class_<BatchResults>(m, "BatchResults")
      .def_readonly("state_names", &BatchResults::state_names)
      .def_readonly("param_names", &BatchResults::param_names)
      .def_readonly("record_names", &BatchResults::record_names)
      .def_readonly("runs", &BatchResults::runs)
      .def_readonly("threads", &BatchResults::threads)
      .def_readonly("seconds", &BatchResults::seconds)
      .def("__len__", &BatchResults::size)
      .def(
          "__getitem__", [](const BatchResults& b, std::size_t i) { return b[i]; },
          py::return_value_policy::copy);

  py::class_<SweepAxis>(m, "SweepAxis")
      .def_readonly("param", &SweepAxis::param)
      .def_property_readonly("values", [](const SweepAxis& a) { return copy_of(a.values); });

  py::class_<SweepResults>(m, "SweepResults",
                           "Point (i, j) of a 2-D sweep is at(i, j); a 1-D sweep uses at(i).")
      .def_readonly("axes", &SweepResults::axes)
      .def_readonly("batch", &SweepResults::batch)
      .def_property_readonly("nx", &SweepResults::nx)
      .def_property_readonly("ny", &SweepResults::ny)
      .def(
          "at", [](const SweepResults& s, std::size_t i, std::size_t j) { return s.at(i, j); }, py::arg("i"),
          py::arg("j") = 0, py::return_value_policy::copy)
      .def(
          "write_csv", [](const SweepResults& s, const std::string& path) { s.write_csv(path); },
          py::arg("path"));

  m.def(
      "run_batch",
      [](const py::object& model, const py::list& items, const py::kwargs& kw) {
        auto fm = build_model(model, {});
        std::vector<BatchItem> its;
        for (auto it : items) {
          auto d = it.cast<py::dict>();
          BatchItem b;
          if (d.contains("ic")) b.ic = to_assignments(d["ic"], "ic");
          if (d.contains("params")) b.params = to_assignments(d["params"], "params");
          its.push_back(std::move(b));
        }
        const BatchOptions o = batch_options(kw);
        py::gil_scoped_release release;
        return run_batch(fm.p, its, o);
      },
      py::arg("model"), py::arg("items"),
      "Independent runs of one compiled model (any stepper), items = [{'ic': {...}, 'params': {...}}, ...]; "
      "options as Sim.run (T, N, dt, t0, transient, record, record_interval, record_vars, record_last, "
      "max_steps, observers, threads, stepper settings).");
  m.def(
      "sweep",
      [](const py::object& model, const py::object& axes, const py::object& ic, const py::object& params,
         const py::kwargs& kw) {
        auto fm = build_model(model, {});
        std::vector<SweepAxis> ax;
        auto add = [&](py::handle name, py::handle values) {
          SweepAxis a;
          a.param = name.cast<std::string>();
          for (auto v : values) a.values.push_back(v.cast<double>());
          ax.push_back(std::move(a));
        };
        if (py::isinstance<py::dict>(axes))
          for (auto item : axes.cast<py::dict>()) add(item.first, item.second);
        else
          for (auto pair : axes) add(pair.cast<py::tuple>()[0], pair.cast<py::tuple>()[1]);
        BatchItem base;
        base.ic = to_assignments(ic, "ic");
        base.params = to_assignments(params, "params");
        const BatchOptions o = batch_options(kw);
        py::gil_scoped_release release;
        return sweep(fm.p, ax, o, base);
      },
      py::arg("model"), py::arg("axes"), py::kw_only(), py::arg("ic") = py::none(),
      py::arg("params") = py::none(),
      "A 1-D or 2-D parameter sweep: axes = {'r': values} or [('a', values), ('b', values)].");
}

}  // namespace dynlib::python
