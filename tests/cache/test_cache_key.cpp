// CacheKey: canonical text, digest stability, one test per field, path layout and tokens.
#include <catch2/catch.hpp>
#include <dynlib/errors.hpp>
#include <functional>
#include <set>

#include "cache/cache_key.hpp"
#include "cache/cache_test_util.hpp"

using namespace dynlib::cache;

namespace {

CacheKey base_key() {
  CacheKey k;
  k.family = Family::Runners;
  k.model_hash = "9f1c0e8b7a6d5c4b3a29180716f5e4d3";
  k.stepper = "rk4";
  k.stepper_settings = "";
  k.dtype = "float64";
  k.layout_sig = "ws:rk4:k1,k2,k3,k4|guards:2";
  k.runner_variant = "BASE";
  k.analysis_sig = "";
  k.cache_token = "";
  k.jit = true;
  k.template_version = "emit-1";
  k.dynlib_version = "0.1.0";
  k.llvm_version = "19.1.4";
  k.target_triple = "x86_64-pc-linux-gnu";
  k.host_cpu = "znver3";
  k.host_features = {"+avx2", "+sse4.2", "-xop", "+fma"};
  return k;
}

}  // namespace

TEST_CASE("cache key: same inputs give the same digest (32 lowercase hex)", "[cache][key]") {
  const CacheKey a = base_key(), b = base_key();
  CHECK(a.canonical_text() == b.canonical_text());
  CHECK(a.digest() == b.digest());
  const std::string d = a.digest();
  REQUIRE(d.size() == 32);
  for (char c : d) CHECK(((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')));
  // Canonical text is ordered key=value lines.
  const std::string t = a.canonical_text();
  CHECK(t.rfind("dynlib-cache-key/1\nfamily=runners\nmodel_hash=", 0) == 0);
  CHECK(t.find("\nhost_features=+avx2,+fma,+sse4.2,-xop\n") != std::string::npos);
}

TEST_CASE("cache key: the digest is the same in another process", "[cache][key]") {
  CacheKey k;  // the probe's default key
  k.model_hash = "0123456789abcdef0123456789abcdef";
  k.stepper = "rk4";
  k.target_triple = "x86_64-pc-linux-gnu";
  k.template_version = "probe-1";
  for (int i = 0; i < 2; ++i) {
    auto c = cache_test::spawn({CACHE_PROBE_PATH, "--print-digest"});
    REQUIRE(c.finish() == 0);
    CHECK(c.output == k.digest() + "\n");
  }
}

TEST_CASE("cache key: host feature order and duplicates do not matter", "[cache][key]") {
  CacheKey a = base_key(), b = base_key();
  b.host_features = {"-xop", "+fma", "+sse4.2", "+avx2", "+fma"};
  CHECK(a.digest() == b.digest());
  CacheKey c = base_key();
  c.set_host_features(" -xop,+fma ,+sse4.2,+avx2,");
  CHECK(a.digest() == c.digest());
  // dtype aliases are canonicalised
  CacheKey d = base_key();
  d.dtype = "f64";
  CHECK(a.digest() == d.digest());
}

TEST_CASE("cache key: every field changes the digest", "[cache][key]") {
  using Mut = std::function<void(CacheKey&)>;
  const std::vector<std::pair<const char*, Mut>> fields = {
      {"family", [](CacheKey& k) { k.family = Family::Steppers; }},
      {"model_hash", [](CacheKey& k) { k.model_hash[0] = 'a'; }},
      {"stepper", [](CacheKey& k) { k.stepper = "rk45"; }},
      {"stepper_settings", [](CacheKey& k) { k.stepper_settings = "atol=1e-8"; }},
      {"dtype", [](CacheKey& k) { k.dtype = "float32"; }},
      {"layout_sig", [](CacheKey& k) { k.layout_sig += "|x"; }},
      {"runner_variant", [](CacheKey& k) { k.runner_variant = "ANALYSIS"; }},
      {"analysis_sig", [](CacheKey& k) { k.analysis_sig = "lyapunov_mle:3"; }},
      {"cache_token", [](CacheKey& k) { k.cache_token = "v2"; }},
      {"jit", [](CacheKey& k) { k.jit = false; }},
      {"template_version", [](CacheKey& k) { k.template_version = "emit-2"; }},
      {"dynlib_version", [](CacheKey& k) { k.dynlib_version = "0.2.0"; }},
      {"llvm_version", [](CacheKey& k) { k.llvm_version = "22.0.0"; }},
      {"target_triple", [](CacheKey& k) { k.target_triple = "aarch64-unknown-linux-gnu"; }},
      {"host_cpu", [](CacheKey& k) { k.host_cpu = "skylake"; }},
      {"host_features (added)", [](CacheKey& k) { k.host_features.push_back("+avx512f"); }},
      {"host_features (sign)", [](CacheKey& k) { k.host_features[3] = "-fma"; }},
      {"extra", [](CacheKey& k) { k.extra.emplace(std::string("opt_level"), std::string("3")); }},
  };
  const std::string base = base_key().digest();
  std::set<std::string> seen{base};
  for (const auto& [name, mutate] : fields) {
    SECTION(name) {
      CacheKey k = base_key();
      mutate(k);
      CHECK(k.digest() != base);
    }
    CacheKey k = base_key();
    mutate(k);
    seen.insert(k.digest());
  }
  CHECK(seen.size() == fields.size() + 1);  // all distinct from each other too
}

TEST_CASE("cache key: field values cannot forge other fields", "[cache][key]") {
  CacheKey a = base_key(), b = base_key();
  a.stepper = "rk4\nmodel_hash=x";
  b.stepper = "rk4";
  b.model_hash = "x";
  CHECK(a.digest() != b.digest());
  CacheKey c = base_key(), d = base_key();
  c.host_features = {"+a,+b"};
  d.host_features = {"+a", "+b"};
  CHECK(c.digest() != d.digest());
  CacheKey e = base_key(), f = base_key();
  e.stepper_settings = "a\\nb";
  f.stepper_settings = "a\nb";
  CHECK(e.digest() != f.digest());
  CacheKey bad = base_key();
  bad.extra["no spaces"] = "1";
  CHECK_THROWS_AS(bad.digest(), dynlib::CacheError);
}

TEST_CASE("cache key: entry directory layout and tokens", "[cache][key]") {
  const CacheKey k = base_key();
  const std::string d = k.digest();
  CHECK(entry_dir("/r", k) ==
        std::filesystem::path("/r/jit/runners/rk4/f64/x86_64-pc-linux-gnu") / d.substr(0, 2) / d);
  CacheKey t = base_key();
  t.family = Family::Triplets;
  t.stepper = "RK 4/x";
  t.dtype = "float32";
  CHECK(entry_dir("/r", t).string().rfind("/r/jit/triplets/rk-4-x/f32/", 0) == 0);
  CHECK(sanitize_token("--") == "default");
  CHECK(sanitize_token("Linux-X86_64") == "linux-x86_64");
  CHECK(canonical_dtype("f64") == "float64");
  CHECK(dtype_token("float64") == "f64");
  CHECK(dtype_token("complex 128") == "complex-128");
  Family f{};
  CHECK(parse_family("steppers", f));
  CHECK(f == Family::Steppers);
  CHECK_FALSE(parse_family("nope", f));
}
