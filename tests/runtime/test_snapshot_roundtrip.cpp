// Snapshots: in memory (create/reset/list), files (atomic write, pins checked on load) and across
// processes (a helper executable saves in one process, this process and another one resume).
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdio>
#include <dynlib/dynlib.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

using namespace dynlib;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {
fs::path tmp(const std::string& name) {
  return fs::temp_directory_path() / ("dynlib_h5_" + std::to_string(::getpid()) + "_" + name);
}
std::string run_cmd(const std::string& cmd) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(cmd.c_str(), "r"), ::pclose);
  REQUIRE(p);
  std::array<char, 256> buf{};
  while (std::fgets(buf.data(), buf.size(), p.get())) out += buf.data();
  return out;
}
std::string state_line(const Sim& sim) {
  std::string s = std::to_string(sim.step_count());
  char b[64];
  for (double v : sim.state_vector()) {
    std::snprintf(b, sizeof b, " %a", v);
    s += b;
  }
  return s + "\n";
}
}  // namespace

TEST_CASE("snapshots in memory: create, list, reset", "[snapshot]") {
  auto sim = setup("builtin://ode/lorenz", {.stepper = "rk4"});
  sim.run({.T = 1.0, .dt = 0.01});
  sim.create_snapshot("t1", "after one time unit");
  CHECK_THROWS_AS(sim.create_snapshot("t1"), ArgumentError);
  CHECK_THROWS_AS(sim.create_snapshot(""), ArgumentError);
  const auto x1 = sim.state_vector();
  sim.run({.T = 2.0, .resume = true});
  const auto x2 = sim.state_vector();
  sim.reset("t1");
  CHECK_FALSE(sim.has_results());
  CHECK(sim.state_vector() == x1);
  CHECK(sim.step_count() == 100);
  sim.run({.T = 2.0, .resume = true});  // the snapshot carries the workspace: bit-identical continuation
  CHECK(sim.state_vector() == x2);
  CHECK(sim.list_snapshots().size() == 2);  // "initial" and "t1"
  sim.reset();
  CHECK(sim.t() == 0.0);
  CHECK(sim.state("x") == 1.0);
  CHECK_THROWS_AS(sim.reset("nope"), ArgumentError);
}

TEST_CASE("snapshot files: round trip is exact; pins are checked", "[snapshot]") {
  const auto path = tmp("lorenz.snap");
  auto a = setup("builtin://ode/izhikevich", {.stepper = "rk4"});
  a.run({.T = 30.0, .dt = 0.01});
  a.save_snapshot(path);
  CHECK(fs::exists(path));
  a.run({.T = 60.0, .resume = true});
  auto b = setup("builtin://ode/izhikevich", {.stepper = "rk4"});
  b.load_snapshot(path);
  CHECK(b.step_count() == 3000);
  b.run({.T = 60.0, .resume = true});
  CHECK(b.state_vector() == a.state_vector());
  CHECK(b.step_count() == a.step_count());
  // the resumed chunk numbers steps from the snapshot on and logs its events
  CHECK(b.results().step().front() == 3001);
  CHECK(b.results().events().size() + 2 == a.results().events().size());

  auto other = setup("builtin://ode/vanderpol", {.stepper = "rk4"});
  CHECK_THROWS_WITH(other.load_snapshot(path), Contains("Snapshot incompatible"));
  auto other_stepper = setup("builtin://ode/izhikevich", {.stepper = "euler"});
  CHECK_THROWS_WITH(other_stepper.load_snapshot(path), Contains("stepper"));
  { std::ofstream(tmp("bad.snap")) << "not a snapshot\n"; }
  CHECK_THROWS_WITH(b.load_snapshot(tmp("bad.snap")), Contains("schema"));
  CHECK_THROWS_AS(b.load_snapshot(tmp("missing.snap")), ArgumentError);
  for (const auto& e : fs::directory_iterator(path.parent_path())) {  // no temp file left behind
    const std::string n = e.path().filename().string();
    const bool leftover =
        n.find(".tmp.") != std::string::npos && n.find(path.filename().string()) != std::string::npos;
    CHECK_FALSE(leftover);
  }
  fs::remove(path);
  fs::remove(tmp("bad.snap"));
}

TEST_CASE("snapshot files across processes", "[snapshot][process]") {
  const auto path = tmp("xproc.snap");
  const std::string helper = std::string(DYNLIB_BINARY_DIR) + "/bin/snapshot_helper";
  REQUIRE(std::system((helper + " save " + path.string()).c_str()) == 0);
  // this process
  auto sim = setup("builtin://ode/lorenz", {.stepper = "rk4"});
  sim.load_snapshot(path);
  sim.run({.T = 2.0, .resume = true});
  // reference: one uninterrupted run
  auto one = setup("builtin://ode/lorenz", {.stepper = "rk4"});
  one.run({.T = 2.0, .dt = 0.01});
  CHECK(state_line(sim) == state_line(one));
  // a third process
  CHECK(run_cmd(helper + " resume " + path.string()) == state_line(one));
  fs::remove(path);
}
