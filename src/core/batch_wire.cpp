// BatchRuns as bytes (batch_internal.hpp): what the processes of an executor send to the root.
#include <cstdint>
#include <cstring>
#include <dynlib/errors.hpp>

#include "core/batch_internal.hpp"

namespace dynlib::core {
namespace {

struct Writer {
  std::string& out;
  template <class T>
  void pod(T v) {
    out.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void size(std::size_t n) { pod<std::uint64_t>(n); }
  void str(const std::string& s) {
    size(s.size());
    out += s;
  }
  template <class T>
  void vec(const std::vector<T>& v) {
    size(v.size());
    if (!v.empty()) out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  void strs(const std::vector<std::string>& v) {
    size(v.size());
    for (const auto& s : v) str(s);
  }
};

struct Reader {
  std::string_view in;
  void need(std::size_t n) {
    if (in.size() < n) throw DynlibError("batch results from another process are truncated");
  }
  template <class T>
  T pod() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, in.data(), sizeof v);
    in.remove_prefix(sizeof v);
    return v;
  }
  std::size_t size(std::size_t elem) {
    const auto n = pod<std::uint64_t>();
    if (n > in.size() / std::max<std::size_t>(1, elem))
      throw DynlibError("batch results from another process are corrupt");
    return static_cast<std::size_t>(n);
  }
  std::string str() {
    const auto n = size(1);
    std::string s(in.substr(0, n));
    in.remove_prefix(n);
    return s;
  }
  template <class T>
  std::vector<T> vec() {
    const auto n = size(sizeof(T));
    std::vector<T> v(n);
    if (n) std::memcpy(v.data(), in.data(), n * sizeof(T));
    in.remove_prefix(n * sizeof(T));
    return v;
  }
  std::vector<std::string> strs() {
    std::vector<std::string> v(size(8));
    for (auto& s : v) s = str();
    return v;
  }
};

}  // namespace

void encode_runs(std::string& out, const std::vector<BatchRun>& runs) {
  Writer w{out};
  w.size(runs.size());
  for (const auto& r : runs) {
    w.pod(static_cast<std::int32_t>(r.status));
    w.str(r.error);
    w.pod(r.t_final);
    w.pod(r.steps);
    w.vec(r.final_state);
    w.vec(r.params);
    w.vec(r.t);
    w.size(r.series.size());
    for (const auto& c : r.series) w.vec(c);
    w.size(r.observers.size());
    for (const auto& o : r.observers) {
      w.str(o.key);
      w.strs(o.output_names);
      w.vec(o.outputs);
      w.strs(o.trace_names);
      w.vec(o.trace_t);
      w.vec(o.trace_step);
      w.size(o.trace_cols.size());
      for (const auto& c : o.trace_cols) w.vec(c);
    }
    w.vec(r.event_counts);
    w.str(r.stopped_by);
  }
}

std::vector<BatchRun> decode_runs(std::string_view bytes) {
  Reader rd{bytes};
  std::vector<BatchRun> runs(rd.size(8));
  for (auto& r : runs) {
    r.status = static_cast<Status>(rd.pod<std::int32_t>());
    r.error = rd.str();
    r.t_final = rd.pod<double>();
    r.steps = rd.pod<std::int64_t>();
    r.final_state = rd.vec<double>();
    r.params = rd.vec<double>();
    r.t = rd.vec<double>();
    r.series.resize(rd.size(8));
    for (auto& c : r.series) c = rd.vec<double>();
    r.observers.resize(rd.size(8));
    for (auto& o : r.observers) {
      o.key = rd.str();
      o.output_names = rd.strs();
      o.outputs = rd.vec<double>();
      o.trace_names = rd.strs();
      o.trace_t = rd.vec<double>();
      o.trace_step = rd.vec<std::int64_t>();
      o.trace_cols.resize(rd.size(8));
      for (auto& c : o.trace_cols) c = rd.vec<double>();
    }
    r.event_counts = rd.vec<std::int64_t>();
    r.stopped_by = rd.str();
  }
  if (!rd.in.empty()) throw DynlibError("batch results from another process have trailing bytes");
  return runs;
}

}  // namespace dynlib::core
