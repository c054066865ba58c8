#include "cache/maintenance.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <tuple>

#include "cache/entry_file.hpp"

namespace dynlib::cache {
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> subdirs(const fs::path& p, bool include_hidden = false) {
  std::vector<fs::path> out;
  std::error_code ec;
  fs::directory_iterator it(p, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::error_code e2;
    if (!it->is_directory(e2) || it->is_symlink(e2)) continue;
    const std::string name = it->path().filename().string();
    if (!include_hidden && !name.empty() && name[0] == '.') continue;
    out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::uintmax_t dir_size(const fs::path& d) {
  std::uintmax_t total = 0;
  std::error_code ec;
  fs::recursive_directory_iterator it(d, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::error_code e2;
    if (it->is_regular_file(e2)) total += it->file_size(e2);
  }
  return total;
}

// Visits <root>/jit/<family>/<s>/<d>/<t>/<shard> directories.
template <class F>
void for_each_shard(const fs::path& root, F&& f) {
  for (Family fam : {Family::Triplets, Family::Steppers, Family::Runners})
    for (const auto& s : subdirs(root / "jit" / std::string(family_name(fam))))
      for (const auto& d : subdirs(s))
        for (const auto& t : subdirs(d))
          for (const auto& shard : subdirs(t))
            if (is_shard_name(shard.filename().string())) f(shard);
}

// Every entry of directory p (hidden ones too, symlinks not followed), sorted.
std::vector<fs::directory_entry> children(const fs::path& p) {
  std::vector<fs::directory_entry> out;
  std::error_code ec;
  for (fs::directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec)) out.push_back(*it);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.path() < b.path(); });
  return out;
}

bool is_real_dir(const fs::directory_entry& e) {
  std::error_code ec;
  return e.is_directory(ec) && !e.is_symlink(ec);
}

bool is_probe_file_name(const std::string& n) { return n.rfind(".dynlib-write-test-", 0) == 0; }

bool is_family_name(const std::string& n) {
  for (Family fam : {Family::Triplets, Family::Steppers, Family::Runners})
    if (n == family_name(fam)) return true;
  return false;
}

// Walks the cache's own tree: calls ours(path, kind) for what the cache made (kind: "entry", "leftover",
// "lock", "probe", "dir" for its directories, called after their contents) and foreign(path) for the
// rest. Never descends into foreign directories or through symlinks.
template <class Ours, class Foreign>
void walk_cache_tree(const fs::path& root, Ours&& ours, Foreign&& foreign) {
  for (const auto& top : children(root)) {
    const std::string n = top.path().filename().string();
    if (is_probe_file_name(n) && !is_real_dir(top)) {
      ours(top.path(), "probe");
      continue;
    }
    if (n != "jit" || !is_real_dir(top)) {
      foreign(top.path());
      continue;
    }
    for (const auto& fam : children(top.path())) {
      if (!is_family_name(fam.path().filename().string()) || !is_real_dir(fam)) {
        foreign(fam.path());
        continue;
      }
      for (const auto& s : children(fam.path())) {
        if (!is_real_dir(s)) {
          foreign(s.path());
          continue;
        }
        for (const auto& d : children(s.path())) {
          if (!is_real_dir(d)) {
            foreign(d.path());
            continue;
          }
          for (const auto& t : children(d.path())) {
            if (!is_real_dir(t)) {
              foreign(t.path());
              continue;
            }
            for (const auto& shard : children(t.path())) {
              if (!is_real_dir(shard) || !is_shard_name(shard.path().filename().string())) {
                foreign(shard.path());
                continue;
              }
              for (const auto& e : children(shard.path())) {
                const std::string en = e.path().filename().string();
                if (is_digest_name(en) && is_real_dir(e))
                  ours(e.path(), "entry");
                else if (is_leftover_name(en) && is_real_dir(e))
                  ours(e.path(), "leftover");
                else if (is_lock_name(en) && !is_real_dir(e))
                  ours(e.path(), "lock");
                else
                  foreign(e.path());
              }
              ours(shard.path(), "dir");
            }
            ours(t.path(), "dir");
          }
          ours(d.path(), "dir");
        }
        ours(s.path(), "dir");
      }
      ours(fam.path(), "dir");
    }
    ours(top.path(), "dir");
  }
}

}  // namespace

std::vector<fs::path> entry_dirs(const fs::path& root) {
  std::vector<fs::path> out;
  for_each_shard(root, [&](const fs::path& shard) {
    for (const auto& e : subdirs(shard)) out.push_back(e);
  });
  return out;
}

std::vector<EntryInfo> list_entries(const fs::path& root) {
  std::vector<EntryInfo> out;
  for (const auto& dir : entry_dirs(root)) {
    std::string text;
    if (!read_whole_file(dir / kMetaFileName, text, kMaxMetaFileBytes).empty()) continue;
    EntryMeta m;
    if (!parse_meta_text(text, m).empty()) continue;
    auto get = [&](const char* k) {
      auto it = m.inputs.find(k);
      return it == m.inputs.end() ? std::string() : it->second;
    };
    EntryInfo e;
    e.family = m.family;
    e.stepper = get("stepper");
    e.dtype = canonical_dtype(get("dtype"));
    e.model_hash = get("model_hash");
    e.digest = dir.filename().string();
    e.created_at = m.created_at;
    e.components = m.components;
    e.size = dir_size(dir);
    e.dir = dir;
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const EntryInfo& a, const EntryInfo& b) {
    return std::tie(a.family, a.stepper, a.dtype, a.digest) <
           std::tie(b.family, b.stepper, b.dtype, b.digest);
  });
  return out;
}

bool EntryFilter::matches(const EntryInfo& e) const {
  if (!stepper.empty() && lower(stepper) != lower(e.stepper)) return false;
  if (!dtype.empty() && canonical_dtype(dtype) != canonical_dtype(e.dtype)) return false;
  if (!hash_prefix.empty()) {
    const std::string p = lower(hash_prefix);
    if (lower(e.model_hash).rfind(p, 0) != 0) return false;
  }
  return true;
}

std::vector<VerifyItem> verify_entries(const fs::path& root) {
  std::vector<VerifyItem> out;
  const auto now = fs::file_time_type::clock::now();
  for_each_shard(root, [&](const fs::path& shard) {
    for (const auto& d : subdirs(shard, /*include_hidden=*/true)) {
      const std::string name = d.filename().string();
      if (!is_digest_name(name) && !is_leftover_name(name)) continue;  // not ours: never touched
      if (name[0] == '.') {
        // Leftover of a writer that died (tmp) or of an interrupted delete (corrupt); a live writer's temp
        // directory exists for milliseconds, so only old ones are reported.
        std::error_code ec;
        const auto age = now - fs::last_write_time(d, ec);
        if (!ec && age > std::chrono::seconds(60)) out.push_back({d, false, "leftover temporary directory"});
        continue;
      }
      const EntryCheck c = check_entry_dir(d, nullptr);
      out.push_back({d, c.state == EntryState::Ok, c.state == EntryState::Ok ? std::string() : c.reason});
    }
  });
  return out;
}

std::vector<fs::path> foreign_items(const fs::path& root) {
  std::vector<fs::path> out;
  walk_cache_tree(
      root, [](const fs::path&, const char*) {}, [&](const fs::path& p) { out.push_back(p); });
  std::sort(out.begin(), out.end());
  return out;
}

ClearReport clear_all(const fs::path& root, bool dry_run) {
  ClearReport r;
  auto fail = [&](const fs::path& p, const std::string& why) {
    r.failures.push_back(p.string() + ": " + why);
  };
  walk_cache_tree(
      root,
      [&](const fs::path& p, const char* kind) {
        const std::string k = kind;
        if (k == "dir") {
          // Only once empty: whatever foreign stays inside keeps its directories.
          if (!dry_run && ::rmdir(p.c_str()) == 0) r.deleted.push_back(p);
          return;
        }
        if (k == "entry") ++r.entries;
        r.deleted.push_back(p);
        if (dry_run) return;
        std::error_code ec;
        if (k == "entry") {
          if (std::string e = remove_entry_dir(p); !e.empty()) fail(p, e);
        } else if (k == "leftover") {
          fs::remove_all(p, ec);
          if (ec) fail(p, ec.message());
        } else if (::unlink(p.c_str()) != 0 && errno != ENOENT) {
          fail(p, std::strerror(errno));
        }
      },
      [&](const fs::path& p) { r.foreign.push_back(p); });
  return r;
}

std::string human_size(std::uintmax_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + "B";
  const char* units[] = {"KB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int u = -1;
  do {
    v /= 1024.0;
    ++u;
  } while (v >= 1024.0 && u < 3);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%s", v, units[u]);
  return buf;
}

}  // namespace dynlib::cache
