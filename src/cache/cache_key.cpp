#include "cache/cache_key.hpp"

#include <xxhash.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <dynlib/errors.hpp>

#ifndef DYNLIB_VERSION_STRING
#define DYNLIB_VERSION_STRING "0.0.0+local"
#endif

namespace dynlib::cache {

std::string_view family_name(Family f) noexcept {
  switch (f) {
    case Family::Triplets:
      return "triplets";
    case Family::Steppers:
      return "steppers";
    case Family::Runners:
      return "runners";
  }
  return "runners";
}

bool parse_family(std::string_view name, Family& out) noexcept {
  for (Family f : {Family::Triplets, Family::Steppers, Family::Runners}) {
    if (family_name(f) == name) {
      out = f;
      return true;
    }
  }
  return false;
}

std::string library_version() { return DYNLIB_VERSION_STRING; }

namespace {

// Escapes so that every value stays on one line and list items stay separable.
void append_escaped(std::string& out, std::string_view v, bool escape_comma = false) {
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case ',':
        if (escape_comma)
          out += "\\,";
        else
          out += c;
        break;
      default:
        out += c;
    }
  }
}

void field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out += '=';
  append_escaped(out, value);
  out += '\n';
}

bool valid_extra_name(std::string_view n) {
  if (n.empty()) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

std::string trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

}  // namespace

void CacheKey::set_host_features(std::string_view list) {
  host_features.clear();
  std::size_t pos = 0;
  while (pos <= list.size()) {
    std::size_t next = list.find(',', pos);
    if (next == std::string_view::npos) next = list.size();
    std::string item = trim(list.substr(pos, next - pos));
    if (!item.empty()) host_features.push_back(std::move(item));
    pos = next + 1;
  }
}

std::string CacheKey::canonical_text() const {
  std::string out;
  out.reserve(512 + host_features.size() * 12);
  out += "dynlib-cache-key/";
  out += std::to_string(kKeyFormatVersion);
  out += '\n';
  field(out, "family", family_name(family));
  field(out, "model_hash", model_hash);
  field(out, "stepper", stepper);
  field(out, "stepper_settings", stepper_settings);
  field(out, "dtype", canonical_dtype(dtype));
  field(out, "layout_sig", layout_sig);
  field(out, "runner_variant", runner_variant);
  field(out, "analysis_sig", analysis_sig);
  field(out, "cache_token", cache_token);
  field(out, "jit", jit ? "1" : "0");
  field(out, "template_version", template_version);
  field(out, "dynlib_version", dynlib_version);
  field(out, "llvm_version", llvm_version);
  field(out, "target_triple", target_triple);
  field(out, "host_cpu", host_cpu);
  std::vector<std::string> feats = host_features;
  std::sort(feats.begin(), feats.end());
  feats.erase(std::unique(feats.begin(), feats.end()), feats.end());
  out += "host_features=";
  for (std::size_t i = 0; i < feats.size(); ++i) {
    if (i) out += ',';
    append_escaped(out, feats[i], /*escape_comma=*/true);
  }
  out += '\n';
  for (const auto& [name, value] : extra) {  // std::map: sorted by name
    if (!valid_extra_name(name)) throw CacheError("invalid cache key field name '" + name + "'");
    out += "extra.";
    field(out, name, value);
  }
  return out;
}

std::string CacheKey::digest() const { return xxh3_128_hex(canonical_text()); }

std::string xxh3_128_hex(std::string_view bytes) {
  const XXH128_hash_t h = XXH3_128bits(bytes.data(), bytes.size());
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, h);
  static const char* hex = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) {
    out[2 * i] = hex[(c.digest[i] >> 4) & 0xF];
    out[2 * i + 1] = hex[c.digest[i] & 0xF];
  }
  return out;
}

unsigned long long xxh3_64(std::string_view bytes, unsigned long long seed) noexcept {
  return XXH3_64bits_withSeed(bytes.data(), bytes.size(), seed);
}

std::string sanitize_token(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const bool ok = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '_' || l == '-';
    out += ok ? l : '-';
  }
  std::size_t b = out.find_first_not_of('-');
  if (b == std::string::npos) return "default";
  std::size_t e = out.find_last_not_of('-');
  return out.substr(b, e - b + 1);
}

std::string canonical_dtype(std::string_view dtype) {
  std::string d;
  for (char c : dtype) d += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (d == "f64" || d == "double") return "float64";
  if (d == "f32" || d == "float") return "float32";
  return d;
}

std::string dtype_token(std::string_view dtype) {
  const std::string c = canonical_dtype(dtype);
  if (c == "float64") return "f64";
  if (c == "float32") return "f32";
  return sanitize_token(c);
}

std::filesystem::path entry_dir(const std::filesystem::path& root, const CacheKey& key,
                                const std::string& digest) {
  return root / "jit" / std::string(family_name(key.family)) / sanitize_token(key.stepper) /
         dtype_token(key.dtype) /
         sanitize_token(key.target_triple.empty() ? std::string("host") : key.target_triple) /
         digest.substr(0, 2) / digest;
}

std::filesystem::path entry_dir(const std::filesystem::path& root, const CacheKey& key) {
  return entry_dir(root, key, key.digest());
}

}  // namespace dynlib::cache
