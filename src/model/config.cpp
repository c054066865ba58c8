#include "model/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <dynlib/errors.hpp>
#include <filesystem>
#include <sstream>

#include "util/regular_file.hpp"
#include "util/text.hpp"

namespace fs = std::filesystem;

namespace dynlib::model {
namespace {

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

using util::trim;

std::vector<std::string>& roots_for(Config& cfg, const std::string& tag) {
  for (auto& [t, r] : cfg.tags) {
    if (t == tag) return r;
  }
  cfg.tags.emplace_back(tag, std::vector<std::string>{});
  return cfg.tags.back().second;
}

}  // namespace

const std::vector<std::string>* Config::roots(std::string_view tag) const {
  for (const auto& [t, r] : tags) {
    if (t == tag) return &r;
  }
  return nullptr;
}

std::vector<std::string> Config::tag_names() const {
  std::vector<std::string> names;
  for (const auto& [t, r] : tags) names.push_back(t);
  std::sort(names.begin(), names.end());
  return names;
}

std::string expand_user_vars(std::string_view in) {
  std::string out;
  std::size_t i = 0;
  while (i < in.size()) {
    if (in[i] != '$') {
      out += in[i++];
      continue;
    }
    std::size_t j = i + 1;
    std::string name;
    if (j < in.size() && in[j] == '{') {
      const auto close = in.find('}', j + 1);
      if (close != std::string_view::npos) {
        name = std::string(in.substr(j + 1, close - j - 1));
        j = close + 1;
      }
    } else {
      while (j < in.size() && (std::isalnum(static_cast<unsigned char>(in[j])) || in[j] == '_')) ++j;
      name = std::string(in.substr(i + 1, j - i - 1));
    }
    if (name.empty()) {  // a lone '$' (or "${" without a name) stays as written
      out += in[i++];
      continue;
    }
    if (const char* v = std::getenv(name.c_str())) {
      out += v;
    } else {
      out.append(in.substr(i, j - i));  // unset: left unchanged, like os.path.expandvars
    }
    i = j;
  }
  if (!out.empty() && out[0] == '~' && (out.size() == 1 || out[1] == '/')) {
    const std::string home = env_or_empty("HOME");
    if (!home.empty()) out = home + out.substr(1);
  }
  return out;
}

std::string config_file_path() {
  const std::string explicit_path = env_or_empty("DYNLIB_CONFIG");
  if (!explicit_path.empty()) {
    std::error_code ec;
    fs::path p = fs::weakly_canonical(fs::path(expand_user_vars(explicit_path)), ec);
    return ec ? expand_user_vars(explicit_path) : p.string();
  }
  std::string base = env_or_empty("XDG_CONFIG_HOME");
  if (base.empty()) base = expand_user_vars("~/.config");
  return (fs::path(base) / "dynlib" / "config.toml").string();
}

Config parse_config_text(std::string_view text, const std::string& file) {
  Config cfg;
  cfg.file = file;
  cfg.file_loaded = true;
  toml::table doc;
  try {
    doc = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << "Failed to load config from " << file << ": " << e.description() << " (line "
        << e.source().begin.line << ", column " << e.source().begin.column << ")";
    throw ConfigError(msg.str());
  }
  if (const toml::node* paths = doc.get("paths")) {
    const toml::table* t = paths->as_table();
    if (!t) throw ConfigError("[paths] section must be a table in " + file);
    // toml::table is sorted by key; keep the file order by sorting on source position.
    std::vector<std::pair<const toml::key*, const toml::node*>> entries;
    for (const auto& [k, v] : *t) entries.emplace_back(&k, &v);
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      const auto& sa = a.first->source().begin;
      const auto& sb = b.first->source().begin;
      return sa.line != sb.line ? sa.line < sb.line : sa.column < sb.column;
    });
    for (const auto& [k, v] : entries) {
      const std::string tag(k->str());
      auto& roots = roots_for(cfg, tag);
      if (auto s = v->value<std::string>(); s && v->is_string()) {
        roots.push_back(*s);
      } else if (const toml::array* arr = v->as_array()) {
        for (const auto& item : *arr) {
          if (!item.is_string())
            throw ConfigError("[paths]." + tag + " contains non-string entry in " + file);
          roots.push_back(item.as_string()->get());
        }
      } else {
        throw ConfigError("[paths]." + tag + " must be a string or list of strings in " + file);
      }
    }
  }
  if (const toml::node* cr = doc.get("cache_root")) {
    if (!cr->is_string()) throw ConfigError("cache_root must be a string path in config");
    cfg.cache_root = cr->as_string()->get();
  } else if (const toml::node* cache = doc.get("cache")) {
    if (const toml::table* ct = cache->as_table()) {
      // [cache] cache_root (as the quickstart docs write it) is accepted too; it wins over [cache] root.
      if (const toml::node* cr2 = ct->get("cache_root")) {
        if (!cr2->is_string()) throw ConfigError("[cache].cache_root must be a string path");
        cfg.cache_root = cr2->as_string()->get();
      } else if (const toml::node* root = ct->get("root")) {
        if (!root->is_string()) throw ConfigError("[cache].root must be a string path");
        cfg.cache_root = root->as_string()->get();
      }
    }
  }
  return cfg;
}

void apply_model_path_env(Config& cfg, std::string_view value) {
  // POSIX: ':' between tags, ',' between roots of one tag.
  std::vector<std::pair<std::string, std::vector<std::string>>> parsed;
  std::size_t pos = 0;
  while (pos <= value.size()) {
    auto next = value.find(':', pos);
    if (next == std::string_view::npos) next = value.size();
    const std::string entry = trim(value.substr(pos, next - pos));
    pos = next + 1;
    if (entry.empty()) {
      if (next == value.size()) break;
      continue;
    }
    const auto eq = entry.find('=');
    if (eq == std::string::npos) throw ConfigError("Invalid DYN_MODEL_PATH entry (missing '='): " + entry);
    const std::string tag = trim(std::string_view(entry).substr(0, eq));
    if (tag.empty()) throw ConfigError("Empty tag in DYN_MODEL_PATH: " + entry);
    std::vector<std::string> roots;
    const std::string rest = entry.substr(eq + 1);
    std::size_t p = 0;
    while (p <= rest.size()) {
      auto c = rest.find(',', p);
      if (c == std::string::npos) c = rest.size();
      std::string r = trim(std::string_view(rest).substr(p, c - p));
      if (!r.empty()) roots.push_back(std::move(r));
      p = c + 1;
    }
    if (roots.empty()) throw ConfigError("No paths for tag '" + tag + "' in DYN_MODEL_PATH");
    parsed.emplace_back(tag, std::move(roots));
  }
  for (auto& [tag, roots] : parsed) {
    auto& existing = roots_for(cfg, tag);
    existing.insert(existing.begin(), roots.begin(), roots.end());
  }
}

Config load_config() {
  Config cfg;
  const std::string path = config_file_path();
  std::error_code ec;
  if (fs::exists(path, ec)) {
    try {
      cfg = parse_config_text(util::read_regular_file(path, kMaxModelFileBytes), path);
    } catch (const util::FileReadError& e) {
      throw ConfigError("Failed to load config from " + path + ": " + e.reason());
    }
  }
  cfg.file = path;
  if (const char* mp = std::getenv("DYN_MODEL_PATH"); mp && *mp) apply_model_path_env(cfg, mp);
  return cfg;
}

}  // namespace dynlib::model
