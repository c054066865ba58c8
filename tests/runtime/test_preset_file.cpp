// Preset files: Sim::save_preset / Sim::load_preset round trips (bit-exact values), conflicts, and a
// file we do not trust (wrong schema, bad values, unknown names, not a regular file) refused with the
// file, line and key in the message.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <dynlib/dynlib.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

using namespace dynlib;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("dynlib-preset-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name, std::ios::binary) << text;
    return path / name;
  }
};

std::string read(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const ArgumentError& e) {
    return e.what();
  }
  FAIL("expected ArgumentError");
  return {};
}

const char* kHeader = "[__presets__]\nschema = \"dynlib-presets-v1\"\n";

}  // namespace

TEST_CASE("preset files: save then load gives the same values bit for bit", "[sim][presets]") {
  TempDir d;
  const auto file = d.path / "izh.toml";
  auto a = setup("builtin://ode/izhikevich");
  a.add_preset("mine", {{"v", -70.1}}, {{"a", 0.1 / 3.0}, {"I", 1e-300}});
  a.save_preset("mine", file);
  a.save_preset("bursting", file);  // an inline preset of the model, into the same file
  const auto text = read(file);
  CHECK_THAT(text, Contains("schema = 'dynlib-presets-v1'"));
  CHECK_THAT(text, Contains("[presets.mine.params]"));

  auto b = setup("builtin://ode/izhikevich");
  CHECK(b.load_preset("mi*", file) == 1);
  b.apply_preset("mine");
  CHECK(b.param("a") == 0.1 / 3.0);
  CHECK(b.param("I") == 1e-300);
  CHECK(b.state("v") == -70.1);
  CHECK(b.param("d") == 8.0);  // not in the preset: untouched

  // A name that is already there: error (nothing loaded), keep, or replace.
  CHECK_THAT(error_of([&] { (void)b.load_preset("*", file); }),
             Contains("Preset 'bursting' from '" + file.string() + "' already exists"));
  CHECK(b.load_preset("*", file, PresetConflict::keep) == 0);
  CHECK(b.load_preset("*", file, PresetConflict::replace) == 2);
  CHECK_THAT(error_of([&] { (void)b.load_preset("nothing*", file); }),
             Contains("No preset matching 'nothing*' in '" + file.string() +
                      "'. Presets there: ['bursting', 'mine']"));

  // Saving again needs overwrite; the file keeps its other presets.
  CHECK_THAT(error_of([&] { a.save_preset("mine", file); }), Contains("already in '" + file.string() + "'"));
  a.add_preset("mine", {}, {{"a", 0.5}}, true);
  a.save_preset("mine", file, true);
  auto c = setup("builtin://ode/izhikevich");
  CHECK(c.load_preset("*", file, PresetConflict::replace) == 2);
  c.apply_preset("mine");
  CHECK(c.param("a") == 0.5);
  CHECK_THAT(error_of([&] { a.save_preset("nope", file); }), Contains("Unknown preset 'nope'"));
}

TEST_CASE("preset files: untrusted content is refused with its location", "[sim][presets]") {
  TempDir d;
  auto sim = setup("builtin://ode/izhikevich");
  const auto load = [&](const std::string& text) {
    const auto f = d.write("p.toml", text);
    return error_of([&] { (void)sim.load_preset("*", f); });
  };
  CHECK_THAT(load("[presets.x.params]\na = 1\n"),
             Contains("is not a dynlib presets file: it needs [__presets__]"));
  CHECK_THAT(load("[__presets__]\nschema = \"v2\"\n"), Contains("(it has schema = \"v2\")"));
  CHECK_THAT(load(std::string(kHeader) + "[presets.x.params]\na = \"1\"\n"),
             Contains("p.toml':4: [presets.x].params.a must be a number"));
  CHECK_THAT(load(std::string(kHeader) + "[presets.x.params]\nq = 1\n"),
             Contains("[presets.x].params.q: unknown param 'q'"));
  CHECK_THAT(load(std::string(kHeader) + "[presets.x.states]\nvv = 1.5\n"),
             Contains("unknown state 'vv' (did you mean 'v'?)"));
  CHECK_THAT(load(std::string(kHeader) + "[presets.x]\nnote = 1\n"),
             Contains("[presets.x] must set at least one param or state"));
  CHECK_THAT(load("presets = 3\n" + std::string(kHeader)), Contains("[presets] must be a table"));
  CHECK_THAT(load(std::string(kHeader) + "[presets.x.params\n"), Contains("invalid TOML"));
  CHECK_THAT(error_of([&] { (void)sim.load_preset("*", d.path / "missing.toml"); }),
             Contains("Cannot read preset file"));
  const auto fifo = d.path / "fifo.toml";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THAT(error_of([&] { (void)sim.load_preset("*", fifo); }), Contains("Cannot read preset file"));
  // Saving into a file that is not a presets file does not overwrite it.
  const auto other = d.write("model.toml", "[model]\ntype = \"ode\"\n");
  CHECK_THAT(error_of([&] { sim.save_preset("bursting", other); }), Contains("is not a dynlib presets file"));
  CHECK(read(other) == "[model]\ntype = \"ode\"\n");
  CHECK(sim.list_presets().size() == 6);  // nothing was loaded by the failures
}
