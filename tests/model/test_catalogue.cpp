// The model catalogue: every malformed model in tests/models/bad/ throws the documented error class at
// the documented location; every valid model (tests/models/good/, docs/examples/models/, builtins) loads.
// Format of the bad files: tests/models/bad/README.md.
#include <algorithm>
#include <catch2/catch.hpp>
#include <dynlib/errors.hpp>
#include <dynlib/model.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const fs::path kSource{DYNLIB_SOURCE_DIR};

struct BadCase {
  fs::path path;
  std::string expect;
  std::string where;
  std::optional<int> line;
  std::optional<std::string> mod;  // "# mod: NAME" -> load "<path>#mod=NAME"
};

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// Reads the leading comment block ("# key: value" lines) of a catalogue file.
BadCase read_case(const fs::path& p) {
  BadCase c{p, {}, {}, std::nullopt, std::nullopt};
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("#", 0) != 0) break;
    const std::string body = trim(line.substr(1));
    const auto colon = body.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = trim(body.substr(0, colon));
    const std::string value = trim(body.substr(colon + 1));
    if (key == "expect")
      c.expect = value;
    else if (key == "where")
      c.where = value;
    else if (key == "line")
      c.line = std::stoi(value);
    else if (key == "mod")
      c.mod = value;
  }
  return c;
}

std::vector<fs::path> toml_files(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file() && entry.path().extension() == ".toml") out.push_back(entry.path());
  std::sort(out.begin(), out.end());
  return out;
}

void check_bad_case(const BadCase& c) {
  INFO("file: " << c.path.string());
  REQUIRE_FALSE(c.expect.empty());
  REQUIRE_FALSE(c.where.empty());
  const std::string uri = c.mod ? c.path.string() + "#mod=" + *c.mod : c.path.string();
  try {
    (void)dynlib::load_model(uri);
    FAIL("loaded without error; expected " << c.expect);
  } catch (const dynlib::ModelLoadError& e) {
    const auto& w = e.where();
    INFO("kind: " << e.kind() << "\nmessage: " << e.message() << "\ntoml_path: " << w.toml_path
                  << "\nfile: " << w.file << "\nline: " << w.line << "\nline_text: " << w.line_text
                  << "\nwhat(): " << e.what());
    CHECK(std::string(e.kind()) == c.expect);
    const bool where_found = w.toml_path.find(c.where) != std::string::npos ||
                             e.message().find(c.where) != std::string::npos ||
                             w.line_text.find(c.where) != std::string::npos;
    CHECK(where_found);
    if (c.line) CHECK(w.line == *c.line);
    const std::string fname = c.path.filename().string();
    CHECK(w.file.size() >= fname.size());
    CHECK(w.file.find(fname) != std::string::npos);
  } catch (const std::exception& e) {
    FAIL("threw a non-ModelLoadError: " << e.what() << " (expected " << c.expect << ")");
  }
}

void check_loads(const std::string& uri) {
  INFO("uri: " << uri);
  try {
    auto model = dynlib::load_model(uri);
    CHECK(model != nullptr);
  } catch (const dynlib::ModelLoadError& e) {
    FAIL(e.kind() << ": " << e.what());
  } catch (const std::exception& e) {
    FAIL(e.what());
  }
}

}  // namespace

TEST_CASE("catalogue: the malformed-model files are well formed", "[catalogue]") {
  const auto files = toml_files(kSource / "tests/models/bad");
  REQUIRE(files.size() >= 70);
  const std::vector<std::string> classes = {"TomlSyntaxError",
                                            "SchemaError",
                                            "ExpressionSyntaxError",
                                            "UnknownIdentifierError",
                                            "NameConflictError",
                                            "CyclicDependencyError",
                                            "LagError",
                                            "ArityError",
                                            "EventError",
                                            "ModError"};
  for (const auto& f : files) {
    INFO(f.string());
    std::ifstream in(f);
    std::string l1, l2;
    std::getline(in, l1);
    std::getline(in, l2);
    CHECK(l1.rfind("# expect: ", 0) == 0);
    CHECK(l2.rfind("# where: ", 0) == 0);
    const auto c = read_case(f);
    CHECK(std::find(classes.begin(), classes.end(), c.expect) != classes.end());
  }
}

TEST_CASE("catalogue: every malformed model throws the documented error", "[catalogue]") {
  const auto files = toml_files(kSource / "tests/models/bad");
  REQUIRE(files.size() >= 70);
  for (const auto& f : files) {
    DYNAMIC_SECTION(f.filename().string()) { check_bad_case(read_case(f)); }
  }
}

TEST_CASE("catalogue: malformed mods throw the documented error", "[catalogue][mods]") {
  const auto files = toml_files(kSource / "tests/models/bad/mods");
  REQUIRE_FALSE(files.empty());
  for (const auto& f : files) {
    DYNAMIC_SECTION(f.filename().string()) {
      const auto c = read_case(f);
      REQUIRE(c.mod.has_value());
      check_bad_case(c);
    }
  }
}

TEST_CASE("catalogue: every valid test model loads", "[catalogue]") {
  const auto files = toml_files(kSource / "tests/models/good");
  REQUIRE(files.size() >= 5);
  for (const auto& f : files) {
    DYNAMIC_SECTION(f.filename().string()) { check_loads(f.string()); }
  }
}

TEST_CASE("catalogue: every builtin model loads", "[catalogue][builtin]") {
  const auto names = dynlib::builtin_model_names();
  CHECK(names.size() == 19);
  for (const char* expected :
       {"ode/duffing", "ode/eto-circular", "ode/exp-if", "ode/expdecay", "ode/fitzhugh-nagumo",
        "ode/hodgkin-huxley", "ode/izhikevich", "ode/leaky-if", "ode/lorenz", "ode/quadratic-if",
        "ode/resonate-if", "ode/vanderpol", "map/henon", "map/henon2", "map/ikeda", "map/logistic",
        "map/lozi", "map/sine", "map/standard"}) {
    INFO(expected);
    CHECK(std::find(names.begin(), names.end(), std::string(expected)) != names.end());
  }
  for (const auto& name : names) {
    DYNAMIC_SECTION(name) { check_loads("builtin://" + name); }
  }
}

TEST_CASE("catalogue: the builtin model files start with the dynlib shebang", "[catalogue][builtin]") {
  for (const char* kind : {"ode", "map"}) {
    for (const auto& f : toml_files(kSource / "models" / kind)) {
      INFO(f.string());
      std::ifstream in(f);
      std::string first;
      std::getline(in, first);
      CHECK(first == "#! dynlib");
    }
  }
}

TEST_CASE("catalogue: every example model of the documentation loads", "[catalogue][docs]") {
  const auto files = toml_files(kSource / "docs/examples/models");
  REQUIRE_FALSE(files.empty());
  for (const auto& f : files) {
    DYNAMIC_SECTION(f.filename().string()) { check_loads(f.string()); }
  }
}

TEST_CASE("catalogue: the documentation lists every example model", "[catalogue][docs]") {
  std::ifstream in(kSource / "docs/model-language.md");
  REQUIRE(in.good());
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const auto& f : toml_files(kSource / "docs/examples/models")) {
    INFO(f.filename().string());
    CHECK(doc.find("examples/models/" + f.filename().string()) != std::string::npos);
  }
}
