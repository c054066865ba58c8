// dynlib cache path | list | clear | verify  (docs/cache.md, docs/cli.md).
// Exit codes: 0 success, 1 failure (a deletion failed, corrupt entries found by verify, memory-only root for
// `path`), 2 usage error.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <dynlib/errors.hpp>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "cache/cache_root.hpp"
#include "cache/entry_file.hpp"
#include "cache/maintenance.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "core/cache_config.hpp"

namespace dynlib::cli {
namespace {
namespace fs = std::filesystem;
using namespace dynlib::cache;

const char* kUsage =
    "usage: dynlib cache path\n"
    "       dynlib cache list [--stepper S] [--dtype D] [--hash PREFIX]\n"
    "       dynlib cache clear (--all | --stepper S | --dtype D | --hash PREFIX) [--dry-run]\n"
    "       dynlib cache verify [--remove]\n";

// The existing root holding the library's entries, without creating anything: the primary root if it
// exists; else the fallback if it exists and the primary cannot be created (that is when the library
// writes there). nullopt: no cache on disk.
std::optional<fs::path> configured_root() {
  RootOptions no_probe;
  no_probe.probe = false;
  const ResolvedRoot primary = resolve_cache_root(core::cache_root_options(no_probe));
  std::error_code ec;
  if (fs::is_directory(primary.primary, ec)) return primary.primary;
  const fs::path fallback = default_fallback_root();
  if (!fs::is_directory(fallback, ec)) return std::nullopt;
  // Would the library be able to use the primary? Check the nearest existing ancestor without creating.
  fs::path probe = primary.primary;
  while (!probe.empty() && !fs::exists(probe, ec) && probe != probe.parent_path())
    probe = probe.parent_path();
  const bool primary_usable = fs::is_directory(probe, ec) && ::access(probe.c_str(), W_OK) == 0;
  return primary_usable ? std::nullopt : std::optional<fs::path>(fallback);
}

// configured_root(), a symlink resolved once (and said so on stderr): everything below works on the
// target, so a root that is a link is never half-deleted through it.
std::optional<fs::path> root() {
  std::optional<fs::path> r = configured_root();
  std::error_code ec;
  if (!r || !fs::is_symlink(*r, ec)) return r;
  fs::path target = fs::read_symlink(*r, ec);
  if (ec) return r;
  if (target.is_relative()) target = r->parent_path() / target;
  target = target.lexically_normal();
  std::fprintf(stderr, "Cache root %s is a symbolic link to %s; working on %s\n", r->c_str(), target.c_str(),
               target.c_str());
  if (fs::is_symlink(target, ec) || !fs::is_directory(target, ec)) {
    std::fprintf(stderr, "Cache root %s: its target %s is not a directory; nothing done\n", r->c_str(),
                 target.c_str());
    return std::nullopt;
  }
  return target;
}

// Tells about files in the root the cache did not make (a few names): they are never deleted.
void report_foreign(const fs::path& where, const std::vector<fs::path>& foreign) {
  if (foreign.empty()) return;
  std::string names;
  const std::size_t shown = std::min<std::size_t>(foreign.size(), 5);
  for (std::size_t i = 0; i < shown; ++i) names += (i ? ", " : "") + fs::relative(foreign[i], where).string();
  if (foreign.size() > shown) names += " and " + std::to_string(foreign.size() - shown) + " more";
  std::printf("Left alone %zu item(s) in %s that the cache did not create: %s\n", foreign.size(),
              where.c_str(), names.c_str());
}

void no_positional(const ParsedArgs& p) {
  if (!p.positional.empty()) throw UsageError("unexpected argument '" + p.positional[0] + "'");
}

int path_cmd(const std::vector<std::string>& args) {
  no_positional(parse_args(args, {}));
  const ResolvedRoot r = resolve_cache_root(core::cache_root_options());
  if (!r.path) {
    std::fprintf(stderr,
                 "dynlib cache: no writable cache root (asked for %s); compiled code stays in memory\n",
                 r.primary.c_str());
    return 1;
  }
  std::printf("%s\n", r.path->c_str());
  return 0;
}

EntryFilter filter_from(const ParsedArgs& p) {
  EntryFilter f;
  f.stepper = p.get("stepper").value_or("");
  f.dtype = p.get("dtype").value_or("");
  f.hash_prefix = p.get("hash").value_or("");
  return f;
}

int list_cmd(const std::vector<std::string>& args) {
  const auto p = parse_args(args, {"stepper", "dtype", "hash"});
  no_positional(p);
  const EntryFilter f = filter_from(p);
  const auto r = root();
  int shown = 0;
  if (r) {
    for (const auto& e : list_entries(*r)) {
      if (!f.matches(e)) continue;
      std::string comps;
      if (!e.components.empty()) {
        comps = " components=";
        for (std::size_t i = 0; i < e.components.size(); ++i) comps += (i ? "," : "") + e.components[i];
      }
      std::printf("[%-8s] stepper=%-12s dtype=%-8s spec=%s digest=%s size=%s path=%s%s\n", e.family.c_str(),
                  e.stepper.c_str(), e.dtype.c_str(), e.model_hash.c_str(), e.digest.c_str(),
                  human_size(e.size).c_str(), e.dir.c_str(), comps.c_str());
      ++shown;
    }
  }
  if (shown == 0) std::printf("No cache entries found.\n");
  return 0;
}

int clear_cmd(const std::vector<std::string>& args) {
  const auto p = parse_args(args, {"stepper", "dtype", "hash"}, {"all", "dry_run"});
  no_positional(p);
  const bool all = p.flag("all");
  const bool selective = p.get("stepper") || p.get("dtype") || p.get("hash");
  if (!all && !selective) {
    std::fprintf(stderr, "cache clear requires --all or one of --stepper/--dtype/--hash\n");
    return 2;
  }
  if (all && selective) throw UsageError("--all cannot be combined with --stepper/--dtype/--hash");
  const bool dry = p.flag("dry_run");
  const std::optional<fs::path> where = root();
  std::error_code ec;

  if (all) {
    if (!where || !fs::exists(*where, ec)) {
      std::printf("Cache root does not exist.\n");
      return 0;
    }
    const ClearReport rep = clear_all(*where, dry);
    if (dry) {
      for (const auto& d : rep.deleted) std::printf("[dry-run] Would delete: %s\n", d.c_str());
      if (rep.deleted.empty()) std::printf("[dry-run] Nothing to delete in %s\n", where->c_str());
    } else {
      for (const auto& f : rep.failures) std::fprintf(stderr, "Failed to delete %s\n", f.c_str());
      std::printf("Deleted %d cache entries from %s (the root itself is kept)\n", rep.entries,
                  where->c_str());
    }
    report_foreign(*where, rep.foreign);
    return rep.failures.empty() ? 0 : 1;
  }

  const EntryFilter f = filter_from(p);
  int matched = 0, failed = 0;
  if (where) {
    for (const auto& e : list_entries(*where)) {
      if (!f.matches(e)) continue;
      ++matched;
      if (dry) {
        std::printf("[dry-run] Would delete: %s\n", e.dir.c_str());
        continue;
      }
      if (std::string err = remove_entry_dir(e.dir); !err.empty()) {
        std::fprintf(stderr, "Failed to delete %s: %s\n", e.dir.c_str(), err.c_str());
        ++failed;
        continue;
      }
      std::printf("Deleted %s cache: stepper=%s digest=%s\n", e.family.c_str(), e.stepper.c_str(),
                  e.digest.c_str());
    }
  }
  if (matched == 0) std::printf("No matching cache entries found.\n");
  return failed ? 1 : 0;
}

int verify_cmd(const std::vector<std::string>& args) {
  const auto p = parse_args(args, {}, {"remove"});
  no_positional(p);
  const bool remove = p.flag("remove");
  const auto r = root();
  int ok = 0, bad = 0, removed = 0, failed = 0;
  if (r) {
    for (const auto& item : verify_entries(*r)) {
      if (item.ok) {
        ++ok;
        std::printf("OK      %s\n", item.dir.c_str());
        continue;
      }
      ++bad;
      std::string suffix;
      if (remove) {
        std::error_code ec;
        std::string err;
        if (item.dir.filename().string().rfind('.', 0) == 0) {
          fs::remove_all(item.dir, ec);
          if (ec) err = ec.message();
        } else {
          err = remove_entry_dir(item.dir);
        }
        if (err.empty()) {
          ++removed;
          suffix = " (removed)";
        } else {
          ++failed;
          suffix = " (could not remove: " + err + ")";
        }
      }
      std::printf("CORRUPT %s: %s%s\n", item.dir.c_str(), item.reason.c_str(), suffix.c_str());
    }
  }
  if (r) report_foreign(*r, foreign_items(*r));
  std::printf("Checked %d entries: %d ok, %d corrupt", ok + bad, ok, bad);
  if (remove) std::printf(", %d removed", removed);
  std::printf("\n");
  if (remove) return failed ? 1 : 0;
  return bad ? 1 : 0;
}

}  // namespace

int cmd_cache(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  for (const auto& a : rest)
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  if (args[0] == "path") return path_cmd(rest);
  if (args[0] == "list") return list_cmd(rest);
  if (args[0] == "clear") return clear_cmd(rest);
  if (args[0] == "verify") return verify_cmd(rest);
  throw UsageError("unknown cache command '" + args[0] + "' (path, list, clear, verify)");
}

}  // namespace dynlib::cli
