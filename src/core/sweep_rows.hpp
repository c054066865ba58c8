// The CSV text of a sweep (header and the rows of one point), shared by SweepResults::write_csv and the
// streamed sweep files (sweep_file.cpp), so both write the same bytes.
#pragma once
#include <dynlib/batch.hpp>
#include <string>
#include <vector>

namespace dynlib::core {

struct SweepColumns {
  std::vector<std::string> axis_names;
  std::vector<std::string> state_names, record_names, event_names;
  std::vector<std::string> observer_cols;  // "key.output"
  bool stopped_by = false;                 // a last column naming the terminal root event that ended a point
  bool series() const { return !record_names.empty(); }
};

// "<p1>[,<p2>],status,t,...[,stopped_by]" or, with recorded series, "<p1>[,<p2>],t,<vars>"; ends with '\n'.
std::string sweep_csv_header(const SweepColumns& c);
// "<v1>,[<v2>,]": the axis values of a point, the start of each of its rows.
std::string sweep_row_prefix(const std::vector<SweepAxis>& axes, std::size_t i, std::size_t j);
// Appends the rows of one point: one per record with series, else one (ERROR and empty cells if it raised).
void append_point_rows(std::string& out, const SweepColumns& c, const std::string& prefix, const BatchRun& r);

}  // namespace dynlib::core
