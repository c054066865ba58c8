// Config file and DYN_MODEL_PATH parsing.
#include "model/config.hpp"
#include "model/load_test_util.hpp"

using namespace dynlib;
using namespace dynlib::test;
using Catch::Matchers::Contains;

TEST_CASE("config: [paths] and cache_root", "[config]") {
  auto c = model::parse_config_text(
      "cache_root = \"/tmp/cache\"\n[paths]\nproj = \"/a\"\nmulti = [\"/b\", \"/c\"]\n", "cfg.toml");
  REQUIRE(c.roots("proj"));
  CHECK(*c.roots("proj") == std::vector<std::string>{"/a"});
  CHECK(*c.roots("multi") == std::vector<std::string>{"/b", "/c"});
  CHECK(c.tags[0].first == "proj");  // file order
  CHECK(c.cache_root == std::optional<std::string>("/tmp/cache"));
  CHECK(c.roots("nope") == nullptr);
  CHECK(model::parse_config_text("[cache]\nroot = \"/r\"\n", "c").cache_root ==
        std::optional<std::string>("/r"));
  CHECK(model::parse_config_text("cache_root = '/top'\n[cache]\nroot = '/r'\n", "c").cache_root ==
        std::optional<std::string>("/top"));
  // a cache_root line after [paths] is a tag (reference behaviour)
  auto q = model::parse_config_text("[paths]\ncache_root = '/x'\n", "c");
  CHECK_FALSE(q.cache_root);
  CHECK(q.roots("cache_root"));
}

TEST_CASE("config: errors", "[config]") {
  auto err = [](const std::string& text) {
    return std::string(catch_error<ConfigError>([&] { model::parse_config_text(text, "cfg.toml"); }).what());
  };
  CHECK(err("paths = 1\n") == "[paths] section must be a table in cfg.toml");
  CHECK(err("[paths]\na = 1\n") == "[paths].a must be a string or list of strings in cfg.toml");
  CHECK(err("[paths]\na = ['/x', 2]\n") == "[paths].a contains non-string entry in cfg.toml");
  CHECK(err("cache_root = 1\n") == "cache_root must be a string path in config");
  CHECK(err("[cache]\nroot = 1\n") == "[cache].root must be a string path");
  CHECK_THAT(err("[paths\n"), Contains("Failed to load config from cfg.toml: "));
}

TEST_CASE("config: DYN_MODEL_PATH", "[config]") {
  model::Config c = model::parse_config_text("[paths]\nproj = '/cfg'\n", "c");
  model::apply_model_path_env(c, "proj=/a,/b:other=/o");
  CHECK(*c.roots("proj") == std::vector<std::string>{"/a", "/b", "/cfg"});  // prepended
  CHECK(*c.roots("other") == std::vector<std::string>{"/o"});
  auto err = [](const std::string& v) {
    model::Config x;
    return std::string(catch_error<ConfigError>([&] { model::apply_model_path_env(x, v); }).what());
  };
  CHECK(err("noequals") == "Invalid DYN_MODEL_PATH entry (missing '='): noequals");
  CHECK(err("=/a") == "Empty tag in DYN_MODEL_PATH: =/a");
  CHECK(err("t=") == "No paths for tag 't' in DYN_MODEL_PATH");
}

TEST_CASE("config: load_config reads DYNLIB_CONFIG and the environment", "[config]") {
  TempDir d;
  const auto p = d.write("config.toml", "[paths]\nx = '/from-file'\n[cache]\nroot = '~/c'\n");
  EnvGuard g("DYNLIB_CONFIG", p.c_str());
  EnvGuard e("DYN_MODEL_PATH", "x=/from-env");
  auto c = model::load_config();
  CHECK(c.file == p.string());
  CHECK(*c.roots("x") == std::vector<std::string>{"/from-env", "/from-file"});
  CHECK(c.cache_root == std::optional<std::string>("~/c"));
  {
    EnvGuard missing("DYNLIB_CONFIG", (d.path / "none.toml").c_str());
    auto m = model::load_config();
    CHECK(m.roots("x"));  // only the env entry
    CHECK_FALSE(m.cache_root);
  }
  {
    EnvGuard no_cfg("DYNLIB_CONFIG", nullptr);
    EnvGuard xdg("XDG_CONFIG_HOME", d.path.c_str());
    CHECK(model::config_file_path() == (d.path / "dynlib" / "config.toml").string());
  }
}

TEST_CASE("config: path expansion", "[config]") {
  EnvGuard h("HOME", "/home/u");
  EnvGuard v("H2_VAR", "val");
  EnvGuard u("H2_UNSET", nullptr);
  CHECK(model::expand_user_vars("~/m") == "/home/u/m");
  CHECK(model::expand_user_vars("~") == "/home/u");
  CHECK(model::expand_user_vars("a/~/b") == "a/~/b");
  CHECK(model::expand_user_vars("$H2_VAR/x") == "val/x");
  CHECK(model::expand_user_vars("${H2_VAR}x") == "valx");
  CHECK(model::expand_user_vars("$H2_UNSET/x") == "$H2_UNSET/x");
  CHECK(model::expand_user_vars("cost$") == "cost$");
}

TEST_CASE("config: [cache] cache_root is accepted and wins over [cache] root", "[config]") {
  auto c = model::parse_config_text("[cache]\nroot = '/r'\ncache_root = '/cr'\n", "c");
  CHECK(c.cache_root == std::optional<std::string>("/cr"));
  CHECK_THROWS_AS(model::parse_config_text("[cache]\ncache_root = 3\n", "c"), ConfigError);
}
