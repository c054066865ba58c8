// CodeCache in one process: memory/disk/build paths, corruption recovery, disk_cache=false, CacheLock,
// maintenance helpers, and the timing numbers.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <dynlib/errors.hpp>
#include <fstream>
#include <map>
#include <thread>

#include "cache/cache_lock.hpp"
#include "cache/cache_test_util.hpp"
#include "cache/code_cache.hpp"
#include "cache/entry_file.hpp"
#include "cache/maintenance.hpp"
#include "cache/probe_payload.hpp"
#include "core/cache_config.hpp"

using namespace dynlib::cache;
using cache_test::TempDir;
using cache_test::WarningCapture;
namespace fs = std::filesystem;

namespace {

CacheKey test_key(const std::string& model = "00112233445566778899aabbccddeeff",
                  const std::string& stepper = "rk4") {
  CacheKey k;
  k.model_hash = model;
  k.stepper = stepper;
  k.target_triple = "x86_64-pc-linux-gnu";
  k.host_cpu = "testcpu";
  k.template_version = "t1";
  return k;
}

CacheSettings settings_for(const fs::path& root) {
  CacheSettings s;
  s.root = root;
  s.fallback_root = root.parent_path() / "no-fallback-expected";
  return dynlib::core::cache_settings(s);
}

struct CountingBuilder {
  std::string digest;
  int* calls;
  std::string operator()() const {
    ++*calls;
    return dynlib::cache::testing::probe_payload(digest);
  }
};

LookupOptions opts(bool disk, std::vector<std::string> comps = {}) {
  LookupOptions o;
  o.disk_cache = disk;
  o.components = std::move(comps);
  return o;
}
EntryFilter filt(std::string stepper, std::string dtype, std::string hash) {
  EntryFilter f;
  f.stepper = std::move(stepper);
  f.dtype = std::move(dtype);
  f.hash_prefix = std::move(hash);
  return f;
}

std::string slurp(const fs::path& p) {
  std::string s;
  REQUIRE(read_whole_file(p, s, kMaxEntryFileBytes).empty());
  return s;
}
void spit(const fs::path& p, const std::string& s) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << s;
}

}  // namespace

TEST_CASE("cache: build, then memory hit, then disk hit in a new cache", "[cache][disk]") {
  TempDir t;
  const fs::path root = t.path / "root";
  const CacheKey key = test_key();
  const std::string digest = key.digest();
  int calls = 0;
  {
    CodeCache c(settings_for(root));
    auto r1 = c.get_or_build(key, CountingBuilder{digest, &calls}, opts(true, {"rhs", "runner"}));
    CHECK(r1.origin == Origin::Built);
    CHECK(r1.digest == digest);
    REQUIRE(r1.entry);
    CHECK(*r1.entry == entry_dir(root, key));
    CHECK(fs::exists(*r1.entry / kEntryFileName));
    CHECK(fs::exists(*r1.entry / kMetaFileName));
    CHECK(fs::exists(r1.entry->parent_path() / ("." + digest + ".lock")));
    // Second lookup: memory, no I/O at all (the disk entry is gone and is not needed).
    fs::remove_all(root);
    auto r2 = c.get_or_build(key, CountingBuilder{digest, &calls});
    CHECK(r2.origin == Origin::Memory);
    CHECK(r2.object == r1.object);  // same shared bytes
    CHECK(calls == 1);
    CHECK(c.find_in_memory(key) == r1.object);
  }
  {
    CodeCache c(settings_for(root));
    c.get_or_build(key, CountingBuilder{digest, &calls});  // rebuilds (root was deleted) and stores
    CHECK(calls == 2);
  }
  CodeCache c2(settings_for(root));
  auto r3 = c2.get_or_build(key, CountingBuilder{digest, &calls});
  CHECK(r3.origin == Origin::Disk);
  CHECK(*r3.object == dynlib::cache::testing::probe_payload(digest));
  CHECK(calls == 2);
  // Metadata: inputs, components, sizes, creation time.
  EntryMeta m;
  REQUIRE(parse_meta_text(slurp(entry_dir(root, key) / kMetaFileName), m).empty());
  CHECK(m.digest == digest);
  CHECK(m.family == "runners");
  CHECK(m.inputs.at("stepper") == "rk4");
  CHECK(m.inputs.at("model_hash") == key.model_hash);
  CHECK(m.inputs.at("dtype") == "float64");
  CHECK(m.payload_size == 3000);
  CHECK(m.entry_size > 3000);
  CHECK(m.created_unix > 0);
  CHECK(m.created_at.size() == 20);
  // No temp directories left behind.
  for (const auto& p : cache_test::listing(root)) CHECK(p.find(".tmp-") == std::string::npos);
}

namespace {
bool same_meta(const EntryMeta& a, const EntryMeta& b) {
  return a.format_version == b.format_version && a.digest == b.digest && a.family == b.family &&
         a.created_at == b.created_at && a.created_unix == b.created_unix &&
         a.payload_size == b.payload_size && a.entry_size == b.entry_size && a.components == b.components &&
         a.inputs == b.inputs;
}
}  // namespace

TEST_CASE("cache: the metadata subset reader agrees with the TOML parser or leaves it the decision",
          "[cache][disk][corrupt]") {
  CacheKey key = test_key();
  key.extra["tuning"] = "opt=0:;codegen=7:default";
  const std::string digest = key.digest();
  const std::string meta = make_meta_text(key, digest, 3000, 3100, {"rhs", "runner"});
  EntryMeta fast, full;
  REQUIRE(parse_meta_subset(meta, fast));  // what make_meta_text writes takes the fast path
  REQUIRE(parse_meta_toml(meta, full).empty());
  CHECK(same_meta(fast, full));
  CHECK(fast.components == std::vector<std::string>{"rhs", "runner"});
  CHECK(fast.inputs.at("extra.tuning") == "opt=0:;codegen=7:default");

  // Valid TOML outside the subset: the TOML parser reads it, with the same result.
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string t = meta;
    const auto at = t.find(from);
    REQUIRE(at != std::string::npos);
    return t.replace(at, from.size(), to);
  };
  const std::vector<std::string> valid_elsewhere = {
      replaced("family = 'runners'", "family = \"runners\""),       // basic string
      replaced("family = 'runners'", "family = 'runners' # note"),  // comment after a value
      replaced("\n[inputs]", "\r\n[inputs]"),                       // CRLF
      replaced("stepper = 'rk4'", "stepper = 'rk4\xc3\xa9'"),       // UTF-8
      replaced("entry_size = 3100", "entry_size = 3_100"),          // underscore in an integer
  };
  for (const auto& t : valid_elsewhere) {
    INFO(t);
    EntryMeta a;
    CHECK_FALSE(parse_meta_subset(t, a));
    REQUIRE(parse_meta_text(t, a).empty());
    REQUIRE(parse_meta_toml(t, full).empty());
    CHECK(same_meta(a, full));
  }
  // Not valid, or lacking a required field: never accepted by the subset reader, refused by the parser.
  const std::vector<std::string> invalid = {
      replaced("family = 'runners'", "family = 'runners'\nfamily = 'steppers'"),  // key twice
      replaced("stepper = 'rk4'", "stepper = 'rk4'\n'stepper' = 'x'"),            // twice, quoted
      replaced("digest = ", "digest_ = "),
      replaced("format_version = 1", "format_version = '1'"),
      replaced("[inputs]", "[inputs]\n[inputs]"),
      replaced("[inputs]", "inputs = 'x'"),
      replaced("payload_size = 3000", "payload_size = 03000"),
      "this is [not toml",
      "",
  };
  for (const auto& t : invalid) {
    INFO(t);
    EntryMeta a;
    CHECK_FALSE(parse_meta_subset(t, a));
    CHECK_FALSE(parse_meta_text(t, a).empty());
  }
}

TEST_CASE("cache: corrupt entries are warned about, deleted and rebuilt once", "[cache][disk][corrupt]") {
  using Corrupt = std::function<void(const fs::path& dir)>;
  const std::vector<std::pair<const char*, Corrupt>> kinds = {
      {"truncated",
       [](const fs::path& d) {
         auto s = slurp(d / kEntryFileName);
         spit(d / kEntryFileName, s.substr(0, s.size() - 100));
       }},
      {"truncated header",
       [](const fs::path& d) { spit(d / kEntryFileName, slurp(d / kEntryFileName).substr(0, 20)); }},
      {"empty", [](const fs::path& d) { spit(d / kEntryFileName, ""); }},
      {"flipped payload byte",
       [](const fs::path& d) {
         auto s = slurp(d / kEntryFileName);
         s[s.size() - 7] ^= 0x10;
         spit(d / kEntryFileName, s);
       }},
      {"flipped key byte",
       [](const fs::path& d) {
         auto s = slurp(d / kEntryFileName);
         s[kEntryHeaderSize + 5] ^= 0x01;
         spit(d / kEntryFileName, s);
       }},
      {"flipped checksum",
       [](const fs::path& d) {
         auto s = slurp(d / kEntryFileName);
         s[25] ^= 0x40;
         spit(d / kEntryFileName, s);
       }},
      {"appended bytes",
       [](const fs::path& d) { spit(d / kEntryFileName, slurp(d / kEntryFileName) + "xx"); }},
      {"wrong magic",
       [](const fs::path& d) {
         auto s = slurp(d / kEntryFileName);
         s[0] = 'X';
         spit(d / kEntryFileName, s);
       }},
      {"wrong format version",
       [](const fs::path& d) {
         auto s = slurp(d / kEntryFileName);
         s[8] = 99;
         spit(d / kEntryFileName, s);
       }},
      {"missing metadata", [](const fs::path& d) { fs::remove(d / kMetaFileName); }},
      {"garbage metadata", [](const fs::path& d) { spit(d / kMetaFileName, "this is [not toml"); }},
      {"empty metadata", [](const fs::path& d) { spit(d / kMetaFileName, ""); }},
      {"missing object file", [](const fs::path& d) { fs::remove(d / kEntryFileName); }},
      {"entry is a file",
       [](const fs::path& d) {
         fs::remove_all(d);
         spit(d, "junk");
       }},
      // Special files: read with a size limit, without following symlinks, never blocking.
      {"object is a FIFO",
       [](const fs::path& d) {
         fs::remove(d / kEntryFileName);
         REQUIRE(::mkfifo((d / kEntryFileName).c_str(), 0600) == 0);
       }},
      {"metadata is a FIFO",
       [](const fs::path& d) {
         fs::remove(d / kMetaFileName);
         REQUIRE(::mkfifo((d / kMetaFileName).c_str(), 0600) == 0);
       }},
      {"object is a symlink to /dev/zero",
       [](const fs::path& d) {
         fs::remove(d / kEntryFileName);
         fs::create_symlink("/dev/zero", d / kEntryFileName);
       }},
      {"object is a 3 GiB sparse file",
       [](const fs::path& d) { REQUIRE(::truncate((d / kEntryFileName).c_str(), off_t{3} << 30) == 0); }},
      {"another key's entry",
       [](const fs::path& d) {
         // a valid entry of a different key copied over this digest
         const CacheKey other = test_key("ffffffffffffffffffffffffffffffff");
         spit(d / kEntryFileName, encode_entry(other.canonical_text(), "evil bytes"));
       }},
  };
  for (const auto& [name, corrupt] : kinds) {
    SECTION(name) {
      TempDir t;
      const fs::path root = t.path / "root";
      const CacheKey key = test_key();
      const std::string digest = key.digest();
      int calls = 0;
      { CodeCache(settings_for(root)).get_or_build(key, CountingBuilder{digest, &calls}); }
      REQUIRE(calls == 1);
      corrupt(entry_dir(root, key));

      WarningCapture w;
      CodeCache c(settings_for(root));
      CacheResult r;
      REQUIRE_NOTHROW(r = c.get_or_build(key, CountingBuilder{digest, &calls}));
      CHECK(r.origin == Origin::Built);
      CHECK(calls == 2);                                                  // rebuilt exactly once
      CHECK(*r.object == dynlib::cache::testing::probe_payload(digest));  // never wrong bytes
      CHECK(c.stats().corrupt_recovered == 1);
      const auto msgs = w.get();
      REQUIRE(msgs.size() == 1);
      CHECK(msgs[0].find("is corrupt") != std::string::npos);
      CHECK(msgs[0].find(digest) != std::string::npos);
      // The rebuilt entry is valid: the next process loads it.
      auto r2 = CodeCache(settings_for(root)).get_or_build(key, CountingBuilder{digest, &calls});
      CHECK(r2.origin == Origin::Disk);
      CHECK(calls == 2);
      for (const auto& p : cache_test::listing(root)) CHECK(p.find(".corrupt-") == std::string::npos);
    }
  }
}

TEST_CASE("cache: disk_cache=false writes nothing anywhere", "[cache][disk]") {
  TempDir t;
  // Point every place the cache could write at the temp dir (none of these may appear).
  const fs::path root = t.path / "root", fallback = t.path / "fallback", xdg = t.path / "xdg";
  const auto before = cache_test::listing(t.path);
  ::setenv("XDG_CACHE_HOME", xdg.c_str(), 1);
  CacheSettings s;
  s.root = root;
  s.fallback_root = fallback;
  CodeCache explicit_root(dynlib::core::cache_settings(s));
  CodeCache from_env(dynlib::core::cache_settings());  // the library's settings: config -> XDG
  const auto tmp_before = cache_test::listing(default_fallback_root());
  int calls = 0;
  const CacheKey key = test_key();
  for (CodeCache* c : {&explicit_root, &from_env}) {
    auto r1 = c->get_or_build(key, CountingBuilder{key.digest(), &calls}, opts(false));
    auto r2 = c->get_or_build(key, CountingBuilder{key.digest(), &calls}, opts(false));
    CHECK(r1.origin == Origin::Built);
    CHECK(r2.origin == Origin::Memory);  // in-process cache still works
    CHECK_FALSE(r1.entry);
  }
  CHECK(calls == 2);
  CHECK(cache_test::listing(t.path) == before);
  CHECK(cache_test::listing(default_fallback_root()) == tmp_before);
  ::unsetenv("XDG_CACHE_HOME");
}

TEST_CASE("cache: a builder that throws stores nothing and releases the lock", "[cache][disk]") {
  TempDir t;
  const fs::path root = t.path / "root";
  const CacheKey key = test_key();
  CodeCache c(settings_for(root));
  CHECK_THROWS_AS(c.get_or_build(key, []() -> std::string { throw dynlib::JitError("boom"); }),
                  dynlib::JitError);
  CHECK_FALSE(fs::exists(entry_dir(root, key)));
  int calls = 0;
  auto r = c.get_or_build(key, CountingBuilder{key.digest(), &calls});
  CHECK(r.origin == Origin::Built);
  CHECK(calls == 1);
}

TEST_CASE("cache: threads racing on one key build once", "[cache][disk]") {
  TempDir t;
  CodeCache c(settings_for(t.path / "root"));
  const CacheKey key = test_key();
  std::atomic<int> calls{0};
  std::vector<std::thread> th;
  std::vector<Origin> origins(8);
  for (int i = 0; i < 8; ++i)
    th.emplace_back([&, i] {
      origins[i] = c.get_or_build(key, [&] {
                      ++calls;
                      std::this_thread::sleep_for(std::chrono::milliseconds(50));
                      return dynlib::cache::testing::probe_payload(key.digest());
                    }).origin;
    });
  for (auto& x : th) x.join();
  CHECK(calls == 1);
  CHECK(std::count(origins.begin(), origins.end(), Origin::Built) == 1);
  CHECK(std::count(origins.begin(), origins.end(), Origin::Memory) == 7);
}

TEST_CASE("cache lock: exclusive, times out, follows a replaced lock file", "[cache][lock]") {
  TempDir t;
  const fs::path lf = t.path / ".x.lock";
  {
    CacheLock a(lf);
    CHECK(a.held());
    CHECK_THROWS_AS(CacheLock(lf, std::chrono::milliseconds(100)), dynlib::CacheError);
    // A waiter is let in when the holder releases.
    std::atomic<bool> got{false};
    std::thread w([&] {
      CacheLock b(lf, std::chrono::milliseconds(5000));
      got = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK_FALSE(got);
    a.release();
    w.join();
    CHECK(got);
  }
  {
    // The lock file is deleted while someone waits: the waiter locks the new file, not the orphan.
    CacheLock a(lf);
    std::atomic<bool> got{false};
    std::thread w([&] {
      CacheLock b(lf, std::chrono::milliseconds(5000));
      got = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    fs::remove(lf);
    CacheLock c(lf, std::chrono::milliseconds(1000));  // a newcomer gets the new file at once
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK_FALSE(got);  // the waiter saw the replacement and now waits on the newcomer's file
    a.release();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK_FALSE(got);
    c.release();
    w.join();
    CHECK(got);
  }
  CHECK_THROWS_AS(CacheLock(t.path / "no" / "such" / "dir.lock"), dynlib::CacheError);
}

TEST_CASE("cache maintenance: list, filter, verify", "[cache][maint]") {
  TempDir t;
  const fs::path root = t.path / "root";
  CodeCache c(settings_for(root));
  int calls = 0;
  CacheKey a = test_key("aaaa0000000000000000000000000000", "rk4"),
           b = test_key("bbbb0000000000000000000000000000", "euler");
  b.family = Family::Steppers;
  b.dtype = "float32";
  c.get_or_build(a, CountingBuilder{a.digest(), &calls}, opts(true, {"rhs", "runner"}));
  c.get_or_build(b, CountingBuilder{b.digest(), &calls});
  const auto all = list_entries(root);
  REQUIRE(all.size() == 2);
  CHECK(all[0].family == "runners");
  CHECK(all[1].family == "steppers");
  CHECK(all[0].stepper == "rk4");
  CHECK(all[0].model_hash == a.model_hash);
  CHECK(all[0].components == std::vector<std::string>{"rhs", "runner"});
  CHECK(all[0].size > 3000);
  CHECK(all[1].dtype == "float32");
  CHECK(filt("RK4", "", "").matches(all[0]));
  CHECK_FALSE(filt("rk4", "", "").matches(all[1]));
  CHECK(filt("", "f32", "").matches(all[1]));
  CHECK(filt("", "", "BBbb").matches(all[1]));
  CHECK_FALSE(filt("", "", "bbbb").matches(all[0]));
  auto v = verify_entries(root);
  REQUIRE(v.size() == 2);
  CHECK((v[0].ok && v[1].ok));
  spit(entry_dir(root, a) / kEntryFileName, "garbage");
  v = verify_entries(root);
  CHECK(std::count_if(v.begin(), v.end(), [](const VerifyItem& i) { return !i.ok; }) == 1);
  CHECK(human_size(123) == "123B");
  CHECK(human_size(1536) == "1.5KB");
  CHECK(human_size(2u * 1024 * 1024) == "2.0MB");
}

TEST_CASE("cache timing: in-process hit and warm disk hit", "[cache][timing]") {
  TempDir t;
  const fs::path root = t.path / "root";
  const CacheKey key = test_key();
  int calls = 0;
  CodeCache(settings_for(root)).get_or_build(key, CountingBuilder{key.digest(), &calls});
  using clk = std::chrono::steady_clock;
  std::vector<double> disk, mem;
  for (int i = 0; i < 50; ++i) {
    CodeCache c(settings_for(root));
    c.disk_root();  // root resolution (probe) is per process, not per lookup
    auto t0 = clk::now();
    auto r = c.get_or_build(key, CountingBuilder{key.digest(), &calls});
    auto t1 = clk::now();
    auto r2 = c.get_or_build(key, CountingBuilder{key.digest(), &calls});
    auto t2 = clk::now();
    REQUIRE(r.origin == Origin::Disk);
    REQUIRE(r2.origin == Origin::Memory);
    disk.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    mem.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
  }
  std::sort(disk.begin(), disk.end());
  std::sort(mem.begin(), mem.end());
  WARN("warm disk hit median " << disk[25] << " ms; in-process hit median " << mem[25] << " ms");
  CHECK(disk[25] < 5.0);
  CHECK(mem[25] < 0.1);
  CHECK(calls == 1);
}

TEST_CASE("cache: lookup/put for an ObjectCache-style adapter", "[cache][disk]") {
  TempDir t;
  const fs::path root = t.path / "root";
  const CacheKey key = test_key();
  {
    CodeCache c(settings_for(root));
    CHECK_FALSE(c.lookup(key));
    auto where = c.put(key, "object-bytes", opts(true, {"runner"}));
    REQUIRE(where);
    CHECK(*where == entry_dir(root, key));
    auto hit = c.lookup(key);
    REQUIRE(hit);
    CHECK(hit->origin == Origin::Memory);
    CHECK(*hit->object == "object-bytes");
  }
  CodeCache c2(settings_for(root));
  auto hit = c2.lookup(key);
  REQUIRE(hit);
  CHECK(hit->origin == Origin::Disk);
  CHECK(*hit->object == "object-bytes");
  // corrupt -> warned, deleted, a miss
  CodeCache c3(settings_for(root));
  spit(entry_dir(root, key) / kEntryFileName, "bad");
  WarningCapture w;
  CHECK_FALSE(c3.lookup(key));
  CHECK(w.get().size() == 1);
  CHECK_FALSE(fs::exists(entry_dir(root, key)));
  // disk_cache=false: memory only
  CodeCache c4(settings_for(t.path / "other"));
  CHECK_FALSE(c4.put(key, "x", opts(false)));
  CHECK(*c4.lookup(key, opts(false))->object == "x");
  CHECK_FALSE(fs::exists(t.path / "other"));
}

TEST_CASE("cache: special files in an entry are reported by verify at once", "[cache][disk][corrupt]") {
  TempDir t;
  const fs::path root = t.path / "root";
  int calls = 0;
  const CacheKey k1 = test_key("11112222333344445555666677778888"),
                 k2 = test_key("21112222333344445555666677778888"),
                 k3 = test_key("31112222333344445555666677778888");
  for (const CacheKey& k : {k1, k2, k3})
    CodeCache(settings_for(root)).get_or_build(k, CountingBuilder{k.digest(), &calls});
  const fs::path e1 = entry_dir(root, k1) / kEntryFileName, e2 = entry_dir(root, k2) / kEntryFileName,
                 e3 = entry_dir(root, k3) / kEntryFileName;
  fs::remove(e1);
  REQUIRE(::mkfifo(e1.c_str(), 0600) == 0);
  fs::remove(e2);
  fs::create_symlink("/dev/zero", e2);
  REQUIRE(::truncate(e3.c_str(), off_t{3} << 30) == 0);
  std::map<std::string, std::string> reasons;
  for (const auto& item : verify_entries(root)) {
    CHECK_FALSE(item.ok);
    reasons[item.dir.filename().string()] = item.reason;
  }
  CHECK(reasons[k1.digest()] == "cannot read object.entry: is a FIFO (named pipe), not a regular file");
  CHECK(reasons[k2.digest()] == "cannot read object.entry: is a symbolic link, refused");
  CHECK(reasons[k3.digest()] == "cannot read object.entry: is 3 GiB, larger than the limit of 256 MiB");
}

TEST_CASE("cache lock: a planted symlink, FIFO or foreign content is never followed or clobbered",
          "[cache][lock]") {
  TempDir t;
  const fs::path victim = t.path / "victim.txt";
  spit(victim, "precious");
  const fs::path lf = t.path / ".x.lock";
  SECTION("symlink to a victim file") {
    fs::create_symlink(victim, lf);
    try {
      CacheLock l(lf, std::chrono::milliseconds(100));
      FAIL("a symlinked lock file was accepted");
    } catch (const dynlib::CacheError& e) {
      CHECK(std::string(e.what()).find(lf.string() + " is a symbolic link; not following it") !=
            std::string::npos);
    }
    CHECK(slurp(victim) == "precious");
  }
  SECTION("FIFO") {
    REQUIRE(::mkfifo(lf.c_str(), 0600) == 0);
    CHECK_THROWS_WITH(CacheLock(lf, std::chrono::milliseconds(100)),
                      Catch::Contains("is not usable (not a regular file)"));
  }
  SECTION("an existing lock file is not truncated; our PID only goes into a file we created") {
    spit(lf, "precious");
    { CacheLock l(lf); }
    CHECK(slurp(lf) == "precious");
    const fs::path fresh = t.path / ".y.lock";
    { CacheLock l(fresh); }
    CHECK(slurp(fresh) == std::to_string(::getpid()) + "\n");
  }
  SECTION("get_or_build with a symlinked entry lock still works and leaves the victim alone") {
    const fs::path root = t.path / "root";
    const CacheKey key = test_key();
    const fs::path shard = entry_dir(root, key).parent_path();
    fs::create_directories(shard);
    ::chmod(root.c_str(), 0700);
    fs::create_symlink(victim, shard / ("." + key.digest() + ".lock"));
    WarningCapture w;
    int calls = 0;
    CodeCache c(settings_for(root));
    const auto r = c.get_or_build(key, CountingBuilder{key.digest(), &calls});
    CHECK(r.origin == Origin::Built);
    CHECK(*r.object == dynlib::cache::testing::probe_payload(key.digest()));
    CHECK(slurp(victim) == "precious");
    const auto msgs = w.get();
    REQUIRE(msgs.size() == 1);
    CHECK(msgs[0].find("is a symbolic link; not following it; building without the lock") !=
          std::string::npos);
  }
}

TEST_CASE("cache: the next writer removes temp folders of killed writers after the grace period",
          "[cache][disk][leftover]") {
  TempDir t;
  const fs::path root = t.path / "root";
  const CacheKey key = test_key();
  const fs::path shard = entry_dir(root, key).parent_path();
  fs::create_directories(shard);
  ::chmod(root.c_str(), 0700);
  const std::string d = key.digest();
  const fs::path old_tmp = shard / ("." + d + ".tmp-0123abcd"),
                 old_corrupt = shard / ("." + d + ".corrupt-abc123"),
                 fresh_tmp = shard / ("." + d + ".tmp-89abcdef"), foreign = shard / ".mine-tmp-0123";
  for (const auto& p : {old_tmp, old_corrupt, fresh_tmp, foreign}) {
    fs::create_directory(p);
    spit(p / kEntryFileName, "half written");
  }
  const auto eleven_min_ago = fs::file_time_type::clock::now() - std::chrono::minutes(11);
  for (const auto& p : {old_tmp, old_corrupt, foreign}) fs::last_write_time(p, eleven_min_ago);
  int calls = 0;
  CodeCache(settings_for(root)).get_or_build(key, CountingBuilder{d, &calls});
  CHECK_FALSE(fs::exists(old_tmp));
  CHECK_FALSE(fs::exists(old_corrupt));
  CHECK(fs::exists(fresh_tmp));  // may belong to a live writer
  CHECK(fs::exists(foreign));    // not a name the cache makes
}

TEST_CASE("cache: discard() deletes only the one entry", "[cache][disk]") {
  TempDir t;
  const fs::path root = t.path / "root";
  int calls = 0;
  const CacheKey a = test_key(), b = test_key("ffeeddccbbaa99887766554433221100");
  CodeCache c(settings_for(root));
  c.get_or_build(a, CountingBuilder{a.digest(), &calls});
  c.get_or_build(b, CountingBuilder{b.digest(), &calls});
  CHECK(c.discard(a).empty());
  CHECK_FALSE(fs::exists(entry_dir(root, a)));
  CHECK_FALSE(c.find_in_memory(a));
  CHECK(fs::exists(entry_dir(root, b) / kEntryFileName));
  CHECK(c.find_in_memory(b));
}

TEST_CASE("cache maintenance: clear_all deletes what the cache made, never the root or foreign files",
          "[cache][maint]") {
  TempDir t;
  const fs::path root = t.path / "root";
  int calls = 0;
  const CacheKey k = test_key();
  CodeCache(settings_for(root)).get_or_build(k, CountingBuilder{k.digest(), &calls});
  spit(root / "notes.txt", "mine");
  fs::create_directories(root / "folder");
  spit(root / "folder" / "a.txt", "mine");
  const ClearReport r = clear_all(root, false);
  CHECK(r.entries == 1);
  CHECK(r.failures.empty());
  CHECK(r.foreign == std::vector<fs::path>{root / "folder", root / "notes.txt"});
  CHECK(cache_test::listing(root) == std::set<std::string>{"folder", "folder/a.txt", "notes.txt"});
}
