// Sim and setup(): the session API. Runs release the GIL (other Python threads go on, several Sims can
// run at once) and stop on Ctrl-C after the current step, keeping what was recorded.
#include <dynlib/errors.hpp>
#include <dynlib/observers.hpp>
#include <dynlib/sim.hpp>

#include "bindings.hpp"
#include "interrupt.hpp"
#include "py_model.hpp"
#include "py_results.hpp"

namespace dynlib::python {
namespace {

// A Sim used from Python. `busy` is set while a run executes without the GIL: any other call on the same
// Sim from another thread is refused instead of racing with the run.
struct PySim {
  explicit PySim(Sim s) : sim(std::move(s)) {}
  Sim sim;
  std::atomic<bool> busy{false};

  Sim& get() {
    if (busy.load()) throw ArgumentError("This Sim is running in another thread; use one Sim per thread.");
    return sim;
  }
};

template <class T>
std::optional<T> opt(const py::dict& kw, const char* key) {
  if (!kw.contains(key) || kw[key].is_none()) return std::nullopt;
  try {
    return kw[key].cast<T>();
  } catch (const py::cast_error&) {
    throw ArgumentError(std::string("run(): '") + key +
                        "' has the wrong type: " + py::repr(kw[key]).cast<std::string>());
  }
}

std::int64_t to_count(const py::handle& v, const char* key) {
  // Accepts 1e6 as well as 1000000, but not 2.5.
  const double d = v.cast<double>();
  if (d != static_cast<double>(static_cast<std::int64_t>(d)))
    throw ArgumentError(std::string(key) + " must be a whole number, not " + py::repr(v).cast<std::string>());
  return static_cast<std::int64_t>(d);
}

std::optional<std::int64_t> opt_count(const py::dict& kw, const char* key) {
  if (!kw.contains(key) || kw[key].is_none()) return std::nullopt;
  return to_count(kw[key], key);
}

std::vector<Observer> to_observers(const py::handle& obs) {
  std::vector<Observer> out;
  if (obs.is_none()) return out;
  if (py::isinstance<Observer>(obs)) {
    out.push_back(obs.cast<Observer>());
    return out;
  }
  for (auto o : obs) out.push_back(o.cast<Observer>());
  return out;
}

const char* const kRunKeys[] = {"T",           "N",         "dt",
                                "t0",          "record",    "record_interval",
                                "record_vars", "max_steps", "max_record_bytes",
                                "max_events",  "resume",    "transient",
                                "ic",          "params",    "cap_rec",
                                "cap_evt",     "tag",       "observers"};

RunOptions run_options(const py::dict& kw) {
  RunOptions o;
  o.T = opt<double>(kw, "T");
  o.N = opt_count(kw, "N");
  o.dt = opt<double>(kw, "dt");
  o.t0 = opt<double>(kw, "t0");
  o.record = opt<bool>(kw, "record");
  o.record_interval = opt_count(kw, "record_interval");
  if (kw.contains("record_vars") && !kw["record_vars"].is_none())
    o.record_vars = to_names(kw["record_vars"], "record_vars");
  o.max_steps = opt_count(kw, "max_steps");
  o.max_record_bytes = opt_count(kw, "max_record_bytes");
  o.max_events = opt_count(kw, "max_events");
  o.resume = opt<bool>(kw, "resume").value_or(false);
  o.transient = opt<double>(kw, "transient");
  if (kw.contains("ic")) o.ic = to_assignments(kw["ic"], "ic");
  if (kw.contains("params")) o.params = to_assignments(kw["params"], "params");
  o.cap_rec = opt_count(kw, "cap_rec");
  o.cap_evt = opt_count(kw, "cap_evt");
  if (kw.contains("tag") && !kw["tag"].is_none()) o.tag = kw["tag"].cast<std::string>();
  if (kw.contains("observers")) o.observers = to_observers(kw["observers"]);
  py::dict settings;
  for (auto item : kw) {
    const auto key = py::str(item.first).cast<std::string>();
    bool known = false;
    for (const char* k : kRunKeys) known = known || key == k;
    if (!known) settings[item.first] = item.second;
  }
  o.stepper = to_stepper_settings(settings);
  return o;
}

void run(PySim& ps, const py::kwargs& kwargs) {
  Sim& sim = ps.get();
  const RunOptions o = run_options(kwargs);
  InterruptScope interrupt(sim.user_break());
  Status status;
  ps.busy = true;
  try {
    py::gil_scoped_release release;
    status = sim.run(o);
  } catch (...) {
    ps.busy = false;
    throw;
  }
  ps.busy = false;
  if (status == Status::USER_BREAK && interrupt.interrupted()) {
    PyErr_SetNone(PyExc_KeyboardInterrupt);
    throw py::error_already_set();
  }
}

py::dict as_dict(const Assignments& a) {
  py::dict d;
  for (const auto& [k, v] : a) d[py::str(k)] = v;
  return d;
}

// A path given as str or os.PathLike (pathlib.Path).
std::string fs_path(const py::object& p) {
  return py::str(py::module_::import("os").attr("fspath")(p)).cast<std::string>();
}

py::dict name_values(const std::vector<std::string>& names, const std::vector<double>& values) {
  py::dict d;
  for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) d[py::str(names[i])] = values[i];
  return d;
}

void config(PySim& ps, const py::kwargs& kw) {
  SimConfig c;
  py::dict settings;
  for (auto item : kw) {
    const auto key = py::str(item.first).cast<std::string>();
    if (item.second.is_none()) continue;
    if (key == "dt")
      c.dt = item.second.cast<double>();
    else if (key == "max_steps")
      c.max_steps = to_count(item.second, "max_steps");
    else if (key == "record")
      c.record = item.second.cast<bool>();
    else if (key == "record_interval")
      c.record_interval = to_count(item.second, "record_interval");
    else if (key == "cap_rec")
      c.cap_rec = to_count(item.second, "cap_rec");
    else if (key == "cap_evt")
      c.cap_evt = to_count(item.second, "cap_evt");
    else
      settings[item.first] = item.second;
  }
  c.stepper = to_stepper_settings(settings);
  ps.get().config(c);
}

}  // namespace

void bind_sim(py::module_& m) {
  py::class_<Observer>(m, "Observer",
                       "An analysis that runs inside the runner loop (pass to run(observers=...)).")
      .def_property_readonly("key", &Observer::key)
      .def("__repr__", [](const Observer& o) { return "<Observer " + o.key() + ">"; });
  auto lyap_opts = [](int k, std::int64_t renorm_every, std::int64_t trace_stride) {
    return LyapunovOptions{.k = k, .renorm_every = renorm_every, .trace_stride = trace_stride};
  };
  m.def(
      "lyapunov_mle",
      [lyap_opts](int k, std::int64_t r, std::int64_t s) { return lyapunov_mle(lyap_opts(k, r, s)); },
      py::kw_only(), py::arg("k") = 0, py::arg("renorm_every") = 1, py::arg("trace_stride") = 1,
      "The largest Lyapunov exponent (outputs log_growth, denom, steps, mle; trace column mle).");
  m.def(
      "lyapunov_spectrum",
      [lyap_opts](int k, std::int64_t r, std::int64_t s) { return lyapunov_spectrum(lyap_opts(k, r, s)); },
      py::kw_only(), py::arg("k") = 0, py::arg("renorm_every") = 1, py::arg("trace_stride") = 1,
      "The k leading Lyapunov exponents (outputs lyap0..; trace columns lyap0..).");

  py::class_<PySim>(m, "Sim", "A simulation session: state, parameters, time, stepper settings and results.")
      .def(py::init([](const PyFullModel& f) { return std::make_unique<PySim>(Sim(f.p)); }), py::arg("model"))
      .def("run", &run,
           "run(*, T=None, N=None, dt=None, t0=None, record=None, record_interval=None, record_vars=None, "
           "max_steps=None, transient=None, resume=False, ic=None, params=None, cap_rec=None, cap_evt=None, "
           "tag=None, observers=None, **stepper_settings). Raises SimulationError on NaN or step failure "
           "(with partial_results), KeyboardInterrupt on Ctrl-C (the partial run is kept).")
      .def("results", [](PySim& s) { return PyResults{s.get().shared_results()}; })
      .def("raw_results", [](PySim& s) { return PyResults{s.get().shared_results()}; })
      .def_property_readonly("has_results", [](PySim& s) { return s.get().has_results(); })
      .def(
          "assign",
          [](PySim& s, const py::object& mapping, bool clear_history, const py::kwargs& kw) {
            Assignments a = to_assignments(mapping, "assign()");
            for (const auto& kv : to_assignments(kw, "assign()")) a.push_back(kv);
            s.get().assign(a, clear_history);
          },
          py::arg("mapping") = py::none(), py::kw_only(), py::arg("clear_history") = false)
      .def(
          "list_presets",
          [](PySim& s, const std::string& pattern) {
            auto names = s.get().list_presets();
            std::sort(names.begin(), names.end());
            return py::module_::import("fnmatch").attr("filter")(names, pattern);
          },
          py::arg("pattern") = "*")
      .def("apply_preset", [](PySim& s, const std::string& name) { s.get().apply_preset(name); })
      .def(
          "add_preset",
          [](PySim& s, const std::string& name, const py::object& states, const py::object& params,
             bool overwrite) {
            Sim& sim = s.get();
            if (states.is_none() && params.is_none()) {  // snapshot the session
              const auto& fm = sim.model().model();
              Assignments st, pa;
              const auto y = sim.state_vector(), p = sim.param_vector();
              for (std::size_t i = 0; i < fm.states.size(); ++i) st.emplace_back(fm.states[i], y[i]);
              for (std::size_t i = 0; i < fm.params.size(); ++i) pa.emplace_back(fm.params[i], p[i]);
              sim.add_preset(name, st, pa, overwrite);
            } else {
              sim.add_preset(name, to_assignments(states, "states"), to_assignments(params, "params"),
                             overwrite);
            }
          },
          py::arg("name"), py::kw_only(), py::arg("states") = py::none(), py::arg("params") = py::none(),
          py::arg("overwrite") = false)
      .def(
          "load_preset",
          [](PySim& s, const std::string& name_or_glob, const py::object& path,
             const std::string& on_conflict) {
            PresetConflict c = PresetConflict::error;
            if (on_conflict == "keep")
              c = PresetConflict::keep;
            else if (on_conflict == "replace")
              c = PresetConflict::replace;
            else if (on_conflict != "error")
              throw ArgumentError("on_conflict must be 'error', 'keep' or 'replace', not '" + on_conflict +
                                  "'");
            return s.get().load_preset(name_or_glob, fs_path(path), c);
          },
          py::arg("name_or_glob"), py::arg("path"), py::kw_only(), py::arg("on_conflict") = "error",
          "Load the presets of a preset file whose names match the glob; returns how many were added.")
      .def(
          "save_preset",
          [](PySim& s, const std::string& name, const py::object& path, bool overwrite) {
            s.get().save_preset(name, fs_path(path), overwrite);
          },
          py::arg("name"), py::arg("path"), py::kw_only(), py::arg("overwrite") = false,
          "Write one preset into a preset file (created if missing, its other presets kept), atomically.")
      .def("config", &config,
           "Persistent run defaults: dt, max_steps, record, record_interval, cap_rec, cap_evt, "
           "and stepper settings by name.")
      .def("stepper_config",
           [](PySim& s, const py::kwargs& kw) {
             if (!kw.empty()) config(s, kw);
             return as_dict(s.get().stepper_config());
           })
      .def(
          "create_snapshot",
          [](PySim& s, std::string name, std::string description) {
            s.get().create_snapshot(std::move(name), std::move(description));
          },
          py::arg("name"), py::arg("description") = "")
      .def("list_snapshots",
           [](PySim& s) {
             py::list out;
             for (const auto& i : s.get().list_snapshots()) {
               py::dict d;
               d["name"] = i.name;
               d["description"] = i.description;
               d["t"] = i.t;
               d["step"] = i.step;
               out.append(d);
             }
             return out;
           })
      .def(
          "reset", [](PySim& s, const std::string& name) { s.get().reset(name); },
          py::arg("name") = "initial")
      .def(
          "export_snapshot",
          [](PySim& s, const std::string& path, const std::string& source, const py::object& name) {
            if (source != "current" && source != "snapshot")
              throw ArgumentError("source must be 'current' or 'snapshot', not '" + source + "'");
            if (source == "snapshot" && name.is_none())
              throw ArgumentError("source='snapshot' needs the snapshot's name (name=...)");
            s.get().save_snapshot(path, source == "snapshot" ? name.cast<std::string>() : std::string());
          },
          py::arg("path"), py::kw_only(), py::arg("source") = "current", py::arg("name") = py::none(),
          "Write the session (or a named in-memory snapshot) to a snapshot file, atomically.")
      .def(
          "import_snapshot", [](PySim& s, const std::string& path) { s.get().load_snapshot(path); },
          py::arg("path"),
          "Replace the session by a snapshot file's (checked against the model and stepper).")
      .def(
          "_snapshot_text",
          [](PySim& s, const std::string& name) { return py::bytes(s.get().snapshot_text(name)); },
          py::arg("name") = "", "The text snapshot format of the session or a named snapshot (for .npz).")
      .def(
          "_load_snapshot_text",
          [](PySim& s, const std::string& text, const std::string& origin) {
            s.get().load_snapshot_text(text, origin);
          },
          py::arg("text"), py::arg("origin"), "Load the text snapshot format (from an .npz), fully checked.")
      .def_property_readonly("t", [](PySim& s) { return s.get().t(); })
      .def_property_readonly("step_count", [](PySim& s) { return s.get().step_count(); })
      .def_property_readonly("dt", [](PySim& s) { return s.get().dt(); })
      .def_property_readonly("status", [](PySim& s) { return s.get().status(); })
      .def("state_vector", [](PySim& s) { return copy_of(s.get().state_vector()); })
      .def("param_vector", [](PySim& s) { return copy_of(s.get().param_vector()); })
      .def("state_dict",
           [](PySim& s) { return name_values(s.get().model().model().states, s.get().state_vector()); })
      .def("param_dict",
           [](PySim& s) { return name_values(s.get().model().model().params, s.get().param_vector()); })
      .def("state", [](PySim& s, std::string_view name) { return s.get().state(name); })
      .def("param", [](PySim& s, std::string_view name) { return s.get().param(name); })
      .def(
          "request_break", [](PySim& s) { s.sim.request_break(); },
          "Ask a run in another thread to stop after its current step (status USER_BREAK).")
      .def_property_readonly("model", [](PySim& s) { return PyFullModel{s.get().model_ptr()}; })
      .def("__repr__", [](PySim& s) {
        return "<Sim " + s.sim.model().model().source + " stepper=" + s.sim.model().stepper_name() + ">";
      });

  m.def(
      "setup",
      [](const py::object& model, const py::object& stepper, const py::object& mods, bool jit,
         const py::object& dtype, bool disk_cache, const std::string& cache_token, bool jit_tiered) {
        auto fm =
            build_model(model, build_options(stepper, mods, jit, dtype, disk_cache, cache_token, jit_tiered));
        return std::make_unique<PySim>(Sim(fm.p));
      },
      py::arg("model"), py::kw_only(), py::arg("stepper") = py::none(), py::arg("mods") = py::none(),
      py::arg("jit") = false, py::arg("dtype") = py::none(), py::arg("disk_cache") = false,
      py::arg("cache_token") = "", py::arg("jit_tiered") = true,
      "build() and a Sim over it: setup('builtin://ode/lorenz', stepper='rk4', jit=True).");
}

}  // namespace dynlib::python
