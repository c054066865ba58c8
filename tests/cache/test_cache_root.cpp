// Cache root resolution: DYNLIB_CONFIG keys, XDG default, fallbacks for unwritable roots.
// Tests run as root, so "unwritable" is a path under a regular file (mkdir fails with ENOTDIR).
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "cache/cache_root.hpp"
#include "cache/cache_test_util.hpp"
#include "cache/code_cache.hpp"
#include "cache/probe_payload.hpp"
#include "core/cache_config.hpp"

using namespace dynlib::cache;
using cache_test::TempDir;
using cache_test::WarningCapture;
using dynlib::core::cache_root_options;
using dynlib::core::cache_settings;
namespace fs = std::filesystem;

namespace {

// Sets an environment variable for the scope.
struct EnvVar {
  std::string name;
  std::optional<std::string> old;
  EnvVar(std::string n, const std::optional<std::string>& value) : name(std::move(n)) {
    if (const char* o = std::getenv(name.c_str())) old = o;
    if (value)
      ::setenv(name.c_str(), value->c_str(), 1);
    else
      ::unsetenv(name.c_str());
  }
  ~EnvVar() {
    if (old)
      ::setenv(name.c_str(), old->c_str(), 1);
    else
      ::unsetenv(name.c_str());
  }
};

fs::path write_config(const fs::path& dir, const std::string& text) {
  const fs::path p = dir / "config.toml";
  std::ofstream(p) << text;
  return p;
}

}  // namespace

TEST_CASE("cache root: config keys and the XDG default", "[cache][root]") {
  TempDir t;
  EnvVar xdg("XDG_CACHE_HOME", (t.path / "xdg").string());
  SECTION("no config: ${XDG_CACHE_HOME}/dynlib") {
    EnvVar cfg("DYNLIB_CONFIG", (t.path / "missing.toml").string());
    const auto r = resolve_cache_root(cache_root_options());
    CHECK(r.origin == RootOrigin::Default);
    REQUIRE(r.path);
    CHECK(*r.path == t.path / "xdg" / "dynlib");
    CHECK(fs::is_directory(*r.path));
  }
  SECTION("no XDG: ~/.cache/dynlib") {
    EnvVar cfg("DYNLIB_CONFIG", (t.path / "missing.toml").string());
    EnvVar x2("XDG_CACHE_HOME", std::nullopt);
    EnvVar home("HOME", (t.path / "home").string());
    CHECK(primary_cache_root(cache_root_options()) == t.path / "home" / ".cache" / "dynlib");
  }
  SECTION("top-level cache_root") {
    EnvVar cfg("DYNLIB_CONFIG",
               write_config(t.path, "cache_root = \"" + (t.path / "a").string() + "\"\n").string());
    const auto r = resolve_cache_root(cache_root_options());
    CHECK(r.origin == RootOrigin::Config);
    CHECK(r.path == t.path / "a");
  }
  SECTION("[cache] root") {
    EnvVar cfg("DYNLIB_CONFIG",
               write_config(t.path, "[cache]\nroot = \"" + (t.path / "b").string() + "\"\n").string());
    CHECK(resolve_cache_root(cache_root_options()).path == t.path / "b");
  }
  SECTION("[cache] cache_root") {
    EnvVar cfg("DYNLIB_CONFIG",
               write_config(t.path, "[cache]\ncache_root = \"" + (t.path / "c").string() + "\"\n").string());
    CHECK(resolve_cache_root(cache_root_options()).path == t.path / "c");
  }
  SECTION("top-level wins over [cache]; $VARS expanded") {
    EnvVar v("H7_TEST_DIR", t.path.string());
    EnvVar cfg(
        "DYNLIB_CONFIG",
        write_config(t.path, "cache_root = \"$H7_TEST_DIR/top\"\n[cache]\nroot = \"/nowhere\"\n").string());
    CHECK(resolve_cache_root(cache_root_options()).path == t.path / "top");
  }
  SECTION("probe=false creates nothing") {
    EnvVar cfg("DYNLIB_CONFIG",
               write_config(t.path, "cache_root = \"" + (t.path / "d").string() + "\"\n").string());
    RootOptions o;
    o.probe = false;
    CHECK(resolve_cache_root(cache_root_options(o)).path == t.path / "d");
    CHECK_FALSE(fs::exists(t.path / "d"));
  }
}

TEST_CASE("cache root: unwritable root falls back to /tmp-style fallback with one warning", "[cache][root]") {
  TempDir t;
  std::ofstream(t.path / "file") << "x";
  const fs::path bad = t.path / "file" / "sub";  // mkdir fails: 'file' is a regular file
  const fs::path fallback = t.path / "fallback";
  EnvVar cfg("DYNLIB_CONFIG", write_config(t.path, "cache_root = \"" + bad.string() + "\"\n").string());
  WarningCapture w;
  RootOptions o;
  o.fallback = fallback;
  const auto r1 = resolve_cache_root(cache_root_options(o));
  const auto r2 = resolve_cache_root(cache_root_options(o));
  CHECK(r1.origin == RootOrigin::Fallback);
  CHECK(r1.path == fallback);
  CHECK(r1.primary == bad);
  CHECK(r2.path == fallback);
  const auto msgs = w.get();
  REQUIRE(msgs.size() == 1);  // one warning, not one per resolution
  CHECK(msgs[0].find("is not writable") != std::string::npos);
  CHECK(msgs[0].find(fallback.string()) != std::string::npos);

  // The cache then stores entries under the fallback.
  CacheSettings s;
  s.fallback_root = fallback;  // root from DYNLIB_CONFIG
  CodeCache c(cache_settings(s));
  CacheKey k;
  k.model_hash = "fb";
  auto r = c.get_or_build(k, [&] { return dynlib::cache::testing::probe_payload(k.digest()); });
  REQUIRE(r.entry);
  CHECK(r.entry->string().rfind(fallback.string(), 0) == 0);
}

TEST_CASE("cache root: the default fallback is per user, ${TMPDIR}/dynlib-cache-<uid>, mode 0700",
          "[cache][root]") {
  TempDir t;
  EnvVar tmpdir("TMPDIR", t.path.string());
  std::ofstream(t.path / "file") << "x";
  const fs::path expected = t.path / ("dynlib-cache-" + std::to_string(::geteuid()));
  CHECK(default_fallback_root() == expected);
  WarningCapture w;
  RootOptions o;
  o.configured = t.path / "file" / "x";
  const auto r = resolve_cache_root(cache_root_options(o));
  CHECK(r.path == expected);
  CHECK(r.origin == RootOrigin::Fallback);
  CHECK(w.get().size() == 1);
  struct stat st {};
  REQUIRE(::lstat(expected.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0700);
}

namespace {
// Resolves `configured` (or, if unwritable, the fallback) and returns the single warning.
std::string refused_root_warning(const RootOptions& o) {
  WarningCapture w;
  const auto r = resolve_cache_root(cache_root_options(o));
  CHECK_FALSE(r.path);
  CHECK(r.origin == RootOrigin::MemoryOnly);
  const auto msgs = w.get();
  REQUIRE(msgs.size() == 1);
  CHECK(msgs[0].find("in memory only") != std::string::npos);
  return msgs[0];
}
}  // namespace

TEST_CASE("cache root: a root others can write to, or that is not ours, is not used", "[cache][root]") {
  TempDir t;
  const fs::path root = t.path / "root";
  fs::create_directory(root);
  RootOptions o;
  o.configured = root;
  o.fallback = t.path / "fallback-must-not-be-used";

  SECTION("mode 0777") {
    ::chmod(root.c_str(), 0777);
    const std::string msg = refused_root_warning(o);
    CHECK(msg.find(root.string()) != std::string::npos);
    CHECK(msg.find("writable by other users (mode 0777") != std::string::npos);
    CHECK_FALSE(fs::exists(o.fallback));
  }
  SECTION("mode 0770 (group-writable)") {
    ::chmod(root.c_str(), 0770);
    CHECK(refused_root_warning(o).find("mode 0770") != std::string::npos);
  }
  SECTION("a symlink to a good directory is resolved once and used") {
    ::chmod(root.c_str(), 0700);
    const fs::path link = t.path / "link";
    fs::create_directory_symlink(root, link);
    o.configured = link;
    WarningCapture w;
    const auto r = resolve_cache_root(cache_root_options(o));
    CHECK(r.path == root);
    CHECK(w.get().empty());
  }
  SECTION("a symlink to a 0777 directory is not used") {
    ::chmod(root.c_str(), 0777);
    const fs::path link = t.path / "link";
    fs::create_directory_symlink(root, link);
    o.configured = link;
    const std::string msg = refused_root_warning(o);
    CHECK(msg.find(link.string() + " -> " + root.string()) != std::string::npos);
  }
  SECTION("a symlink to a symlink is not used") {
    const fs::path l1 = t.path / "l1", l2 = t.path / "l2";
    fs::create_directory_symlink(root, l1);
    fs::create_directory_symlink(l1, l2);
    o.configured = l2;
    CHECK(refused_root_warning(o).find("it is a symbolic link") != std::string::npos);
  }
  SECTION("owned by another user") {
    if (::geteuid() != 0) {
      WARN("not running as root: cannot chown a directory to another user; owner check skipped");
      return;
    }
    ::chmod(root.c_str(), 0700);
    REQUIRE(::chown(root.c_str(), 65534, 65534) == 0);  // nobody
    const std::string msg = refused_root_warning(o);
    CHECK(msg.find("owned by uid 65534, not by the current user") != std::string::npos);
    CHECK(cache_test::listing(root).empty());  // not even a probe file was written
  }
}

TEST_CASE("cache root: a planted fallback (0777 or a symlink) is not used", "[cache][root]") {
  TempDir t;
  EnvVar tmpdir("TMPDIR", t.path.string());
  std::ofstream(t.path / "file") << "x";
  const fs::path fallback = default_fallback_root();
  RootOptions o;
  o.configured = t.path / "file" / "x";  // unwritable: the fallback would be next
  SECTION("0777") {
    fs::create_directory(fallback);
    ::chmod(fallback.c_str(), 0777);
    const std::string msg = refused_root_warning(o);
    CHECK(msg.find(fallback.string() + " be used (it is writable by other users (mode 0777") !=
          std::string::npos);
  }
  SECTION("a symlink to another directory") {
    const fs::path elsewhere = t.path / "elsewhere";
    fs::create_directory(elsewhere);
    ::chmod(elsewhere.c_str(), 0700);
    fs::create_directory_symlink(elsewhere, fallback);
    const std::string msg = refused_root_warning(o);
    CHECK(msg.find(fallback.string() + " be used (it is a symbolic link)") != std::string::npos);
    CHECK(cache_test::listing(elsewhere).empty());
  }
}

TEST_CASE("cache root: nothing writable -> memory only, with a warning, nothing written", "[cache][root]") {
  TempDir t;
  std::ofstream(t.path / "file") << "x";
  const auto before = cache_test::listing(t.path);
  WarningCapture w;
  CacheSettings s;
  s.root = t.path / "file" / "a";
  s.fallback_root = t.path / "file" / "b";
  CodeCache c(cache_settings(s));
  CHECK_FALSE(c.disk_root());
  const auto msgs = w.get();
  REQUIRE(msgs.size() == 1);
  CHECK(msgs[0].find("in memory only") != std::string::npos);
  CacheKey k;
  k.model_hash = "mem";
  int calls = 0;
  auto b = [&] {
    ++calls;
    return dynlib::cache::testing::probe_payload(k.digest());
  };
  auto r1 = c.get_or_build(k, b);
  auto r2 = c.get_or_build(k, b);
  CHECK(r1.origin == Origin::Built);
  CHECK(r2.origin == Origin::Memory);
  CHECK_FALSE(r1.entry);
  CHECK(calls == 1);
  CHECK(cache_test::listing(t.path) == before);
}

TEST_CASE("cache root: a root replaced or opened to others after it was checked is no longer used",
          "[cache][root]") {
  TempDir t;
  const fs::path root = t.path / "root";
  CacheSettings s;
  s.root = root;
  s.fallback_root = t.path / "fallback-must-not-be-used";
  CodeCache c(cache_settings(s));
  CacheKey first, second;
  first.model_hash = "first";
  second.model_hash = "second";
  auto real = [&] { return dynlib::cache::testing::probe_payload(second.digest()); };
  REQUIRE(c.get_or_build(first, [&] { return dynlib::cache::testing::probe_payload(first.digest()); }).entry);
  std::string reason;

  SECTION("made writable by others") {
    REQUIRE(::chmod(root.c_str(), 0777) == 0);
    reason = "writable by other users (mode 0777";
  }
  SECTION("replaced by another directory that holds a planted entry") {
    fs::rename(root, t.path / "moved-away");
    {
      // Looks like a good root (ours, 0700) with a valid entry of the key looked up next.
      CodeCache planted(cache_settings(s));
      REQUIRE(planted.get_or_build(second, [] { return std::string("planted code"); }).entry);
    }
    reason = "replaced by another directory or a link";
  }
  SECTION("replaced by a symlink") {
    fs::rename(root, t.path / "moved-away");
    fs::create_directory_symlink(t.path / "moved-away", root);
    reason = "replaced by another directory or a link";
  }
  const auto before = cache_test::listing(t.path);
  WarningCapture w;
  const auto r = c.get_or_build(second, real);
  CHECK(r.origin == Origin::Built);
  CHECK(*r.object == real());
  CHECK_FALSE(r.entry);
  CHECK_FALSE(c.disk_root());
  CHECK(cache_test::listing(t.path) == before);  // nothing written anywhere
  const auto msgs = w.get();
  REQUIRE(msgs.size() == 1);
  CHECK(msgs[0].find(root.string() + " is no longer used") != std::string::npos);
  CHECK(msgs[0].find(reason) != std::string::npos);
  CHECK(msgs[0].find("in memory only") != std::string::npos);
}
