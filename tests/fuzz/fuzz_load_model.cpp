// libFuzzer target: arbitrary bytes as inline model text. Any dynlib error is a correct rejection;
// anything else (crash, sanitizer report, foreign exception) is a finding.
#include <cstddef>
#include <cstdint>
#include <dynlib/errors.hpp>
#include <dynlib/model.hpp>
#include <dynlib/warnings.hpp>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Warnings about ignored keys are expected for mutated input; keep the fuzzer's output readable.
  static const bool quiet = (dynlib::set_warning_handler([](std::string_view) {}), true);
  (void)quiet;
  std::string text = "inline:\n";
  text.append(reinterpret_cast<const char*>(data), size);
  try {
    (void)dynlib::load_model(text);
  } catch (const dynlib::DynlibError&) {
  }
  return 0;
}
