// load_model / load_model_spec: inline, files, builtin://, TAG://, DYN_MODEL_PATH, DYNLIB_CONFIG, traversal,
// ambiguity, not-found listings, shebang, #mod=NAME.
#include <sys/stat.h>

#include <atomic>
#include <dynlib/model.hpp>
#include <thread>

#include "model/builtin_models.hpp"
#include "model/load_test_util.hpp"

using namespace dynlib;
using namespace dynlib::test;
using Catch::Matchers::Contains;

namespace {
const std::string kDecay =
    "#! dynlib\n[model]\ntype = \"ode\"\nname = \"decay\"\n[states]\nx = 1.0\n[params]\na = 2.0\n"
    "[equations.rhs]\nx = \"-a*x\"\n"
    "[mods.fast]\nset.params.a = 10.0\n"
    "[mods.slow.set.params]\na = 0.5\n";
const std::string kMap = "[model]\ntype = \"map\"\n[states]\ny = 0.5\n[equations.rhs]\ny = \"y/2\"\n";
}  // namespace

TEST_CASE("load: builtin models by name, with and without .toml", "[load][builtin]") {
  auto names = builtin_model_names();
  CHECK(names.size() >= 19);
  CHECK(std::find(names.begin(), names.end(), "ode/vanderpol") != names.end());
  auto m = load_model("builtin://ode/vanderpol");
  CHECK(m->kind == ir::Kind::ode);
  CHECK(m->n_states() == 2);
  CHECK(m->source == "builtin://ode/vanderpol");
  auto m2 = load_model("builtin://ode/vanderpol.toml");
  CHECK(m2->hash == m->hash);
  CHECK(load_model("builtin://map/logistic")->kind == ir::Kind::map);
  auto nf = catch_error<ModelNotFoundError>([] { (void)load_model("builtin://ode/nope"); });
  CHECK(nf.uri == "builtin://ode/nope");
  REQUIRE_FALSE(nf.candidates.empty());
  CHECK_THAT(nf.candidates.front(), Contains("builtin://ode/nope"));
  CHECK_THROWS_AS(load_model("builtin://../../etc/passwd"), PathTraversalError);
}

TEST_CASE("load: inline text", "[load][inline]") {
  auto m = load_model("inline:\n  [model]\n  type='ode'\n  [states]\n  x=1.0\n  [equations.rhs]\n  x='-x'\n");
  CHECK(m->n_states() == 1);
  CHECK(m->source == "inline model");
  // '#' is never a fragment for inline text, and no shebang check applies.
  CHECK_NOTHROW(load_model("  inline: #!snnlib:1.0\n" + kMap + "# mod=fast"));
  auto e = catch_error<SchemaError>([] { (void)load_model("inline: [model]\ntype='x'\n[states]\n"); });
  CHECK(e.where().file == "inline model");
  CHECK(e.where().line == 2);
}

TEST_CASE("load: file paths, extension search, ~ and $VAR", "[load][file]") {
  TempDir d;
  const auto p = d.write("models/decay.toml", kDecay);
  auto m = load_model(p.string());
  CHECK(m->name == "decay");
  CHECK(m->source == p.string());
  CHECK(load_model((d.path / "models/decay").string())->hash == m->hash);  // ".toml" added
  {
    EnvGuard g("H2_TEST_DIR", d.path.c_str());
    CHECK(load_model("$H2_TEST_DIR/models/decay")->hash == m->hash);
    CHECK(load_model("${H2_TEST_DIR}/models/decay.toml")->hash == m->hash);
  }
  {
    EnvGuard g("HOME", d.path.c_str());
    CHECK(load_model("~/models/decay")->hash == m->hash);
  }
  {
    const auto cwd = fs::current_path();
    fs::current_path(d.path);
    CHECK(load_model("models/decay")->hash == m->hash);
    fs::current_path(cwd);
  }
  auto nf = catch_error<ModelNotFoundError>([&] { (void)load_model((d.path / "missing").string()); });
  REQUIRE(nf.candidates.size() == 2);
  CHECK(nf.candidates[0] == (d.path / "missing").string());
  CHECK(nf.candidates[1] == (d.path / "missing.toml").string());
  CHECK_THAT(std::string(nf.what()), Contains("Searched locations:\n  - "));
}

TEST_CASE("load: ambiguous file reference", "[load][file]") {
  TempDir d;
  d.write("m", kMap);
  d.write("m.toml", kMap);
  auto e = catch_error<AmbiguousModelError>([&] { (void)load_model((d.path / "m").string()); });
  CHECK(e.matches.size() == 2);
  CHECK_NOTHROW(load_model((d.path / "m.toml").string()));
}

TEST_CASE("load: shebang check on files", "[load][shebang]") {
  TempDir d;
  CHECK_NOTHROW(load_model(d.write("a.toml", "#!dynlib:0.13\n" + kMap).string()));
  CHECK_NOTHROW(load_model(d.write("b.toml", "#!/usr/bin/env python\n" + kMap).string()));
  CHECK_NOTHROW(
      load_model(d.write("b2.toml", "#! snnlib extra words\n" + kMap).string()));  // no match: ignored
  CHECK_NOTHROW(load_model(d.write("b3.toml", "#!snnlib:\n" + kMap).string()));    // no match: ignored
  CHECK_NOTHROW(load_model(d.write("b4.toml", "#!  dynlib : 0.40.3  \n" + kMap).string()));
  CHECK_THROWS_AS(load_model(d.write("b5.toml", "#!  snn.lib : 1.0+x \r\n" + kMap).string()), ModelLoadError);
  const auto bad = d.write("c.toml", "#!snnlib:1.0\n" + kMap);
  auto e = catch_error<ModelLoadError>([&] { (void)load_model(bad.string()); });
  CHECK(e.message() == "Failed to load model from " + bad.string() +
                           ": This is not a dynlib model: " + bad.string() + " declares '#!snnlib'");
  CHECK(e.where().line == 1);
}

TEST_CASE("load: #mod=NAME applies an embedded mod", "[load][mods]") {
  TempDir d;
  const auto p = d.write("decay.toml", kDecay);
  auto base = load_model(p.string());
  auto fast = load_model(p.string() + "#mod=fast");
  auto slow = load_model(p.string() + " # mod=slow");
  CHECK(base->param_vals[0] == 2.0);
  CHECK(fast->param_vals[0] == 10.0);
  CHECK(slow->param_vals[0] == 0.5);
  CHECK(fast->hash != base->hash);
  CHECK(load_model(p.string() + "#other")->hash == base->hash);  // other fragments are ignored
  auto e = catch_error<ModError>([&] { (void)load_model(p.string() + "#mod=medium"); });
  CHECK(e.message() == "Mod 'medium' not found in " + p.string() + ". Available mods: ['fast', 'slow']");
}

TEST_CASE("load: options.mods from files and inline", "[load][mods]") {
  TempDir d;
  const auto p = d.write("decay.toml", kDecay);
  const auto single = d.write("single.toml", "[mod]\nname = 'x0'\n[mod.set.states]\nx = 3.0\n");
  const auto multi = d.write("multi.toml", "[mods.a]\nset.states.x = 4.0\n[mods.b]\nset.states.x = 5.0\n");
  const auto none = d.write("none.toml", "[other]\n");
  LoadOptions o;
  o.mods = {single.string(), "inline: [mod]\nset.params.a = 7.0\n"};
  auto m = load_model(p.string(), o);
  CHECK(m->state_ic[0] == 3.0);
  CHECK(m->param_vals[0] == 7.0);
  o.mods = {multi.string() + "#mod=b"};
  CHECK(load_model(p.string(), o)->state_ic[0] == 5.0);
  o.mods = {multi.string()};
  auto e = catch_error<ModError>([&] { (void)load_model(p.string(), o); });
  CHECK(e.message() == "Mod file " + multi.string() +
                           " contains multiple mods: ['a', 'b']. Please specify which one using #mod=NAME");
  o.mods = {none.string()};
  auto e2 = catch_error<ModError>([&] { (void)load_model(p.string(), o); });
  CHECK(e2.message() == "No [mod] or [mods.*] table found in " + none.string());
  o.mods = {"inline: [mod\n"};
  auto e3 = catch_error<TomlSyntaxError>([&] { (void)load_model(p.string(), o); });
  CHECK_THAT(e3.message(), Contains("Failed to parse inline mod:"));
}

TEST_CASE("load: tag URIs from DYN_MODEL_PATH", "[load][tags]") {
  TempDir a, b;
  a.write("decay.toml", kDecay);
  b.write("decay.toml", kMap);
  b.write("other.toml", kMap);
  const std::string env = "proj=" + a.path.string() + "," + b.path.string() + ":alt=" + b.path.string();
  EnvGuard g("DYN_MODEL_PATH", env.c_str());
  EnvGuard c("DYNLIB_CONFIG", (a.path / "no-config.toml").c_str());
  CHECK(load_model("proj://decay")->kind == ir::Kind::ode);  // first root wins
  CHECK(load_model("proj://decay.toml#mod=fast")->param_vals[0] == 10.0);
  CHECK(load_model("proj://other")->kind == ir::Kind::map);  // second root
  CHECK(load_model("alt://decay")->kind == ir::Kind::map);
  auto nf = catch_error<ModelNotFoundError>([] { (void)load_model("proj://zzz"); });
  CHECK(nf.candidates.size() == 4);  // 2 roots x (exact, .toml)
  auto tr = catch_error<PathTraversalError>([] { (void)load_model("proj://../../etc/passwd"); });
  CHECK(tr.root == fs::weakly_canonical(a.path).string());
  auto unk = catch_error<ConfigError>([] { (void)load_model("nope://m.toml"); });
  CHECK(std::string(unk.what()) ==
        "Unknown tag 'nope' in URI: nope://m.toml\nKnown tags: alt, builtin, proj");
}

TEST_CASE("load: builtin tag can be overridden by user roots", "[load][tags][builtin]") {
  TempDir a;
  a.write("ode/vanderpol.toml", kMap);
  const std::string env = "builtin=" + a.path.string();
  EnvGuard g("DYN_MODEL_PATH", env.c_str());
  CHECK(load_model("builtin://ode/vanderpol")->kind == ir::Kind::map);
  CHECK(load_model("builtin://ode/lorenz")->kind == ir::Kind::ode);  // falls back to the embedded text
}

TEST_CASE("load: tags from the DYNLIB_CONFIG file", "[load][tags][config]") {
  TempDir a;
  a.write("lib/decay.toml", kDecay);
  const auto cfg = a.write("config.toml", "[paths]\nmylib = \"" + (a.path / "lib").string() + "\"\n");
  EnvGuard g("DYNLIB_CONFIG", cfg.c_str());
  EnvGuard e("DYN_MODEL_PATH", nullptr);
  CHECK(load_model("mylib://decay")->name == "decay");
  auto unk = catch_error<ConfigError>([] { (void)load_model("other://decay"); });
  CHECK_THAT(std::string(unk.what()), Contains("Known tags: builtin, mylib"));
}

TEST_CASE("load: a file symlink inside a tag root cannot escape it", "[load][tags][trust]") {
  TempDir root, outside;
  root.write("decay.toml", kDecay);
  const auto secret = outside.write("secret.toml", "secret-first-line = 1\n");
  fs::create_symlink(secret, root.path / "sh.toml");  // found as proj://sh through the .toml candidate
  fs::create_symlink(secret, root.path / "sh2");
  fs::create_directory_symlink(outside.path, root.path / "out");
  const std::string env = "proj=" + root.path.string();
  EnvGuard g("DYN_MODEL_PATH", env.c_str());
  EnvGuard c("DYNLIB_CONFIG", (root.path / "no-config.toml").c_str());
  for (const char* uri : {"proj://sh", "proj://sh.toml", "proj://sh2", "proj://out/secret"}) {
    INFO(uri);
    auto tr = catch_error<PathTraversalError>([&] { (void)load_model(uri); });
    CHECK(tr.attempted.rfind(fs::canonical(outside.path).string(), 0) == 0);
    CHECK_THAT(std::string(tr.what()), !Contains("secret-first-line"));
  }
  CHECK(load_model("proj://decay")->name == "decay");
  // A link that stays inside the root is fine.
  fs::create_symlink(root.path / "decay.toml", root.path / "alias.toml");
  CHECK(load_model("proj://alias")->name == "decay");
}

TEST_CASE("load: binary and oversized files are refused without quoting them", "[load][file][trust]") {
  TempDir d;
  const auto bin = d.write("bin.toml", std::string("\x7f"
                                                   "ELF\x02\x01\x01\0secret = 1\n",
                                                   16));
  auto e = catch_error<ModelLoadError>([&] { (void)load_model(bin.string()); });
  CHECK_THAT(std::string(e.what()),
             Contains("Failed to load model from " + bin.string() +
                      ": not a text file (a control byte or invalid UTF-8 at byte offset 0)"));
  CHECK_THAT(std::string(e.what()), !Contains("secret"));
  const auto latin1 = d.write("latin1.toml", "[model]\ntype = \"ode\"\nname = \"caf\xe9\"\n");
  auto l = catch_error<ModelLoadError>([&] { (void)load_model(latin1.string()); });
  CHECK_THAT(std::string(l.what()),
             Contains("not a text file (a control byte or invalid UTF-8 at byte offset 32)"));
  CHECK_THAT(std::string(l.what()), !Contains("caf"));
  // UTF-8 text is fine.
  d.write("utf8.toml", "# caf\xc3\xa9 \xe2\x9c\x93\n" + kMap);
  CHECK(load_model((d.path / "utf8.toml").string())->kind == ir::Kind::map);
  const auto big = d.write("big.toml", "");
  fs::resize_file(big, (std::uintmax_t{64} << 20) + 1);  // sparse
  auto b = catch_error<ModelLoadError>([&] { (void)load_model(big.string()); });
  CHECK_THAT(std::string(b.what()), Contains("larger than the limit of 64 MiB"));
}

TEST_CASE("load: the configuration file must be a regular file of bounded size", "[load][config][trust]") {
  TempDir d;
  const auto fifo = d.path / "config.toml";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  EnvGuard g("DYNLIB_CONFIG", fifo.c_str());
  EnvGuard e("DYN_MODEL_PATH", nullptr);
  auto c = catch_error<ConfigError>([] { (void)load_model("mylib://decay"); });
  CHECK(std::string(c.what()) ==
        "Failed to load config from " + fifo.string() + ": is a FIFO (named pipe), not a regular file");
}

TEST_CASE("load: load_model reports semantic errors from lowering with locations", "[load]") {
  auto e = catch_error<ModelLoadError>([] {
    (void)load_model("inline: [model]\ntype='ode'\n[states]\nx=1.0\n[equations.rhs]\nx = \"-k*x\"\n");
  });
  CHECK(e.where().line == 6);
  CHECK(e.where().toml_path == "[equations.rhs].x");
}

TEST_CASE("load: the embedded builtin text is the models/ directory", "[load][builtin]") {
  std::size_t n = 0;
  for (const auto& entry : fs::recursive_directory_iterator(fs::path(DYNLIB_SOURCE_DIR) / "models")) {
    if (entry.path().extension() != ".toml") continue;
    ++n;
    const std::string name = fs::relative(entry.path(), fs::path(DYNLIB_SOURCE_DIR) / "models")
                                 .replace_extension()
                                 .generic_string();
    INFO(name);
    const model::BuiltinModelFile* f = model::find_builtin_model(name);
    REQUIRE(f != nullptr);
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string disk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(disk == f->text);
    CHECK(model::find_builtin_model(name + ".toml") == f);
  }
  CHECK(n == builtin_model_names().size());
  CHECK(model::find_builtin_model("ode/nope") == nullptr);
}

TEST_CASE("load: concurrent loads from several threads", "[load][threads]") {
  const auto names = builtin_model_names();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, failed{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (std::size_t i = 0; i < names.size(); ++i) {
        try {
          auto m = load_model("builtin://" + names[(i + static_cast<std::size_t>(t)) % names.size()]);
          if (m && m->n_states() > 0) ++ok;
        } catch (...) {
          ++failed;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failed == 0);
  CHECK(ok == static_cast<int>(4 * names.size()));
}
