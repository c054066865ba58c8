// Results of a Sim: the stitched recording of every run since the last fresh run()/reset().
#pragma once
#include <cstddef>
#include <cstdint>
#include <dynlib/export.hpp>
#include <dynlib/observers.hpp>
#include <dynlib/status.hpp>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dynlib {

// One event firing. `step` is the session step count at which it fired (the step whose end
// triggered an end-phase event; the step about to be taken for a start-phase event).
struct DYNLIB_API EventRecord {
  std::string name;              // event name as declared in the model
  std::int32_t event_index = 0;  // declaration index in the model
  double t = 0.0;                // time of the firing (relative to the recording's t0)
  std::int64_t step = 0;         // session step count
  std::int64_t record = -1;      // index of the last record written before it (-1: none)
  std::vector<std::pair<std::string, double>> values;  // logged values (after the actions), in log order

  // Logged value by name ("t", "v", "aux:E", ...). Throws ArgumentError if not logged.
  [[nodiscard]] double operator[](std::string_view field) const;
  [[nodiscard]] bool has(std::string_view field) const noexcept;
};

class DYNLIB_API EventLog {
 public:
  [[nodiscard]] std::size_t size() const noexcept { return records_.size(); }
  [[nodiscard]] bool empty() const noexcept { return records_.empty(); }
  [[nodiscard]] const EventRecord& operator[](std::size_t i) const { return records_.at(i); }
  auto begin() const noexcept { return records_.begin(); }
  auto end() const noexcept { return records_.end(); }
  [[nodiscard]] std::size_t count(std::string_view name) const noexcept;
  [[nodiscard]] std::vector<EventRecord> of(std::string_view name) const;
  [[nodiscard]] std::vector<std::string> names() const;  // names that fired, in first-firing order
  std::vector<EventRecord>& records() noexcept { return records_; }

 private:
  std::vector<EventRecord> records_;
};

// The work a stepper did (steppers that count it: the implicit ones, `dynlib steppers show`).
struct WorkStats {
  std::int64_t rhs_evals = 0;          // right-hand side evaluations (a finite-difference Jacobian adds n)
  std::int64_t jac_evals = 0;          // Jacobian / iteration-matrix builds (finite differences or exact)
  std::int64_t lu_factorizations = 0;  // LU factorizations (one per linear solve)
  // The Jacobian of the latest run (FullModel::jacobian_source): "model", "symbolic", "finite
  // differences", or "" for a stepper that uses none.
  std::string jacobian{};
};

// A stitched chunk (one run() call that kept at least one record).
struct Segment {
  int id = 0;
  std::string name;  // tag, made unique with -2, -3, ...; auto "run#<id>"
  std::size_t rec_start = 0, rec_len = 0;
  std::size_t evt_start = 0, evt_len = 0;
  double t_start = 0.0, t_end = 0.0;
  std::int64_t step_start = 0, step_end = 0;
  bool resume = false;
};

class DYNLIB_API Results {
 public:
  Results() = default;
  Results(std::vector<std::string> state_names, std::vector<std::string> aux_names);

  [[nodiscard]] std::size_t size() const noexcept { return t_.size(); }  // number of records
  [[nodiscard]] const std::vector<double>& t() const noexcept { return t_; }
  [[nodiscard]] const std::vector<std::int64_t>& step() const noexcept { return step_; }
  // A recorded state ("x") or aux ("E" or "aux.E"). Throws ArgumentError naming the choices.
  // Lifetime: the span (like t(), step() and trace()) is a view into this Results, not a copy. It is
  // valid while the Results object lives and its Sim does not change it: the next run() (fresh or
  // resume), reset(), assign(..., clear_history = true) and load_snapshot() invalidate it, and so does
  // destroying the Sim. Copy what must outlive that: std::vector<double> x(span.begin(), span.end()).
  [[nodiscard]] std::span<const double> operator[](std::string_view name) const;
  [[nodiscard]] bool has(std::string_view name) const noexcept;
  [[nodiscard]] const std::vector<std::string>& state_names() const noexcept { return state_names_; }
  [[nodiscard]] const std::vector<std::string>& aux_names() const noexcept { return aux_names_; }
  [[nodiscard]] const EventLog& events() const noexcept { return events_; }
  // How often each event fired, logged or not (an event with an empty `log` fires and acts but leaves
  // no EventRecord), in model declaration order (event_names()). Counted like the log: over the
  // recorded runs of these results (a transient warm-up does not count).
  [[nodiscard]] const std::vector<std::int64_t>& event_counts() const noexcept { return event_counts_; }
  [[nodiscard]] const std::vector<std::string>& event_names() const noexcept { return event_names_; }
  // One event's count by name. Throws ArgumentError naming the events if the model has no such event.
  [[nodiscard]] std::int64_t event_count(std::string_view name) const;
  [[nodiscard]] const std::vector<Segment>& segments() const noexcept { return segments_; }
  [[nodiscard]] const Segment& segment(std::string_view name) const;

  [[nodiscard]] Status status() const noexcept { return status_; }
  [[nodiscard]] bool ok() const noexcept { return status_ == Status::DONE || status_ == Status::EARLY_EXIT; }
  [[nodiscard]] bool exited_early() const noexcept { return status_ == Status::EARLY_EXIT; }
  // The terminal root event that ended the run (status EARLY_EXIT), or "" (the run did not end on a
  // terminal event: [sim].stop, the horizon, ...).
  [[nodiscard]] const std::string& stopped_by() const noexcept { return stopped_by_; }
  [[nodiscard]] std::int64_t step_count_final() const noexcept { return step_count_final_; }
  // The stepper's work over the recorded runs of these results (a transient warm-up does not count);
  // nullopt when the stepper does not count its work.
  [[nodiscard]] const std::optional<WorkStats>& work_stats() const noexcept { return work_; }
  [[nodiscard]] double t_final() const noexcept { return t_final_; }

  // Observer outputs and traces of the last fresh run with observers (RunOptions::observers).
  [[nodiscard]] const std::vector<ObserverOutput>& observers() const noexcept { return observers_; }
  [[nodiscard]] const ObserverOutput& observer(
      std::string_view key) const;  // ArgumentError naming the observers
  [[nodiscard]] bool has_observer(std::string_view key) const noexcept;
  // A trace column by name ("mle", "lyap0", or "<key>.<column>"), searched over every observer.
  [[nodiscard]] std::span<const double> trace(std::string_view column) const;
  std::vector<ObserverOutput>& observers_mut() noexcept { return observers_; }

  // CSV: header `t,step,<states>,<aux>`, values with 17 significant digits.
  void write_csv(const std::filesystem::path& path) const;
  // Events CSV: header `event,t,step,<union of logged fields other than t>`, empty cell if not logged.
  void write_events_csv(const std::filesystem::path& path) const;

  // --- building (used by Sim) ---
  void append_record(double t, std::int64_t step, const double* states, const double* aux);
  std::vector<std::vector<double>>& columns() noexcept { return cols_; }  // states then aux
  std::vector<double>& t_mut() noexcept { return t_; }
  std::vector<std::int64_t>& step_mut() noexcept { return step_; }
  EventLog& events_mut() noexcept { return events_; }
  void set_event_names(std::vector<std::string> names) {  // the model's events; their counts start at 0
    event_names_ = std::move(names);
    event_counts_.assign(event_names_.size(), 0);
  }
  std::vector<std::int64_t>& event_counts_mut() noexcept { return event_counts_; }
  std::optional<WorkStats>& work_stats_mut() noexcept { return work_; }
  std::vector<Segment>& segments_mut() noexcept { return segments_; }
  void set_stopped_by(std::string event_name) { stopped_by_ = std::move(event_name); }
  void set_final(Status s, double t_final, std::int64_t step_count) noexcept {
    status_ = s;
    t_final_ = t_final;
    step_count_final_ = step_count;
  }

 private:
  std::vector<std::string> state_names_, aux_names_;
  std::string stopped_by_;
  std::vector<double> t_;
  std::vector<std::int64_t> step_;
  std::vector<std::vector<double>> cols_;
  EventLog events_;
  std::vector<std::string> event_names_;
  std::vector<std::int64_t> event_counts_;
  std::optional<WorkStats> work_;
  std::vector<Segment> segments_;
  Status status_ = Status::DONE;
  std::vector<ObserverOutput> observers_;
  double t_final_ = 0.0;
  std::int64_t step_count_final_ = 0;
};

}  // namespace dynlib
