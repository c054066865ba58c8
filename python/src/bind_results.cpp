// Results, events, segments and observer outputs. Series are NumPy views into the C++ results (no copy);
// the array's base is the Results object, which keeps the data alive.
#include <dynlib/errors.hpp>
#include <dynlib/results.hpp>
#include <dynlib/status.hpp>

#include "bindings.hpp"
#include "py_results.hpp"

namespace dynlib::python {
namespace {

py::array_t<double> series(const py::object& self, std::string_view name) {
  const auto& res = *self.cast<const PyResults&>().r;
  auto s = res[name];
  return view_of(s.data(), s.size(), self);
}

// Columns of several series side by side, shape (records, k): a copy, as in the reference API.
py::array_t<double> series_matrix(const PyResults& pr, const std::vector<std::string>& names) {
  const auto& res = *pr.r;
  std::vector<std::span<const double>> cols;
  for (const auto& n : names) cols.push_back(res[n]);
  const auto rows = static_cast<py::ssize_t>(res.size()), k = static_cast<py::ssize_t>(cols.size());
  py::array_t<double> out({rows, k});
  auto w = out.mutable_unchecked<2>();
  for (py::ssize_t i = 0; i < rows; ++i)
    for (py::ssize_t j = 0; j < k; ++j)
      w(i, j) = cols[static_cast<std::size_t>(j)][static_cast<std::size_t>(i)];
  return out;
}

// Every logged field of one event name as arrays (NaN where a firing did not log that field), plus
// "step" and "record".
py::dict event_columns(const Results& res, std::string_view name) {
  const auto recs = res.events().of(name);
  std::vector<std::string> fields;
  for (const auto& r : recs)
    for (const auto& [f, v] : r.values)
      if (std::find(fields.begin(), fields.end(), f) == fields.end()) fields.push_back(f);
  py::dict out;
  for (const auto& f : fields) {
    std::vector<double> col;
    col.reserve(recs.size());
    for (const auto& r : recs) col.push_back(r.has(f) ? r[f] : std::numeric_limits<double>::quiet_NaN());
    out[py::str(f)] = copy_of(col);
  }
  std::vector<std::int64_t> steps, records;
  for (const auto& r : recs) {
    steps.push_back(r.step);
    records.push_back(r.record);
  }
  out["step"] = copy_of(steps);
  out["record"] = copy_of(records);
  return out;
}

}  // namespace

void bind_results(py::module_& m) {
  py::enum_<Status>(m, "Status", "How a run ended (DONE, EARLY_EXIT, MAX_STEPS, ...).")
      .value("OK", Status::OK)
      .value("STEPFAIL", Status::STEPFAIL)
      .value("NAN_DETECTED", Status::NAN_DETECTED)
      .value("EARLY_EXIT", Status::EARLY_EXIT)
      .value("DONE", Status::DONE)
      .value("GROW_REC", Status::GROW_REC)
      .value("GROW_EVT", Status::GROW_EVT)
      .value("USER_BREAK", Status::USER_BREAK)
      .value("TRACE_OVERFLOW", Status::TRACE_OVERFLOW)
      .value("MAX_STEPS", Status::MAX_STEPS)
      .value("RECORD_LIMIT", Status::RECORD_LIMIT);

  py::class_<EventRecord>(m, "Event", "One event firing.")
      .def_readonly("name", &EventRecord::name)
      .def_readonly("index", &EventRecord::event_index)
      .def_readonly("t", &EventRecord::t)
      .def_readonly("step", &EventRecord::step)
      .def_readonly("record", &EventRecord::record)
      .def_property_readonly("values",
                             [](const EventRecord& e) {
                               py::dict d;
                               for (const auto& [k, v] : e.values) d[py::str(k)] = v;
                               return d;
                             })
      .def("__getitem__", [](const EventRecord& e, std::string_view f) { return e[f]; })
      .def("__contains__", [](const EventRecord& e, std::string_view f) { return e.has(f); })
      .def("__repr__", [](const EventRecord& e) {
        return "<Event " + e.name + " t=" + py::repr(py::float_(e.t)).cast<std::string>() +
               " step=" + std::to_string(e.step) + ">";
      });

  py::class_<Segment>(m, "Segment", "One run() call's part of the stitched results.")
      .def_readonly("id", &Segment::id)
      .def_readonly("name", &Segment::name)
      .def_readonly("rec_start", &Segment::rec_start)
      .def_readonly("rec_len", &Segment::rec_len)
      .def_readonly("evt_start", &Segment::evt_start)
      .def_readonly("evt_len", &Segment::evt_len)
      .def_readonly("t_start", &Segment::t_start)
      .def_readonly("t_end", &Segment::t_end)
      .def_readonly("step_start", &Segment::step_start)
      .def_readonly("step_end", &Segment::step_end)
      .def_readonly("resume", &Segment::resume)
      .def("__repr__", [](const Segment& s) {
        return "<Segment " + s.name + " records " + std::to_string(s.rec_start) + "+" +
               std::to_string(s.rec_len) + ">";
      });

  py::class_<ObserverOutput>(m, "ObserverResult",
                             "An analysis's outputs (res.observers['lyapunov_mle']): obs['mle'] or obs.mle "
                             "is an output; a trace column by name is an array (obs.trace('mle')).")
      .def_readonly("key", &ObserverOutput::key)
      .def_readonly("output_names", &ObserverOutput::output_names)
      .def_readonly("trace_names", &ObserverOutput::trace_names)
      .def_property_readonly("out", [](const ObserverOutput& o) { return copy_of(o.outputs); })
      .def_property_readonly("trace_time", [](const ObserverOutput& o) { return copy_of(o.trace_t); })
      .def_property_readonly("trace_steps", [](const ObserverOutput& o) { return copy_of(o.trace_step); })
      .def("trace",
           [](const ObserverOutput& o, std::string_view col) {
             auto s = o.trace(col);
             return copy_of(std::vector<double>(s.begin(), s.end()));
           })
      .def("exponents", [](const ObserverOutput& o) { return copy_of(o.exponents()); })
      .def("__getitem__",
           [](const ObserverOutput& o, std::string_view name) -> py::object {
             if (o.has(name)) return py::float_(o[name]);
             auto s = o.trace(name);  // ArgumentError naming the choices if unknown
             return copy_of(std::vector<double>(s.begin(), s.end()));
           })
      .def("__getattr__",
           [](const ObserverOutput& o, const std::string& name) -> py::object {
             if (o.has(name)) return py::float_(o[name]);
             for (std::size_t k = 0; k < o.trace_names.size(); ++k)
               if (o.trace_names[k] == name) {
                 const auto& col = o.trace_cols[k];
                 if (!col.empty()) return py::float_(col.back());  // the last (final) estimate
               }
             throw py::attribute_error("ObserverResult has no output or trace '" + name + "'");
           })
      .def("__repr__", [](const ObserverOutput& o) { return "<ObserverResult " + o.key + ">"; });

  py::class_<PyResults>(
      m, "Results",
      "The stitched recording of a Sim's runs. res.t, res.step and res['x'] are read-only NumPy "
      "views of the data (no copy) that stay valid after later runs.")
      .def("__len__", [](const PyResults& p) { return p.r->size(); })
      .def_property_readonly("n", [](const PyResults& p) { return p.r->size(); })
      .def_property_readonly("m", [](const PyResults& p) { return p.r->events().size(); })
      .def_property_readonly("t",
                             [](const py::object& self) {
                               const auto& t = self.cast<const PyResults&>().r->t();
                               return view_of(t.data(), t.size(), self);
                             })
      .def_property_readonly("step",
                             [](const py::object& self) {
                               const auto& s = self.cast<const PyResults&>().r->step();
                               return view_of(s.data(), s.size(), self);
                             })
      .def("__getitem__", [](const py::object& self, const std::string& name) { return series(self, name); })
      .def("__getitem__",
           [](const PyResults& p, const std::vector<std::string>& names) { return series_matrix(p, names); })
      .def("get_var", [](const py::object& self, const std::string& name) { return series(self, name); })
      .def("__contains__", [](const PyResults& p, std::string_view name) { return p.r->has(name); })
      .def_property_readonly("state_names", [](const PyResults& p) { return p.r->state_names(); })
      .def_property_readonly("aux_names", [](const PyResults& p) { return p.r->aux_names(); })
      .def_property_readonly("status", [](const PyResults& p) { return p.r->status(); })
      .def_property_readonly("ok", [](const PyResults& p) { return p.r->ok(); })
      .def_property_readonly("exited_early", [](const PyResults& p) { return p.r->exited_early(); })
      .def_property_readonly("stopped_by", [](const PyResults& p) { return p.r->stopped_by(); })
      .def_property_readonly("step_count_final", [](const PyResults& p) { return p.r->step_count_final(); })
      .def_property_readonly("t_final", [](const PyResults& p) { return p.r->t_final(); })
      .def_property_readonly("events",
                             [](const PyResults& p) {
                               py::list out;
                               for (const auto& e : p.r->events()) out.append(py::cast(e));
                               return out;
                             })
      .def("event_names", [](const PyResults& p) { return p.r->events().names(); })
      .def("_event_columns",
           [](const PyResults& p, std::string_view name) { return event_columns(*p.r, name); })
      .def_property_readonly("segments", [](const PyResults& p) { return p.r->segments(); })
      .def_property_readonly("observers",
                             [](const PyResults& p) {
                               py::dict d;
                               for (const auto& o : p.r->observers()) d[py::str(o.key)] = py::cast(o);
                               return d;
                             })
      .def("observer", [](const PyResults& p, std::string_view key) { return p.r->observer(key); })
      .def(
          "write_csv", [](const PyResults& p, const std::string& path) { p.r->write_csv(path); },
          py::arg("path"))
      .def(
          "write_events_csv",
          [](const PyResults& p, const std::string& path) { p.r->write_events_csv(path); }, py::arg("path"))
      .def("__repr__", [](const PyResults& p) {
        return std::string("<Results ") + std::to_string(p.r->size()) + " records, " +
               std::to_string(p.r->events().size()) + " events, status " + status_name(p.r->status()) + ">";
      });
}

}  // namespace dynlib::python
