// Persistent cache of compiled code (docs/internals/cache.md): the key.
//
// A CacheKey lists every input that changes the object code. canonical_text() is an ordered
// `name=value` text (one field a line, values escaped, features sorted), digest() the XXH3-128 of it
// as 32 lowercase hex characters. Same inputs -> same digest in every process and on every run;
// a change in any one field -> a new digest. No LLVM here: the JIT adapter copies the LLVM facts
// (version, triple, CPU, features) in as strings.
#pragma once
#include <dynlib/export.hpp>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace dynlib::cache {

// Top-level directories under <root>/jit/.
enum class Family { Triplets, Steppers, Runners };
std::string_view family_name(Family f) noexcept;  // "triplets", "steppers", "runners"
// Parses a family name; returns false if unknown.
DYNLIB_INTERNAL_API bool parse_family(std::string_view name, Family& out) noexcept;

// Version of the key text and of the entry file layout (bumped on incompatible changes).
inline constexpr int kKeyFormatVersion = 1;

// The library version compiled into libdynlib (DYNLIB_VERSION_STRING).
DYNLIB_INTERNAL_API std::string library_version();

struct DYNLIB_INTERNAL_API CacheKey {
  Family family = Family::Runners;
  std::string model_hash;         // IR hash, hex
  std::string stepper;            // stepper name ("rk4")
  std::string stepper_settings;   // canonical text of its compile-time settings ("" if none)
  std::string dtype = "float64";  // canonicalised (f64 -> float64) in the key text
  std::string layout_sig;         // workspace/guard layout signature
  std::string runner_variant;     // "BASE", "ANALYSIS", "FASTPATH", ... ("" for non-runners)
  std::string analysis_sig;       // signature of attached observers/analysis ("" if none)
  std::string cache_token;        // user/manual invalidation token
  bool jit = true;
  std::string template_version;  // version of our IR emitter/templates
  std::string dynlib_version = library_version();
  std::string llvm_version;                // LLVM_VERSION_STRING
  std::string target_triple;               // e.g. x86_64-pc-linux-gnu
  std::string host_cpu;                    // sys::getHostCPUName()
  std::vector<std::string> host_features;  // any order; sorted + deduplicated in the key text
  // Further inputs (opt level, code model, fast-math opt-in, ...). Names: [A-Za-z0-9_.-]+.
  std::map<std::string, std::string> extra;

  // Splits "+avx,+sse2,-xop" (LLVM SubtargetFeatures string, any order) into host_features.
  void set_host_features(std::string_view comma_separated);

  // The canonical, ordered text hashed by digest(). Throws CacheError for an invalid extra name.
  std::string canonical_text() const;
  // XXH3-128 of canonical_text(), 32 lowercase hex characters.
  std::string digest() const;
};

// XXH3-128 of arbitrary bytes as 32 lowercase hex; XXH3-64 of arbitrary bytes.
DYNLIB_INTERNAL_API std::string xxh3_128_hex(std::string_view bytes);
unsigned long long xxh3_64(std::string_view bytes, unsigned long long seed = 0) noexcept;

// Path tokens: lowercase, [^a-z0-9_-] -> '-', '-' stripped at the ends, "default" if empty.
DYNLIB_INTERNAL_API std::string sanitize_token(std::string_view name);
// "f64" -> "float64", "f32" -> "float32"; anything else lowercased as is.
DYNLIB_INTERNAL_API std::string canonical_dtype(std::string_view dtype);
// "float64" -> "f64", "float32" -> "f32", else the canonical name sanitised.
DYNLIB_INTERNAL_API std::string dtype_token(std::string_view dtype);

// <root>/jit/<family>/<stepper>/<dtype>/<triple>/<2 hex>/<digest>
DYNLIB_INTERNAL_API std::filesystem::path entry_dir(const std::filesystem::path& root, const CacheKey& key);
DYNLIB_INTERNAL_API std::filesystem::path entry_dir(const std::filesystem::path& root, const CacheKey& key,
                                                    const std::string& digest);

}  // namespace dynlib::cache
