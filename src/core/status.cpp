#include <dynlib/status.hpp>

namespace dynlib {

const char* status_name(Status s) noexcept {
  switch (s) {
    case Status::OK:
      return "OK";
    case Status::STEPFAIL:
      return "STEPFAIL";
    case Status::NAN_DETECTED:
      return "NAN_DETECTED";
    case Status::EARLY_EXIT:
      return "EARLY_EXIT";
    case Status::DONE:
      return "DONE";
    case Status::GROW_REC:
      return "GROW_REC";
    case Status::GROW_EVT:
      return "GROW_EVT";
    case Status::USER_BREAK:
      return "USER_BREAK";
    case Status::TRACE_OVERFLOW:
      return "TRACE_OVERFLOW";
    case Status::MAX_STEPS:
      return "MAX_STEPS";
    case Status::RECORD_LIMIT:
      return "RECORD_LIMIT";
  }
  return "UNKNOWN";
}

}  // namespace dynlib
