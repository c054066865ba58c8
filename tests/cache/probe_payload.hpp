// Deterministic fake "object file" bytes for a digest, shared by cache_probe and the tests.
#pragma once
#include <string>

namespace dynlib::cache::testing {

inline std::string probe_payload(const std::string& digest, std::size_t size = 3000) {
  std::string out;
  out.reserve(size);
  std::size_t i = 0;
  while (out.size() < size) {
    out += digest[i % digest.size()];
    out += static_cast<char>(i * 131 % 251);
    ++i;
  }
  out.resize(size);
  return out;
}

}  // namespace dynlib::cache::testing
