// The JIT through the compiled-code cache, with REAL processes (jit_cache_probe) and a temp cache root
// named by a temp DYNLIB_CONFIG (nothing touches ~/.cache).
#include <catch2/catch.hpp>
#include <chrono>
#include <dynlib/dynlib.hpp>
#include <fstream>
#include <map>

#include "cache/cache_root.hpp"
#include "cache/cache_test_util.hpp"
#include "cache/entry_file.hpp"
#include "core/jit_loader.hpp"

using namespace cache_test;
namespace fs = std::filesystem;

namespace {

// A temp dir with config.toml naming <dir>/root as the cache root; DYNLIB_CONFIG points at it while alive.
struct TempConfig {
  TempDir dir;
  fs::path root, config;
  TempConfig() {
    root = dir.path / "root";
    config = dir.path / "config.toml";
    std::ofstream(config) << "[cache]\nroot = \"" << root.string() << "\"\n";
    ::setenv("DYNLIB_CONFIG", config.c_str(), 1);
  }
  ~TempConfig() { ::setenv("DYNLIB_CONFIG", "/nonexistent/dynlib-test-config.toml", 1); }
};

std::map<std::string, std::string> fields(const std::string& out) {
  std::map<std::string, std::string> m;
  std::size_t p = 0;
  while (p < out.size()) {
    std::size_t e = out.find('\n', p);
    if (e == std::string::npos) e = out.size();
    std::string line = out.substr(p, e - p);
    std::size_t q = 0;
    while (q < line.size()) {  // space-separated key=value pairs
      std::size_t sp = line.find(' ', q);
      if (sp == std::string::npos) sp = line.size();
      const std::string tok = line.substr(q, sp - q);
      if (auto eq = tok.find('='); eq != std::string::npos && line.rfind("record ", 0) != 0)
        m[tok.substr(0, eq)] = tok.substr(eq + 1);
      q = sp + 1;
    }
    p = e + 1;
  }
  return m;
}

Child probe(std::vector<std::string> args) {
  args.insert(args.begin(), JIT_CACHE_PROBE_PATH);
  return spawn(args);
}

// The object.entry files under root (one per unit).
std::vector<fs::path> entries(const fs::path& root) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::exists(root, ec)) return out;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().filename() == dynlib::cache::kEntryFileName) out.push_back(it->path());
  return out;
}

}  // namespace

TEST_CASE("jit cache: built, then disk, then memory; bit-identical results", "[cache][jit]") {
  TempConfig cfg;
  auto a = probe({});
  REQUIRE(a.finish() == 0);
  INFO(a.output);
  auto fa = fields(a.output);
  CHECK(fa["origin1"] == "built");
  CHECK(fa["origin2"] == "memory");
  CHECK(fa["match"] == "1");
  CHECK(count(a.output, "warning") == 0);
  CHECK(entries(cfg.root).size() == 1);
  auto b = probe({});
  REQUIRE(b.finish() == 0);
  INFO(b.output);
  auto fb = fields(b.output);
  CHECK(fb["origin1"] == "disk");
  CHECK(fb["origin2"] == "memory");
  CHECK(fb["digest1"] == fa["digest1"]);
  CHECK(fb["state1"] == fa["state1"]);
  CHECK(fb["match"] == "1");
  CHECK(std::stoul(fb["source_rhs_bytes"]) > 50);  // inspection works on a disk hit
  CHECK(count(b.output, "warning") == 0);
}

TEST_CASE("jit cache: the code-generation knobs are part of the key, results are not changed by them",
          "[cache][jit]") {
  TempConfig cfg;
  auto a = probe({});
  REQUIRE(a.finish() == 0);
  auto fa = fields(a.output);
  REQUIRE(fa["origin1"] == "built");
  const std::vector<std::pair<const char*, const char*>> knobs = {{"DYNLIB_JIT_UNROLL_MAX", "1"},
                                                                  {"DYNLIB_JIT_INLINE_MAX", "1"},
                                                                  {"DYNLIB_JIT_LOCAL_STATE_MAX", "1"},
                                                                  {"DYNLIB_JIT_SLP_MIN_STATES", "1"},
                                                                  {"DYNLIB_JIT_OPT", "O2"},
                                                                  {"DYNLIB_JIT_CODEGEN", "default"},
                                                                  {"DYNLIB_JIT_LOOP_OPT", "1"},
                                                                  {"DYNLIB_JIT_PIPELINE", "default<O1>"}};
  for (const auto& [knob, value] : knobs) {
    INFO(knob);
    ::setenv(knob, value, 1);
    auto b = probe({});
    ::unsetenv(knob);
    REQUIRE(b.finish() == 0);
    INFO(b.output);
    auto fb = fields(b.output);
    CHECK(fb["origin1"] == "built");  // another key: the entry built without the knob is not loaded
    CHECK(fb["digest1"] != fa["digest1"]);
    CHECK(fb["state1"] == fa["state1"]);  // same numbers, bit for bit
  }
  auto c = probe({});
  REQUIRE(c.finish() == 0);
  CHECK(fields(c.output)["origin1"] == "disk");
}

TEST_CASE("jit cache: 8 processes started together, exactly one compiles", "[cache][jit][process]") {
  TempConfig cfg;
  const std::string start = std::to_string(epoch_ms_from_now(1500));
  std::vector<Child> kids;
  for (int i = 0; i < 8; ++i) kids.push_back(probe({"--start-at", start}));
  int built = 0, disk = 0;
  std::string state;
  for (auto& k : kids) {
    CHECK(k.finish() == 0);
    INFO(k.output);
    auto f = fields(k.output);
    CHECK(f["match"] == "1");
    CHECK(count(k.output, "warning") == 0);
    built += f["origin1"] == "built";
    disk += f["origin1"] == "disk";
    if (state.empty()) state = f["state1"];
    CHECK(f["state1"] == state);
  }
  CHECK(built == 1);
  CHECK(disk == 7);
}

TEST_CASE("jit cache: a process killed while holding the lock does not block the next",
          "[cache][jit][process]") {
  TempConfig cfg;
  ::setenv("DYNLIB_JIT_CACHE_TEST_HOLD_MS", "60000", 1);
  auto holder = probe({});
  ::unsetenv("DYNLIB_JIT_CACHE_TEST_HOLD_MS");
  REQUIRE(holder.read_until("building\n"));
  ::kill(holder.pid, SIGKILL);
  CHECK(holder.finish() == -SIGKILL);
  const auto t0 = std::chrono::steady_clock::now();
  auto next = probe({});
  CHECK(next.finish() == 0);
  INFO(next.output);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(fields(next.output)["origin1"] == "built");
  CHECK(fields(next.output)["match"] == "1");
  CHECK(s < 10.0);
}

TEST_CASE("jit cache: every kind of corruption of a real entry is recovered", "[cache][jit][corrupt]") {
  TempConfig cfg;
  auto first = probe({"--model", "builtin://ode/vanderpol"});
  REQUIRE(first.finish() == 0);
  const std::string good_state = fields(first.output)["state1"];
  auto es = entries(cfg.root);
  REQUIRE(es.size() == 1);
  const fs::path entry = es[0];
  const fs::path meta = entry.parent_path() / dynlib::cache::kMetaFileName;
  std::string bytes;
  REQUIRE(dynlib::cache::read_whole_file(entry, bytes, dynlib::cache::kMaxEntryFileBytes).empty());
  const std::string meta_text = [&] {
    std::string m;
    dynlib::cache::read_whole_file(meta, m, dynlib::cache::kMaxMetaFileBytes);
    return m;
  }();

  using Corrupt = std::function<void()>;
  const std::vector<std::pair<std::string, Corrupt>> kinds = {
      {"truncated", [&] { fs::resize_file(entry, bytes.size() / 2); }},
      {"empty", [&] { fs::resize_file(entry, 0); }},
      {"flipped payload byte",
       [&] {
         std::string b = bytes;
         b[b.size() - 100] = static_cast<char>(b[b.size() - 100] ^ 0x5A);
         std::ofstream(entry, std::ios::binary | std::ios::trunc) << b;
       }},
      {"wrong magic",
       [&] {
         std::string b = bytes;
         b[0] = 'X';
         std::ofstream(entry, std::ios::binary | std::ios::trunc) << b;
       }},
      {"wrong format version",
       [&] {
         std::string b = bytes;
         b[8] = static_cast<char>(99);
         std::ofstream(entry, std::ios::binary | std::ios::trunc) << b;
       }},
      {"missing metadata", [&] { fs::remove(meta); }},
  };
  for (const auto& [name, corrupt] : kinds) {
    DYNAMIC_SECTION(name) {
      // Restore the good entry, then damage it.
      std::ofstream(entry, std::ios::binary | std::ios::trunc) << bytes;
      std::ofstream(meta, std::ios::binary | std::ios::trunc) << meta_text;
      corrupt();
      auto p = probe({"--model", "builtin://ode/vanderpol"});
      CHECK(p.finish() == 0);
      INFO(p.output);
      auto f = fields(p.output);
      CHECK(f["origin1"] == "built");
      CHECK(f["match"] == "1");
      CHECK(f["state1"] == good_state);
      CHECK(count(p.output, "warning") == 1);
      CHECK(count(p.output, "corrupt") >= 1);
      // Rebuilt and stored again: the next process loads it.
      auto q = probe({"--model", "builtin://ode/vanderpol"});
      CHECK(q.finish() == 0);
      CHECK(fields(q.output)["origin1"] == "disk");
      CHECK(fields(q.output)["state1"] == good_state);
      CHECK(count(q.output, "warning") == 0);
      REQUIRE(dynlib::cache::read_whole_file(entry, bytes, dynlib::cache::kMaxEntryFileBytes).empty());
    }
  }
}

TEST_CASE("jit cache: disk_cache=false writes nothing anywhere", "[cache][jit]") {
  TempConfig cfg;
  const auto before_root = listing(cfg.root);
  const auto before_tmp = listing(dynlib::cache::default_fallback_root());
  auto p = probe({"--no-disk", "--model", "builtin://map/logistic", "--stepper", "map"});
  CHECK(p.finish() == 0);
  INFO(p.output);
  CHECK(fields(p.output)["origin1"] == "built");
  CHECK(fields(p.output)["origin2"] == "memory");
  CHECK(fields(p.output)["match"] == "1");
  CHECK(!fs::exists(cfg.root));
  CHECK(listing(cfg.root) == before_root);
  CHECK(listing(dynlib::cache::default_fallback_root()) == before_tmp);
}

TEST_CASE("jit cache: Lyapunov MLE and spectrum on Henon never share a runner", "[cache][jit][analysis]") {
  TempConfig cfg;
  std::map<std::string, std::string> digest;
  for (const char* kind : {"mle", "spectrum", "mle", "spectrum"}) {
    auto p = probe({"--model", "builtin://map/henon", "--stepper", "map", "--analysis", kind});
    CHECK(p.finish() == 0);
    INFO(p.output);
    CHECK(fields(p.output)["match"] == "1");  // bit-identical to the interpreter's observer outputs
    CHECK(count(p.output, "warning") == 0);
    const auto at = p.output.find("record variant=ANALYSIS digest=");
    REQUIRE(at != std::string::npos);
    const std::string d = p.output.substr(at + 31, 32);
    if (digest.count(kind)) CHECK(digest[kind] == d);  // second run: same key
    digest[kind] = d;
    if (std::string(kind) == "mle")
      CHECK(fields(p.output).count("out.mle") == 1);
    else
      CHECK(fields(p.output).count("out.lyap1") == 1);
  }
  CHECK(digest["mle"] != digest["spectrum"]);
  CHECK(entries(cfg.root).size() == 3);  // BASE + two ANALYSIS runners
}

TEST_CASE("jit cache: the SIMD lane runner is its own entry (LANES4), loaded from disk by the next process",
          "[cache][jit][lanes]") {
  TempConfig cfg;
  std::string digest;
  for (const char* origin : {"built", "disk"}) {
    auto p = probe({"--lanes", "--T", "1"});
    CHECK(p.finish() == 0);
    INFO(p.output);
    CHECK(fields(p.output)["match"] == "1");
    CHECK(count(p.output, "warning") == 0);
    const std::string head = "record variant=LANES4 digest=";
    const auto at = p.output.find(head);
    REQUIRE(at != std::string::npos);
    const std::string d = p.output.substr(at + head.size(), 32);
    CHECK(p.output.find(head + d + " origin=" + origin) != std::string::npos);
    if (!digest.empty()) CHECK(digest == d);
    digest = d;
  }
  CHECK(entries(cfg.root).size() == 2);  // BASE + LANES4
}

TEST_CASE("jit cache: an entry that passes every check but cannot be loaded is deleted and rebuilt",
          "[cache][jit][corrupt]") {
  TempConfig cfg;
  auto first = probe({"--model", "builtin://ode/vanderpol"});
  REQUIRE(first.finish() == 0);
  auto es = entries(cfg.root);
  REQUIRE(es.size() == 1);
  const fs::path entry = es[0], meta = entry.parent_path() / dynlib::cache::kMetaFileName;
  std::string bytes, meta_text;
  REQUIRE(dynlib::cache::read_whole_file(entry, bytes, dynlib::cache::kMaxEntryFileBytes).empty());
  REQUIRE(dynlib::cache::read_whole_file(meta, meta_text, dynlib::cache::kMaxMetaFileBytes).empty());
  dynlib::cache::DecodedEntry d;
  REQUIRE(dynlib::cache::decode_entry(bytes, d).empty());
  // A well-formed entry (right key, checksum and metadata) whose payload is not loadable code.
  const std::string junk = "this is not object code";
  std::ofstream(entry, std::ios::binary | std::ios::trunc) << dynlib::cache::encode_entry(d.key_text, junk);
  const std::string size_field = "payload_size = " + std::to_string(d.payload.size());
  const auto at = meta_text.find(size_field);
  REQUIRE(at != std::string::npos);
  meta_text.replace(at, size_field.size(), "payload_size = " + std::to_string(junk.size()));
  std::ofstream(meta, std::ios::binary | std::ios::trunc) << meta_text;
  REQUIRE(dynlib::cache::check_entry_dir(entry.parent_path(), nullptr).state ==
          dynlib::cache::EntryState::Ok);

  auto p = probe({"--model", "builtin://ode/vanderpol"});
  CHECK(p.finish() == 0);
  INFO(p.output);
  CHECK(fields(p.output)["origin1"] == "built");
  CHECK(fields(p.output)["match"] == "1");
  CHECK(count(p.output, "warning") == 1);
  CHECK(count(p.output, "cannot be loaded") == 1);
  CHECK(count(p.output, "deleting it and rebuilding") == 1);
  // Deleted and stored again: the next process loads it, silently.
  auto q = probe({"--model", "builtin://ode/vanderpol"});
  CHECK(q.finish() == 0);
  INFO(q.output);
  CHECK(fields(q.output)["origin1"] == "disk");
  CHECK(count(q.output, "warning") == 0);
}

TEST_CASE("jit cache: a stopped (SIGSTOP) lock holder does not hold up another process's exit",
          "[cache][jit][process]") {
  TempConfig cfg;
  ::setenv("DYNLIB_JIT_CACHE_TEST_HOLD_MS", "60000", 1);
  auto holder = probe({});
  ::unsetenv("DYNLIB_JIT_CACHE_TEST_HOLD_MS");
  REQUIRE(holder.read_until("building\n"));  // holds the entry lock
  ::kill(holder.pid, SIGSTOP);
  // Tiered: runs on the baseline code; the optimising compile in the background waits for the lock,
  // which the process no longer needs when it exits.
  auto next = probe({"--no-wait"});
  const int rc = next.finish_within(std::chrono::seconds(60));
  ::kill(holder.pid, SIGKILL);
  ::kill(holder.pid, SIGCONT);
  holder.finish();
  INFO(next.output);
  CHECK(rc == 0);
  CHECK(count(next.output, "ran\nok\n") == 1);
}
