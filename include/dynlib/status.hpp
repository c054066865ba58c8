// Runner/stepper status codes (values match the reference library's Status enum).
#pragma once
#include <cstdint>
#include <dynlib/export.hpp>

namespace dynlib {

enum class Status : std::int32_t {
  OK = 0,            // internal: a step succeeded
  STEPFAIL = 2,      // the stepper could not take a step
  NAN_DETECTED = 3,  // a guard found NaN/Inf
  EARLY_EXIT = 7,    // [sim].stop fired
  DONE = 9,          // horizon reached
  GROW_REC = 10,     // record buffer full: host grows it and re-enters
  GROW_EVT = 11,     // event buffer full: host grows it and re-enters
  USER_BREAK = 12,   // the user-break flag was set
  TRACE_OVERFLOW = 13,
  MAX_STEPS = 14,     // max_steps steps were taken before the horizon (T or N) was reached
  RECORD_LIMIT = 15,  // the records would exceed max_record_bytes, or the event log max_events
};

[[nodiscard]] DYNLIB_API const char* status_name(Status s) noexcept;

}  // namespace dynlib
