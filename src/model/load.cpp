// load_model: URI resolution (inline, builtin://, TAG://, paths), shebang check, parse, mods, lowering.
#include "model/load.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <sstream>
#include <unordered_map>

#include "model/builtin_models.hpp"
#include "model/lower.hpp"
#include "model/parse.hpp"
#include "util/regular_file.hpp"
#include "util/text.hpp"

namespace fs = std::filesystem;

namespace dynlib::model {
namespace {

using util::trim;

bool is_inline(std::string_view uri, std::string* content) {
  const std::string t = trim(uri);
  if (t.rfind("inline:", 0) != 0) return false;
  if (content) *content = trim(std::string_view(t).substr(7));
  return true;
}

fs::path normalize(const std::string& p) {
  fs::path path(expand_user_vars(p));
  std::error_code ec;
  if (path.is_relative()) path = fs::current_path(ec) / path;
  fs::path canon = fs::weakly_canonical(path, ec);
  return ec ? path.lexically_normal() : canon;
}

// The exact path, plus "<path>.toml" when it has no extension.
std::vector<fs::path> candidates_of(const fs::path& p) {
  std::vector<fs::path> c{p};
  if (!p.has_extension()) c.push_back(fs::path(p.string() + ".toml"));
  return c;
}

// Regular files among the candidates; AmbiguousModelError when more than one.
std::optional<fs::path> pick(const std::string& uri, const std::vector<fs::path>& cands) {
  std::vector<std::string> found;
  for (const auto& c : cands) {
    std::error_code ec;
    if (fs::is_regular_file(c, ec)) found.push_back(c.string());
  }
  if (found.size() > 1) throw AmbiguousModelError(uri, found);
  if (found.empty()) return std::nullopt;
  return fs::path(found.front());
}

// Where a file's text stops being text: a NUL or other control byte (TOML allows only tab, CR and LF), or
// an invalid UTF-8 sequence. npos for text. Such a file is refused before parsing, so no error message
// quotes its bytes.
std::size_t first_non_text(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) return i;
      ++i;
      continue;
    }
    const std::size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
    if (len == 0 || (len == 3 && c >= 0xf0) || i + len > s.size()) return i;
    for (std::size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return i;
    i += len;
  }
  return std::string_view::npos;
}

std::string read_file(const fs::path& p, const char* what) {
  std::string text;
  try {
    text = util::read_regular_file(p, kMaxModelFileBytes);
  } catch (const util::FileReadError& e) {
    throw ModelLoadError(std::string("Failed to load ") + what + " from " + p.string() + ": " + e.reason(),
                         SourceLocation{p.string(), 0, 0, "", ""});
  }
  if (const auto at = first_non_text(text); at != std::string_view::npos)
    throw ModelLoadError(std::string("Failed to load ") + what + " from " + p.string() +
                             ": not a text file (a control byte or invalid UTF-8 at byte offset " +
                             std::to_string(at) + ")",
                         SourceLocation{p.string(), 0, 0, "", ""});
  return text;
}

bool inside(const fs::path& candidate, const fs::path& root) {
  const fs::path rel = candidate.lexically_relative(root);
  if (rel.empty()) return false;
  const auto first = rel.begin()->string();
  return first != "..";
}

ResolvedText from_file(const fs::path& p, std::string base, std::string fragment, const char* what) {
  ResolvedText r;
  r.kind = ResolvedText::Kind::file;
  r.display = p.string();
  r.text = read_file(p, what);
  r.base = std::move(base);
  r.fragment = std::move(fragment);
  return r;
}

void shebang_check(const ResolvedText& r) {
  if (r.kind != ResolvedText::Kind::file) return;
  const auto nl = r.text.find('\n');
  std::string first = r.text.substr(0, nl);
  if (!first.empty() && first.back() == '\r') first.pop_back();
  // ^#!\s*(?P<package>[A-Za-z0-9_.-]+)(?:\s*:\s*(?P<version>[A-Za-z0-9_.+-]+))?\s*$  (hand-written)
  auto is_space = [](char ch) { return ch == ' ' || ch == '\t' || ch == '\f' || ch == '\v' || ch == '\r'; };
  auto pkg_char = [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.' || ch == '-';
  };
  if (first.rfind("#!", 0) != 0) return;
  std::size_t i = 2;
  while (i < first.size() && is_space(first[i])) ++i;
  const std::size_t p0 = i;
  while (i < first.size() && pkg_char(first[i])) ++i;
  if (i == p0) return;
  const std::string package = first.substr(p0, i - p0);
  std::size_t j = i;
  while (j < first.size() && is_space(first[j])) ++j;
  if (j < first.size() && first[j] == ':') {
    ++j;
    while (j < first.size() && is_space(first[j])) ++j;
    const std::size_t v0 = j;
    while (j < first.size() && (pkg_char(first[j]) || first[j] == '+')) ++j;
    if (j == v0) return;  // "#!pkg:" without a version does not match
    i = j;
  }
  while (i < first.size() && is_space(first[i])) ++i;
  if (i != first.size()) return;  // e.g. "#!/usr/bin/env python"
  if (package == "dynlib") return;
  throw ModelLoadError("Failed to load model from " + r.display +
                           ": This is not a dynlib model: " + r.display + " declares '#!" + package + "'",
                       SourceLocation{r.display, 1, 1, "", first});
}

}  // namespace

ResolvedText resolve_and_read(std::string_view uri_in, const Config* cfg, const std::string& inline_name) {
  std::string content;
  if (is_inline(uri_in, &content)) {
    ResolvedText r;
    r.kind = ResolvedText::Kind::inline_text;
    r.text = std::move(content);
    r.display = inline_name;
    r.base = inline_name;
    return r;
  }
  const char* what = inline_name == "inline mod" ? "mod" : "model";
  const std::string uri = trim(uri_in);
  std::string base = uri, fragment;
  if (const auto hash = uri.find('#'); hash != std::string::npos) {
    base = trim(std::string_view(uri).substr(0, hash));
    fragment = trim(std::string_view(uri).substr(hash + 1));
  }
  if (base.empty()) throw ModelNotFoundError(uri, {});

  const auto sep = base.find("://");
  if (sep != std::string::npos) {
    const std::string tag = base.substr(0, sep);
    const std::string rel = base.substr(sep + 3);
    Config local;
    if (!cfg) {
      local = load_config();
      cfg = &local;
    }
    const std::vector<std::string>* roots = cfg->roots(tag);
    if (!roots && tag != "builtin") {
      std::vector<std::string> known = cfg->tag_names();
      if (std::find(known.begin(), known.end(), "builtin") == known.end()) known.push_back("builtin");
      std::sort(known.begin(), known.end());
      std::string list;
      for (std::size_t i = 0; i < known.size(); ++i) list += (i ? ", " : "") + known[i];
      throw ConfigError("Unknown tag '" + tag + "' in URI: " + base + "\nKnown tags: " + list);
    }
    std::vector<std::string> searched;
    if (roots) {
      for (const auto& root_s : *roots) {
        const fs::path root = normalize(root_s);
        const fs::path cand = normalize((fs::path(expand_user_vars(root_s)) / rel).string());
        if (!inside(cand, root)) throw PathTraversalError(base, cand.string(), root.string());
        const auto cands = candidates_of(cand);
        if (auto hit = pick(base, cands)) {
          // The file itself may be a symbolic link out of the root (root/m.toml -> /etc/shadow).
          std::error_code ec;
          const fs::path real = fs::canonical(*hit, ec);
          if (ec || !inside(real, root))
            throw PathTraversalError(base, ec ? hit->string() : real.string(), root.string());
          return from_file(real, base, fragment, what);
        }
        for (const auto& c : cands) searched.push_back(c.string());
      }
    }
    if (tag == "builtin") {
      const fs::path norm = fs::path(rel).lexically_normal();
      const std::string name = norm.generic_string();
      if (norm.is_absolute() || name.empty() || name.rfind("..", 0) == 0) {
        throw PathTraversalError(base, "builtin://" + name, "builtin://");
      }
      if (const BuiltinModelFile* f = find_builtin_model(name)) {
        ResolvedText r;
        r.kind = ResolvedText::Kind::builtin;
        r.text = f->text;
        r.display = std::string("builtin://") + f->name;
        r.base = base;
        r.fragment = fragment;
        return r;
      }
      searched.push_back("builtin://" + name + " (embedded)");
      if (!norm.has_extension()) searched.push_back("builtin://" + name + ".toml (embedded)");
    }
    throw ModelNotFoundError(base, searched);
  }

  const fs::path p = normalize(base);
  const auto cands = candidates_of(p);
  if (auto hit = pick(base, cands)) return from_file(*hit, base, fragment, what);
  std::vector<std::string> searched;
  for (const auto& c : cands) searched.push_back(c.string());
  throw ModelNotFoundError(base, searched);
}

ModelSpec load_model_spec(std::string_view uri, const LoadOptions& options) {
  std::optional<Config> cfg;
  auto config = [&]() -> const Config* {
    if (!cfg) cfg = load_config();
    return &*cfg;
  };
  const bool inline_model = is_inline(uri, nullptr);
  const bool needs_config = !inline_model && trim(uri).find("://") != std::string::npos;
  const ResolvedText r = resolve_and_read(uri, needs_config ? config() : nullptr, "inline model");
  shebang_check(r);
  const TextSource src{
      r.display, r.kind == ResolvedText::Kind::inline_text ? r.display : "model file '" + r.display + "'"};
  ModelSpec spec;
  if (r.fragment.rfind("mod=", 0) == 0) {
    const std::string name = trim(std::string_view(r.fragment).substr(4));
    ModelWithMod mm = parse_model_text_with_mod(r.text, src, name, r.base);
    spec = std::move(mm.spec);
    apply_mods(spec, {mm.mod});
  } else {
    spec = parse_model_text(r.text, src);
  }
  if (!options.mods.empty()) {
    std::vector<ModSpec> mods;
    for (const auto& m : options.mods) {
      const bool needs = !is_inline(m, nullptr) && trim(m).find("://") != std::string::npos;
      mods.push_back(load_mod(m, needs ? config() : nullptr));
    }
    apply_mods(spec, mods);
  }
  return spec;
}

ModSpec load_mod(std::string_view uri, const Config* cfg) {
  const ResolvedText r = resolve_and_read(uri, cfg, "inline mod");
  const TextSource src{
      r.display, r.kind == ResolvedText::Kind::inline_text ? r.display : "mod file '" + r.display + "'"};
  std::string name;
  if (r.fragment.rfind("mod=", 0) == 0) name = trim(std::string_view(r.fragment).substr(4));
  return parse_mod_text(r.text, src, name, r.base);
}

}  // namespace dynlib::model

namespace dynlib {

namespace {

// Loaded models are immutable, so a repeated load of the same text is served from memory (a second
// setup() of one model then costs no parsing). Only sources whose identity is cheap to check are
// cached: inline text and builtin:// URIs (together with the environment that can redirect them),
// and plain files keyed by path, size and modification time. Everything else is loaded afresh.
std::optional<std::string> load_cache_key(std::string_view uri, const LoadOptions& options) {
  std::string key(uri);
  for (const auto& m : options.mods) {
    if (m.rfind("inline:", 0) != 0) return std::nullopt;  // mod files may change: no caching
    key += '\x1f';
    key += m;
  }
  for (const char* var : {"DYN_MODEL_PATH", "DYNLIB_CONFIG", "HOME", "XDG_CONFIG_HOME"}) {
    const char* v = std::getenv(var);
    key += '\x1e';
    key += v ? v : "";
  }
  const std::string t = model::trim(uri);
  if (t.rfind("inline:", 0) == 0 || t.rfind("builtin://", 0) == 0) return key;
  std::error_code ec;
  const fs::path p(t);
  if (t.find('#') != std::string::npos || !p.is_absolute() || !fs::is_regular_file(p, ec))
    return std::nullopt;
  const auto size = fs::file_size(p, ec);
  if (ec) return std::nullopt;
  const auto mtime = fs::last_write_time(p, ec);
  if (ec) return std::nullopt;
  key += '\x1d' + std::to_string(size) + ':' + std::to_string(mtime.time_since_epoch().count());
  return key;
}

std::mutex g_load_cache_mutex;
std::unordered_map<std::string, ModelPtr>& load_cache() {
  static std::unordered_map<std::string, ModelPtr> cache;
  return cache;
}
constexpr std::size_t kLoadCacheMax = 256;

}  // namespace

ModelPtr load_model(std::string_view uri, const LoadOptions& options) {
  const auto key = load_cache_key(uri, options);
  if (key) {
    std::lock_guard<std::mutex> lock(g_load_cache_mutex);
    if (auto it = load_cache().find(*key); it != load_cache().end()) return it->second;
  }
  model::ModelSpec spec = model::load_model_spec(uri, options);
  auto loaded = std::make_shared<const ir::ModelIR>(model::lower_model(spec));
  if (key) {
    std::lock_guard<std::mutex> lock(g_load_cache_mutex);
    if (load_cache().size() >= kLoadCacheMax) load_cache().clear();
    load_cache().emplace(*key, loaded);
  }
  return loaded;
}

}  // namespace dynlib
