#include "cache/entry_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <dynlib/errors.hpp>
#include <random>
#include <sstream>
#include <system_error>

#include "util/regular_file.hpp"

namespace dynlib::cache {
namespace fs = std::filesystem;

namespace {

void put_u32(std::string& s, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
}
void put_u64(std::string& s, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
}
std::uint64_t get_le(std::string_view s, std::size_t off, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i)
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(s[off + i])) << (8 * i);
  return v;
}

std::uint64_t entry_checksum(std::string_view key_text, std::string_view payload) {
  return xxh3_64(payload, xxh3_64(key_text));
}

}  // namespace

std::string encode_entry(std::string_view key_text, std::string_view payload) {
  std::string out;
  out.reserve(kEntryHeaderSize + key_text.size() + payload.size());
  out.append(kEntryMagic, sizeof kEntryMagic);
  put_u32(out, kEntryFormatVersion);
  put_u32(out, static_cast<std::uint32_t>(key_text.size()));
  put_u64(out, payload.size());
  put_u64(out, entry_checksum(key_text, payload));
  out.append(key_text);
  out.append(payload);
  return out;
}

std::string decode_entry(std::string_view b, DecodedEntry& out) {
  if (b.empty()) return "empty file";
  if (b.size() < kEntryHeaderSize) return "truncated header (" + std::to_string(b.size()) + " bytes)";
  if (std::memcmp(b.data(), kEntryMagic, sizeof kEntryMagic) != 0) return "wrong magic";
  const auto version = get_le(b, 8, 4);
  if (version != kEntryFormatVersion)
    return "format version " + std::to_string(version) + ", expected " + std::to_string(kEntryFormatVersion);
  const std::uint64_t k = get_le(b, 12, 4), p = get_le(b, 16, 8), sum = get_le(b, 24, 8);
  const std::uint64_t avail = b.size() - kEntryHeaderSize;
  if (k > avail || p != avail - k)
    return "size mismatch (file " + std::to_string(b.size()) + " bytes, header says " +
           std::to_string(kEntryHeaderSize + k + p) + ")";
  const std::string_view key_text = b.substr(kEntryHeaderSize, k), payload = b.substr(kEntryHeaderSize + k);
  if (entry_checksum(key_text, payload) != sum) return "checksum mismatch";
  out.key_text.assign(key_text);
  out.payload.assign(payload);
  return {};
}

std::string make_meta_text(const CacheKey& key, const std::string& digest, std::uint64_t payload_size,
                           std::uint64_t entry_size, const std::vector<std::string>& components) {
  toml::table inputs;
  // The key fields, parsed back from the canonical text so the two never disagree.
  const std::string text = key.canonical_text();
  std::size_t pos = text.find('\n') + 1;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    const std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    const std::size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    inputs.insert_or_assign(line.substr(0, eq), line.substr(eq + 1));
  }
  toml::array comps;
  for (const auto& c : components) comps.push_back(c);
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  toml::table meta{
      {"format_version", static_cast<std::int64_t>(kEntryFormatVersion)},
      {"digest", digest},
      {"family", std::string(family_name(key.family))},
      {"created_at", std::string(buf)},
      {"created_unix", static_cast<std::int64_t>(t)},
      {"payload_size", static_cast<std::int64_t>(payload_size)},
      {"entry_size", static_cast<std::int64_t>(entry_size)},
      {"components", std::move(comps)},
      {"inputs", std::move(inputs)},
  };
  std::ostringstream os;
  os << "# dynlib cache entry metadata (informational; the key is in object.entry)\n" << meta << "\n";
  return os.str();
}

std::string parse_meta_text(std::string_view text, EntryMeta& out) {
  if (parse_meta_subset(text, out)) return {};
  return parse_meta_toml(text, out);
}

namespace {

// A value of the subset (parse_meta_subset).
struct SubsetValue {
  enum class Kind { string, integer, strings } kind = Kind::string;
  std::string text;
  std::int64_t integer = 0;
  std::vector<std::string> strings;
};

bool is_bare_key_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}
void skip_blanks(std::string_view s, std::size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
}
// 'literal' at s[i] (no escapes in literal strings; the subset has no ' inside).
bool read_literal(std::string_view s, std::size_t& i, std::string& out) {
  if (i >= s.size() || s[i] != '\'') return false;
  const std::size_t end = s.find('\'', i + 1);
  if (end == std::string_view::npos) return false;
  out.assign(s.substr(i + 1, end - i - 1));
  i = end + 1;
  return true;
}
bool read_key(std::string_view s, std::size_t& i, std::string& out) {
  if (i < s.size() && s[i] == '\'') return read_literal(s, i, out);
  const std::size_t start = i;
  while (i < s.size() && is_bare_key_char(s[i])) ++i;
  out.assign(s.substr(start, i - start));
  return i > start;
}
bool read_value(std::string_view s, std::size_t& i, SubsetValue& v) {
  if (i >= s.size()) return false;
  if (s[i] == '\'') {
    v.kind = SubsetValue::Kind::string;
    return read_literal(s, i, v.text);
  }
  if (s[i] == '[') {
    v.kind = SubsetValue::Kind::strings;
    ++i;
    for (;;) {
      skip_blanks(s, i);
      if (i < s.size() && s[i] == ']') break;
      std::string item;
      if (!read_literal(s, i, item)) return false;
      v.strings.push_back(std::move(item));
      skip_blanks(s, i);
      if (i < s.size() && s[i] == ',') {
        ++i;
        continue;
      }
      if (i < s.size() && s[i] == ']') break;
      return false;
    }
    ++i;
    return true;
  }
  // Decimal integer: -?(0|[1-9][0-9]*), at most 18 digits (always fits in 64 bits).
  v.kind = SubsetValue::Kind::integer;
  const bool negative = s[i] == '-';
  if (negative) ++i;
  const std::size_t start = i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  const std::size_t digits = i - start;
  if (digits == 0 || digits > 18 || (digits > 1 && s[start] == '0')) return false;
  std::int64_t n = 0;
  for (std::size_t k = start; k < i; ++k) n = n * 10 + (s[k] - '0');
  v.integer = negative ? -n : n;
  return true;
}

}  // namespace

bool parse_meta_subset(std::string_view text, EntryMeta& out) {
  for (char c : text)
    if (c != '\n' && c != '\t' && (c < 0x20 || c > 0x7e)) return false;  // CR, controls, non-ASCII
  std::map<std::string, SubsetValue> top, inputs;
  bool in_inputs = false;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    std::size_t i = 0;
    skip_blanks(line, i);
    if (i == line.size() || line[i] == '#') continue;
    if (line[i] == '[') {
      std::size_t j = i + 1;
      skip_blanks(line, j);
      if (in_inputs || line.substr(j, 6) != "inputs" || top.count("inputs") != 0) return false;
      j += 6;
      skip_blanks(line, j);
      if (j >= line.size() || line[j] != ']') return false;
      ++j;
      skip_blanks(line, j);
      if (j != line.size()) return false;
      in_inputs = true;
      continue;
    }
    std::string key;
    SubsetValue v;
    if (!read_key(line, i, key)) return false;
    skip_blanks(line, i);
    if (i >= line.size() || line[i] != '=') return false;
    ++i;
    skip_blanks(line, i);
    if (!read_value(line, i, v)) return false;
    skip_blanks(line, i);
    if (i != line.size()) return false;  // e.g. a comment after the value: left to the TOML parser
    if (!(in_inputs ? inputs : top).emplace(std::move(key), std::move(v)).second) return false;
  }
  auto field = [&](const char* name, SubsetValue::Kind kind) -> const SubsetValue* {
    auto it = top.find(name);
    return it != top.end() && it->second.kind == kind ? &it->second : nullptr;
  };
  using K = SubsetValue::Kind;
  const SubsetValue *v = field("format_version", K::integer), *d = field("digest", K::string),
                    *f = field("family", K::string), *ps = field("payload_size", K::integer);
  if (!v || !d || !f || !ps || !in_inputs) return false;
  out.format_version = v->integer;
  out.digest = d->text;
  out.family = f->text;
  out.payload_size = static_cast<std::uint64_t>(ps->integer);
  const SubsetValue* es = field("entry_size", K::integer);
  out.entry_size = static_cast<std::uint64_t>(es ? es->integer : 0);
  const SubsetValue* ca = field("created_at", K::string);
  out.created_at = ca ? ca->text : "";
  const SubsetValue* cu = field("created_unix", K::integer);
  out.created_unix = cu ? cu->integer : 0;
  out.components.clear();
  if (const SubsetValue* c = field("components", K::strings)) out.components = c->strings;
  out.inputs.clear();
  for (auto& [k, val] : inputs)
    if (val.kind == K::string) out.inputs.emplace(k, val.text);
  return true;
}

std::string parse_meta_toml(std::string_view text, EntryMeta& out) {
  if (text.empty()) return "empty metadata";
  toml::table doc;
  try {
    doc = toml::parse(text);
  } catch (const toml::parse_error& e) {
    return std::string("unreadable metadata: ") + std::string(e.description());
  }
  const auto v = doc["format_version"].value<std::int64_t>();
  const auto d = doc["digest"].value<std::string>();
  const auto f = doc["family"].value<std::string>();
  const auto ps = doc["payload_size"].value<std::int64_t>();
  const toml::table* in = doc["inputs"].as_table();
  if (!v || !d || !f || !ps || !in) return "metadata lacks format_version/digest/family/payload_size/inputs";
  out.format_version = *v;
  out.digest = *d;
  out.family = *f;
  out.payload_size = static_cast<std::uint64_t>(*ps);
  out.entry_size = static_cast<std::uint64_t>(doc["entry_size"].value_or<std::int64_t>(0));
  out.created_at = doc["created_at"].value_or<std::string>("");
  out.created_unix = doc["created_unix"].value_or<std::int64_t>(0);
  out.components.clear();
  if (const toml::array* a = doc["components"].as_array())
    for (const auto& c : *a)
      if (auto s = c.value<std::string>()) out.components.push_back(*s);
  out.inputs.clear();
  for (const auto& [k, val] : *in)
    if (auto s = val.value<std::string>()) out.inputs.emplace(std::string(k.str()), *s);
  return {};
}

std::string read_whole_file(const fs::path& p, std::string& out, std::size_t max_bytes) {
  out.clear();
  try {
    out = util::read_regular_file(p, max_bytes, util::Symlinks::refuse);
  } catch (const util::FileReadError& e) {
    return e.reason();
  } catch (const std::exception& e) {
    return e.what();
  }
  return {};
}

namespace {
bool all_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return !s.empty();
}
}  // namespace

bool is_digest_name(std::string_view n) { return n.size() == 32 && all_hex(n); }
bool is_shard_name(std::string_view n) { return n.size() == 2 && all_hex(n); }
bool is_lock_name(std::string_view n) {
  return n.size() == 1 + 32 + 5 && n[0] == '.' && is_digest_name(n.substr(1, 32)) && n.substr(33) == ".lock";
}
bool is_leftover_name(std::string_view n) {
  if (n.size() < 1 + 32 || n[0] != '.' || !is_digest_name(n.substr(1, 32))) return false;
  const std::string_view rest = n.substr(33);
  for (std::string_view tag : {std::string_view(".tmp-"), std::string_view(".corrupt-")})
    if (rest.size() > tag.size() && rest.substr(0, tag.size()) == tag && all_hex(rest.substr(tag.size())))
      return true;
  return false;
}

void remove_stale_leftovers(const fs::path& shard, std::chrono::seconds grace) {
  std::error_code ec;
  const auto now = fs::file_time_type::clock::now();
  for (fs::directory_iterator it(shard, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code e2;
    if (!is_leftover_name(it->path().filename().string()) || it->is_symlink(e2) || !it->is_directory(e2))
      continue;
    const auto mtime = fs::last_write_time(it->path(), e2);
    if (!e2 && now - mtime > grace) fs::remove_all(it->path(), e2);
  }
}

void write_file_durable(const fs::path& p, std::string_view bytes) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw CacheError("cannot create " + p.string() + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string r = std::strerror(errno);
      ::close(fd);
      throw CacheError("cannot write " + p.string() + ": " + r);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const std::string r = std::strerror(errno);
    ::close(fd);
    throw CacheError("cannot flush " + p.string() + ": " + r);
  }
  if (::close(fd) != 0) throw CacheError("cannot close " + p.string() + ": " + std::strerror(errno));
}

void fsync_dir(const fs::path& dir) noexcept {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

std::string random_hex(int n) {
  thread_local std::mt19937_64 rng{
      std::random_device{}() ^ (static_cast<std::uint64_t>(::getpid()) << 32) ^
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())};
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < n; ++i) s += hex[rng() & 0xF];
  return s;
}

EntryCheck check_entry_dir(const fs::path& dir, const std::string* expected_key_text) {
  EntryCheck r;
  std::error_code ec;
  const auto st = fs::symlink_status(dir, ec);
  if (ec || st.type() == fs::file_type::not_found) {
    r.state = EntryState::Missing;
    return r;
  }
  auto corrupt = [&](std::string why) {
    r.state = EntryState::Corrupt;
    r.reason = std::move(why);
    return r;
  };
  if (st.type() != fs::file_type::directory) return corrupt("not a directory");
  std::string bytes;
  if (std::string e = read_whole_file(dir / kEntryFileName, bytes, kMaxEntryFileBytes); !e.empty())
    return corrupt(std::string("cannot read ") + kEntryFileName + ": " + e);
  if (std::string e = decode_entry(bytes, r.entry); !e.empty()) return corrupt(e);
  const std::string digest = dir.filename().string();
  if (expected_key_text) {
    if (r.entry.key_text != *expected_key_text) return corrupt("stored key differs from the requested key");
  } else if (xxh3_128_hex(r.entry.key_text) != digest) {
    return corrupt("stored key does not hash to the directory name");
  }
  std::string meta_text;
  if (std::string e = read_whole_file(dir / kMetaFileName, meta_text, kMaxMetaFileBytes); !e.empty())
    return corrupt(std::string("missing metadata (") + kMetaFileName + ": " + e + ")");
  if (std::string e = parse_meta_text(meta_text, r.meta); !e.empty()) return corrupt(e);
  if (r.meta.digest != digest) return corrupt("metadata names digest " + r.meta.digest);
  if (r.meta.format_version != static_cast<long long>(kEntryFormatVersion))
    return corrupt("metadata format version " + std::to_string(r.meta.format_version));
  if (r.meta.payload_size != r.entry.payload.size()) return corrupt("metadata payload size differs");
  r.state = EntryState::Ok;
  return r;
}

std::string remove_entry_dir(const fs::path& dir) {
  std::error_code ec;
  std::string name = ".";
  name += dir.filename().string();
  name += ".corrupt-";
  name += random_hex(6);
  fs::path victim = dir.parent_path() / name;
  fs::rename(dir, victim, ec);
  if (ec) {
    if (!fs::exists(dir)) return {};
    victim = dir;  // rename failed: remove in place
  }
  ec.clear();
  fs::remove_all(victim, ec);
  if (ec) return "cannot delete " + victim.string() + ": " + ec.message();
  return {};
}

}  // namespace dynlib::cache
