// Snapshot files from elsewhere: every field is checked before it reaches the session. A catalogue of
// edited snapshots (one broken field each), for the interpreter and the JIT; errors name the file, the
// line and the field; a refused load leaves the Sim unchanged. Non-regular files fail at once.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <dynlib/dynlib.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace dynlib;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

// A map with a lag: its snapshot has a lag ring and a lag head that indexes it.
const char* kLagMap = R"M(inline:
[model]
type = "map"
[states]
x = 0.2
[params]
r = 1.2
[equations.rhs]
x = "r*x*(1 - lag_x(1))"
)M";

fs::path tmp(const std::string& name) {
  return fs::temp_directory_path() / ("dynlib_snapfile_" + std::to_string(::getpid()) + "_" + name);
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_all(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

// `text` with the line starting with "<key> " replaced by `line` ("" deletes it).
std::string with_line(const std::string& text, const std::string& key, const std::string& line) {
  std::istringstream in(text);
  std::string out, l;
  bool found = false;
  while (std::getline(in, l)) {
    if (!found && (l.rfind(key + " ", 0) == 0 || l == key)) {
      found = true;
      if (!line.empty()) out += line + "\n";
      continue;
    }
    out += l + "\n";
  }
  REQUIRE(found);
  return out;
}

struct Case {
  const char* key;
  const char* line;     // the replacement ("" deletes the line)
  const char* message;  // expected in the error
};

// One broken field each. Line numbers: the file starts with the magic line, then name (2), ...
const std::vector<Case> kLagMapCases = {
    {"lag_head", "lag_head 1 -3", "line 25 ('lag_head'): value -3 is out of range [0, 1]"},
    {"lag_head", "lag_head 1 2", "('lag_head'): value 2 is out of range [0, 1]"},
    {"lag_head", "lag_head 1 99999999999999999999",
     "('lag_head'): value 99999999999999999999 is out of range"},
    {"lag_head", "lag_head 2 0 0", "('lag_head'): has 2 values, this model and stepper need 1"},
    {"lag_head", "lag_head 1", "('lag_head'): announces 1 values but lists 0"},
    {"lag_head", "lag_head 1 x", "('lag_head'): not an integer: 'x'"},
    {"lag_head", "", "('lag_head'): missing field"},
    {"lag_ring", "lag_ring 1 0x1p+0", "('lag_ring'): has 1 values, this model and stepper need 2"},
    {"lag_ring", "lag_ring 3 1 2 3", "('lag_ring'): has 3 values"},
    {"lag_ring", "lag_ring 2 1 zz", "('lag_ring'): not a number: 'zz'"},
    {"status", "status 999", "line 14 ('status'): unknown status code 999"},
    {"status", "status -1", "('status'): unknown status code -1"},
    {"status", "status 99999999999", "('status'): value 99999999999 is out of range"},
    {"has_workspace", "has_workspace 2", "('has_workspace'): value 2 is out of range [0, 1]"},
    {"step", "step -1", "('step'): value -1 is out of range"},
    {"step", "step 1e3", "('step'): not an integer: '1e3'"},
    {"step_base", "step_base 11", "('step_base'): is 11, after 'step' (10)"},
    {"t", "t nan", "('t'): must be a finite number, got 'nan'"},
    {"t", "t inf", "('t'): must be a finite number"},
    {"t", "t ", "('t'): not a number: ''"},
    {"dt", "dt 0", "('dt'): must be > 0"},
    {"dt", "dt -0x1p-4", "('dt'): must be > 0"},
    {"clock_dt", "clock_dt 0", "('clock_dt'): must be > 0"},
    {"nominal_dt", "nominal_dt -inf", "('nominal_dt'): must be a finite number"},
    {"t_base", "t_base nan", "('t_base'): must be a finite number"},
    {"time_shift", "time_shift 1e999", "('time_shift'): must be a finite number"},
    {"y", "y 1 1 2", "('y'): announces 1 values but lists 2"},
    {"y_prev", "y_prev 2 1 2", "('y_prev'): has 2 values, this model and stepper need 1"},
    {"aux", "aux 1 0", "('aux'): has 1 values, this model and stepper need 0"},
    {"ws", "ws 1000000 1", "('ws'): has 1000000 values, this model and stepper need 1"},
    {"iws", "iws 1 0", "('iws'): has 1 values, this model and stepper need 0"},
    {"event_counts", "event_counts 1 0", "('event_counts'): has 1 values, this model and stepper need 0"},
    {"stepper_config", "stepper_config 1 0", "('stepper_config'): has 1 values"},
    {"state_names", "state_names 1 y", "('state_names'): name 0 is 'y', the model has 'x'"},
    {"param_names", "param_names 1 mu", "('param_names'): name 0 is 'mu', the model has 'r'"},
    {"name", "name ", "('name'): is empty"},
    {"description", "description a\x01z", "('description'): contains a control character: 'a\\x01z'"},
    {"dynlib_version", "", "('dynlib_version'): missing field"},
    {"end", "", "truncated file (no 'end' line)"},
    {"model_hash", "model_hash 00000000000000000000000000000000", "Snapshot incompatible"},
    {"y", "y 2 1 2", "n_state: model=1 snapshot=2"},
    {"stepper", "stepper rk4", "stepper: model=map snapshot=rk4"},
    {"dtype", "dtype float32", "dtype: model=float64 snapshot=float32"},
};

void check_catalogue(bool jit) {
  auto sim = setup(kLagMap, {.jit = jit});
  sim.run({.N = 10});
  const auto path = tmp(jit ? "lag_jit.snap" : "lag.snap");
  sim.save_snapshot(path);
  const std::string good = read_all(path);
  REQUIRE_THAT(good, Contains("\nlag_head 1 "));
  const auto state = sim.state_vector();
  const auto steps = sim.step_count();

  for (const auto& c : kLagMapCases) {
    INFO("case: " << c.key << " -> '" << c.line << "'");
    const auto bad = tmp("bad.snap");
    write_all(bad, with_line(good, c.key, c.line));
    auto fresh = setup(kLagMap, {.jit = jit});
    fresh.run({.N = 3});
    const auto before = fresh.state_vector();
    CHECK_THROWS_WITH(fresh.load_snapshot(bad), Contains(c.message) && Contains(bad.string()));
    // Unchanged: the session still resumes from where it was.
    CHECK(fresh.step_count() == 3);
    CHECK(fresh.state_vector() == before);
    fs::remove(bad);
  }
  // Extra, repeated and trailing lines.
  const auto bad = tmp("bad.snap");
  std::string extra = good;
  extra.insert(extra.find("end\n"), "colour blue\n");
  write_all(bad, extra);
  CHECK_THROWS_WITH(sim.load_snapshot(bad), Contains("('colour'): unknown field"));
  std::string repeated = good;
  repeated.insert(repeated.find("end\n"), "step 3\n");
  write_all(bad, repeated);
  CHECK_THROWS_WITH(sim.load_snapshot(bad), Contains("('step'): repeated (first on line 13)"));
  write_all(bad, good + "step 4\n");
  CHECK_THROWS_WITH(sim.load_snapshot(bad), Contains("text after 'end'"));
  write_all(bad, good.substr(0, good.size() - 1));
  CHECK_THROWS_WITH(sim.load_snapshot(bad), Contains("the last line has no newline"));
  write_all(bad, "");
  CHECK_THROWS_WITH(sim.load_snapshot(bad), Contains("empty file"));
  write_all(bad, std::string("\x7f"
                             "ELF\x02\x01\n",
                             7));
  CHECK_THROWS_WITH(sim.load_snapshot(bad), Contains("unsupported schema '\\x7fELF\\x02\\x01'"));
  fs::remove(bad);

  // The good file still loads and resumes bit-identically.
  auto again = setup(kLagMap, {.jit = jit});
  again.load_snapshot(path);
  CHECK(again.state_vector() == state);
  CHECK(again.step_count() == steps);
  sim.run({.N = 20, .resume = true});
  again.run({.N = 20, .resume = true});
  CHECK(again.state_vector() == sim.state_vector());
  fs::remove(path);
}

}  // namespace

TEST_CASE("snapshot catalogue: every broken field is refused (interpreter)", "[snapshot]") {
  check_catalogue(false);
}

#if DYNLIB_TEST_HAVE_JIT
TEST_CASE("snapshot catalogue: every broken field is refused (JIT)", "[snapshot][jit]") {
  check_catalogue(true);
}
#endif

TEST_CASE("snapshot workspace and stepper settings are checked against the stepper", "[snapshot]") {
  auto sim = setup("builtin://ode/vanderpol", {.stepper = "bdf2"});
  sim.run({.T = 0.5, .dt = 0.01});
  const auto path = tmp("bdf2.snap");
  sim.save_snapshot(path);
  const std::string good = read_all(path);
  const auto bad = tmp("bdf2_bad.snap");
  write_all(bad, with_line(good, "iws", "iws 6 -1 0 0 0 0 0"));
  CHECK_THROWS_WITH(sim.load_snapshot(bad), Contains("('iws'): value -1 is out of range"));
  write_all(bad, with_line(good, "iws", "iws 6 9223372036854775807 0 0 0 0 0"));
  CHECK_THROWS_WITH(sim.load_snapshot(bad), Contains("('iws'): value 9223372036854775807 is out of range"));
  write_all(bad, with_line(good, "ws", "ws 2 0 0"));
  CHECK_THROWS_WITH(sim.load_snapshot(bad), Contains("('ws'): has 2 values, this model and stepper need 24"));
  write_all(bad, with_line(good, "stepper_config", "stepper_config 4 1e-8 50 nan 0"));
  CHECK_THROWS_WITH(sim.load_snapshot(bad), Contains("('stepper_config'): setting 'jac_eps' is NaN"));
  write_all(bad, with_line(good, "stepper_config", "stepper_config 4 1e-8 50 1e-8 7"));
  CHECK_THROWS_WITH(sim.load_snapshot(bad),
                    Contains("('stepper_config'): setting 'jacobian_mode' has no value 7"));
  write_all(bad, with_line(good, "stepper_config", "stepper_config 4 1e-8 50.5 1e-8 0"));
  CHECK_THROWS_WITH(sim.load_snapshot(bad),
                    Contains("('stepper_config'): setting 'newton_max_iter' must be an integer"));
  sim.load_snapshot(path);  // the good one still loads
  fs::remove(bad);
  fs::remove(path);
}

TEST_CASE("snapshot files must be regular files of bounded size", "[snapshot]") {
  auto sim = setup(kLagMap);
  CHECK_THROWS_WITH(sim.load_snapshot("/dev/zero"),
                    Contains("'/dev/zero': is a character device, not a regular file"));
  const auto fifo = tmp("fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH(sim.load_snapshot(fifo), Contains("is a FIFO (named pipe), not a regular file"));
  fs::remove(fifo);
  const auto dir = tmp("dir");
  fs::create_directory(dir);
  CHECK_THROWS_WITH(sim.load_snapshot(dir), Contains("is a directory"));
  fs::remove(dir);
  const auto big = tmp("big.snap");
  { std::ofstream f(big); }
  fs::resize_file(big, (std::uintmax_t{64} << 20) + 1);  // sparse: no disk used
  CHECK_THROWS_WITH(sim.load_snapshot(big), Contains("larger than the limit of 64 MiB"));
  fs::remove(big);
}

TEST_CASE("snapshot text fields are written on one line", "[snapshot]") {
  auto sim = setup(kLagMap);
  sim.run({.N = 4});
  sim.create_snapshot("s1", "two\nlines");
  const auto path = tmp("desc.snap");
  sim.save_snapshot(path, "s1");
  CHECK_THAT(read_all(path), Contains("description two lines\n"));
  sim.load_snapshot(path);
  fs::remove(path);
}

TEST_CASE("snapshot text in memory: the file's content, loaded with the same checks", "[snapshot]") {
  auto sim = setup(kLagMap);
  sim.run({.N = 4});
  const auto path = tmp("mem.snap");
  sim.save_snapshot(path);
  const std::string text = sim.snapshot_text();
  CHECK(text == read_all(path));
  fs::remove(path);
  sim.run({.N = 8, .resume = true});
  sim.load_snapshot_text(text, "archive.npz");
  CHECK(sim.step_count() == 4);
  std::string broken = text;
  broken.replace(broken.find("step 4"), 6, "step x");
  CHECK_THROWS_WITH(sim.load_snapshot_text(broken, "archive.npz"), Contains("archive.npz"));
  CHECK_THROWS_WITH(sim.load_snapshot_text(std::string((std::size_t{64} << 20) + 1, ' '), "big.npz"),
                    Contains("'big.npz': 67108865 bytes, more than the limit"));
}
