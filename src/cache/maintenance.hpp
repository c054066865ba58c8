// Inspection and cleanup of a cache root (used by `dynlib cache list|clear|verify`).
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "cache/cache_key.hpp"

namespace dynlib::cache {

struct EntryInfo {
  std::string family, stepper, dtype, model_hash, digest, created_at;
  std::vector<std::string> components;
  std::uintmax_t size = 0;  // bytes of every file in the entry directory
  std::filesystem::path dir;
};

// Every directory that sits where an entry belongs: <root>/jit/<family>/<s>/<d>/<t>/<2 hex>/<digest>
// (names starting with '.' — locks, temp and half-deleted dirs — excluded). Sorted by path. Never throws.
std::vector<std::filesystem::path> entry_dirs(const std::filesystem::path& root);

// Entries whose metadata is readable (others are skipped; `verify` reports them), sorted by
// (family, stepper, dtype, digest). stepper/dtype from the metadata inputs; dtype canonical ("float64").
std::vector<EntryInfo> list_entries(const std::filesystem::path& root);

struct EntryFilter {
  std::string stepper, dtype, hash_prefix;  // empty = any; case-insensitive; dtype f64 == float64
  bool matches(const EntryInfo& e) const;
};

struct VerifyItem {
  std::filesystem::path dir;
  bool ok = false;
  std::string reason;  // why it is corrupt
};
// Full check of every entry directory (header, checksum, key text hashes to the digest, metadata),
// plus leftovers (`.<digest>.tmp-*` / `.corrupt-*` directories) reported as not ok.
std::vector<VerifyItem> verify_entries(const std::filesystem::path& root);

// "1.5KB"-style sizes: 123B, 1.5KB, 2.0MB, 3.1GB.
std::string human_size(std::uintmax_t bytes);

}  // namespace dynlib::cache
