#include "core/warnings.hpp"

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace dynlib {
namespace {

// Never destroyed: a background compile (tiered JIT) may warn while the process exits.
std::mutex& handler_mutex() {
  static auto* m = new std::mutex;
  return *m;
}

std::shared_ptr<const WarningHandler>& handler_slot() {
  static auto* h = new std::shared_ptr<const WarningHandler>;
  return *h;
}

}  // namespace

void set_warning_handler(WarningHandler handler) {
  std::shared_ptr<const WarningHandler> h;
  if (handler) h = std::make_shared<const WarningHandler>(std::move(handler));
  std::lock_guard<std::mutex> lock(handler_mutex());
  handler_slot() = std::move(h);
}

void warn(std::string_view message) {
  std::shared_ptr<const WarningHandler> h;
  {
    std::lock_guard<std::mutex> lock(handler_mutex());
    h = handler_slot();
  }
  if (h) {
    (*h)(message);
    return;
  }
  std::string line = "dynlib: warning: ";
  line.append(message);
  line += '\n';
  std::fputs(line.c_str(), stderr);
}

}  // namespace dynlib
