// On-disk format of one cache entry directory:
//   <digest>/object.entry   header + payload (the object file)
//   <digest>/meta.toml      metadata: digest, family, inputs (the key fields), components, sizes, creation
//   time
//
// object.entry, little-endian:
//   0  char[8]  magic "DYNLCOBJ"
//   8  u32      format version (kEntryFormatVersion)
//   12 u32      key text size K
//   16 u64      payload size P
//   24 u64      checksum = XXH3-64(payload, seed = XXH3-64(key text))
//   32 K bytes  the key's canonical text
//   32+K        P bytes of payload
// The file size must be exactly 32 + K + P. The entry directory appears atomically: both files are written
// and fsync'd in `.<digest>.tmp-<hex>/`, which is then rename()d to `<digest>/`.
#pragma once
#include <chrono>
#include <cstdint>
#include <dynlib/export.hpp>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cache/cache_key.hpp"

namespace dynlib::cache {

inline constexpr char kEntryMagic[8] = {'D', 'Y', 'N', 'L', 'C', 'O', 'B', 'J'};
inline constexpr std::uint32_t kEntryFormatVersion = 1;
inline constexpr std::size_t kEntryHeaderSize = 32;
inline constexpr const char* kEntryFileName = "object.entry";
inline constexpr const char* kMetaFileName = "meta.toml";
// Largest files we read from an entry: bigger ones are corrupt (the biggest real unit is a few MiB).
inline constexpr std::size_t kMaxEntryFileBytes = std::size_t{256} << 20;
inline constexpr std::size_t kMaxMetaFileBytes = std::size_t{1} << 20;
// A temporary directory (`.<digest>.tmp-*`) or half-deleted one (`.<name>.corrupt-*`) older than this
// is a leftover of a killed process: the next writer in its shard removes it. A live writer needs
// milliseconds.
inline constexpr std::chrono::minutes kLeftoverGracePeriod{10};

DYNLIB_INTERNAL_API std::string encode_entry(std::string_view key_text, std::string_view payload);

struct DecodedEntry {
  std::string key_text;
  std::string payload;
};
// "" if valid, else the reason ("wrong magic", "checksum mismatch", ...).
DYNLIB_INTERNAL_API std::string decode_entry(std::string_view bytes, DecodedEntry& out);

struct EntryMeta {
  long long format_version = 0;
  std::string digest, family, created_at;
  long long created_unix = 0;
  std::uint64_t payload_size = 0, entry_size = 0;
  std::vector<std::string> components;
  std::map<std::string, std::string> inputs;  // key field -> value (host_features comma-joined)
};
DYNLIB_INTERNAL_API std::string make_meta_text(const CacheKey& key, const std::string& digest,
                                               std::uint64_t payload_size, std::uint64_t entry_size,
                                               const std::vector<std::string>& components);
// "" if valid TOML with the required fields, else the reason. Tries parse_meta_subset() first.
DYNLIB_INTERNAL_API std::string parse_meta_text(std::string_view text, EntryMeta& out);
// The same with the full TOML parser only.
DYNLIB_INTERNAL_API std::string parse_meta_toml(std::string_view text, EntryMeta& out);
// The plain subset of TOML that make_meta_text() writes (comments, one `[inputs]` table, bare or
// 'literal' keys, 'literal' strings, decimal integers, one-line arrays of 'literal' strings, printable
// ASCII only), read without the TOML parser (a 3 KB file took it 60-150 us of a 1 ms warm start). true
// if `text` is in that subset, has the required fields and no key twice: then `out` is what
// parse_meta_toml() gives. false for anything else (nothing decided: the TOML parser decides).
DYNLIB_INTERNAL_API bool parse_meta_subset(std::string_view text, EntryMeta& out);

enum class EntryState { Ok, Missing, Corrupt };
struct EntryCheck {
  EntryState state = EntryState::Missing;
  std::string reason;  // for Corrupt
  DecodedEntry entry;  // for Ok
  EntryMeta meta;      // for Ok
};
// Reads and validates <dir>. If expected_key_text is given, the entry's key text must equal it; otherwise
// the XXH3-128 of the stored key text must equal the directory name. Never throws.
DYNLIB_INTERNAL_API EntryCheck check_entry_dir(const std::filesystem::path& dir,
                                               const std::string* expected_key_text);

// Reads a whole regular file of at most max_bytes (no symlinks, FIFOs, devices; never blocks) with
// util::read_regular_file(); "" on success, else the reason. Never throws.
DYNLIB_INTERNAL_API std::string read_whole_file(const std::filesystem::path& p, std::string& out,
                                                std::size_t max_bytes);

// Names the cache itself creates (so maintenance never touches anything else):
bool is_digest_name(std::string_view name);    // 32 lowercase hex: an entry directory
bool is_shard_name(std::string_view name);     // 2 lowercase hex
bool is_lock_name(std::string_view name);      // .<digest>.lock
bool is_leftover_name(std::string_view name);  // .<digest>.tmp-<hex> or .<digest>.corrupt-<hex>
// Removes the leftover directories (is_leftover_name) in `shard` older than `grace`. Never throws.
void remove_stale_leftovers(const std::filesystem::path& shard, std::chrono::seconds grace);
// Writes `bytes` to a new file (O_EXCL) and fsyncs it. Throws CacheError.
void write_file_durable(const std::filesystem::path& p, std::string_view bytes);
// fsync of a directory (best effort).
void fsync_dir(const std::filesystem::path& dir) noexcept;
// Random lowercase hex (for temp names).
std::string random_hex(int n);

// Removes an entry directory safely: renames it to `.<name>.corrupt-<hex>` first (so no reader ever sees a
// half-deleted entry), then removes that. "" on success, else the reason. Never throws.
DYNLIB_INTERNAL_API std::string remove_entry_dir(const std::filesystem::path& dir);

}  // namespace dynlib::cache
