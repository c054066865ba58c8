// Cache root resolution: DYNLIB_CONFIG keys, XDG default, fallbacks for unwritable roots.
// Tests run as root, so "unwritable" is a path under a regular file (mkdir fails with ENOTDIR).
#include <catch2/catch.hpp>

#include <fstream>

#include "cache/cache_root.hpp"
#include "cache/cache_test_util.hpp"
#include "cache/code_cache.hpp"
#include "cache/probe_payload.hpp"

using namespace dynlib::cache;
using cache_test::TempDir;
using cache_test::WarningCapture;
namespace fs = std::filesystem;

namespace {

// Sets an environment variable for the scope.
struct EnvVar {
  std::string name;
  std::optional<std::string> old;
  EnvVar(std::string n, const std::optional<std::string>& value) : name(std::move(n)) {
    if (const char* o = std::getenv(name.c_str())) old = o;
    if (value) ::setenv(name.c_str(), value->c_str(), 1);
    else ::unsetenv(name.c_str());
  }
  ~EnvVar() {
    if (old) ::setenv(name.c_str(), old->c_str(), 1);
    else ::unsetenv(name.c_str());
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
    const auto r = resolve_cache_root();
    CHECK(r.origin == RootOrigin::Default);
    REQUIRE(r.path);
    CHECK(*r.path == t.path / "xdg" / "dynlib");
    CHECK(fs::is_directory(*r.path));
  }
  SECTION("no XDG: ~/.cache/dynlib") {
    EnvVar cfg("DYNLIB_CONFIG", (t.path / "missing.toml").string());
    EnvVar x2("XDG_CACHE_HOME", std::nullopt);
    EnvVar home("HOME", (t.path / "home").string());
    CHECK(primary_cache_root() == t.path / "home" / ".cache" / "dynlib");
  }
  SECTION("top-level cache_root") {
    EnvVar cfg("DYNLIB_CONFIG", write_config(t.path, "cache_root = \"" + (t.path / "a").string() + "\"\n").string());
    const auto r = resolve_cache_root();
    CHECK(r.origin == RootOrigin::Config);
    CHECK(r.path == t.path / "a");
  }
  SECTION("[cache] root") {
    EnvVar cfg("DYNLIB_CONFIG", write_config(t.path, "[cache]\nroot = \"" + (t.path / "b").string() + "\"\n").string());
    CHECK(resolve_cache_root().path == t.path / "b");
  }
  SECTION("[cache] cache_root") {
    EnvVar cfg("DYNLIB_CONFIG",
               write_config(t.path, "[cache]\ncache_root = \"" + (t.path / "c").string() + "\"\n").string());
    CHECK(resolve_cache_root().path == t.path / "c");
  }
  SECTION("top-level wins over [cache]; $VARS expanded") {
    EnvVar v("H7_TEST_DIR", t.path.string());
    EnvVar cfg("DYNLIB_CONFIG",
               write_config(t.path, "cache_root = \"$H7_TEST_DIR/top\"\n[cache]\nroot = \"/nowhere\"\n").string());
    CHECK(resolve_cache_root().path == t.path / "top");
  }
  SECTION("probe=false creates nothing") {
    EnvVar cfg("DYNLIB_CONFIG", write_config(t.path, "cache_root = \"" + (t.path / "d").string() + "\"\n").string());
    RootOptions o;
    o.probe = false;
    CHECK(resolve_cache_root(o).path == t.path / "d");
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
  const auto r1 = resolve_cache_root(o);
  const auto r2 = resolve_cache_root(o);
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
  CodeCache c(s);
  CacheKey k;
  k.model_hash = "fb";
  auto r = c.get_or_build(k, [&] { return dynlib::cache::testing::probe_payload(k.digest()); });
  REQUIRE(r.entry);
  CHECK(r.entry->string().rfind(fallback.string(), 0) == 0);
}

TEST_CASE("cache root: the default /tmp/dynlib-cache fallback is used", "[cache][root]") {
  TempDir t;
  std::ofstream(t.path / "file") << "x";
  WarningCapture w;
  RootOptions o;
  o.configured = t.path / "file" / "x";
  const auto r = resolve_cache_root(o);
  if (probe_writable("/tmp/dynlib-cache").empty()) {
    CHECK(r.path == fs::path("/tmp/dynlib-cache"));
    CHECK(w.get().size() == 1);
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
  CodeCache c(s);
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
