// Inspection and cleanup of a cache root (used by `dynlib cache list|clear|verify`).
#pragma once
#include <cstdint>
#include <dynlib/export.hpp>
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
DYNLIB_INTERNAL_API std::vector<EntryInfo> list_entries(const std::filesystem::path& root);

struct DYNLIB_INTERNAL_API EntryFilter {
  std::string stepper, dtype, hash_prefix;  // empty = any; case-insensitive; dtype f64 == float64
  bool matches(const EntryInfo& e) const;
};

struct VerifyItem {
  std::filesystem::path dir;
  bool ok = false;
  std::string reason;  // why it is corrupt
};
// Full check of every entry directory (header, checksum, key text hashes to the digest, metadata),
// plus leftovers (`.<digest>.tmp-*` / `.corrupt-*` directories older than a minute) reported as not ok.
// Only names the cache makes are looked at (see ClearReport); entry files are read with size limits and
// never followed through symlinks, so a FIFO, a device or a huge file is reported, not hung on.
DYNLIB_INTERNAL_API std::vector<VerifyItem> verify_entries(const std::filesystem::path& root);

// What `clear --all` did. The cache deletes only what it created, recognised by name: entry directories
// (<shard>/<32 hex>), leftovers (.<digest>.tmp-* / .corrupt-*), lock files (.<digest>.lock), probe files
// (.dynlib-write-test-*), then its own directories of the jit/ tree once they are empty. Never the root,
// never anything else (foreign files stay and are listed).
struct ClearReport {
  int entries = 0;                             // entry directories deleted (or that would be, for a dry run)
  std::vector<std::filesystem::path> deleted;  // everything deleted (or that would be)
  std::vector<std::string> failures;           // "<path>: <reason>"
  std::vector<std::filesystem::path> foreign;  // not made by the cache: left alone
};
DYNLIB_INTERNAL_API ClearReport clear_all(const std::filesystem::path& root, bool dry_run);

// Files and directories under `root` the cache did not make (walking only the cache's own tree), sorted.
DYNLIB_INTERNAL_API std::vector<std::filesystem::path> foreign_items(const std::filesystem::path& root);

// "1.5KB"-style sizes: 123B, 1.5KB, 2.0MB, 3.1GB.
DYNLIB_INTERNAL_API std::string human_size(std::uintmax_t bytes);

}  // namespace dynlib::cache
