// Sweep axes and CSV: decimal axis values, failed points keep every column and name their parameters.
#include <catch2/catch.hpp>
#include <dynlib/dynlib.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

using namespace dynlib;
using Catch::Matchers::Contains;

TEST_CASE("sweep: linspace interior points are the decimals the user expects", "[sweep]") {
  const auto a = SweepAxis::linspace("r", 0.1, 0.5, 5);
  REQUIRE(a.values.size() == 5);
  CHECK(a.values[0] == 0.1);
  CHECK(a.values[2] == 0.3);  // not 0.30000000000000004
  CHECK(a.values[4] == 0.5);
  const auto b = SweepAxis::linspace("r", 0.123456789012345678, 1.0, 2);  // endpoints are kept exactly
  CHECK(b.values[0] == 0.123456789012345678);
}

TEST_CASE("sweep: CSV rows of failed points have every column", "[sweep]") {
  auto fm =
      build("inline: [model]\ntype='ode'\n[states]\nx=1.0\n[params]\na=1.0\n[equations.rhs]\nx='a*x*x'\n");
  LyapunovOptions lo;
  lo.trace_stride = 0;
  const auto sw = sweep(fm, {SweepAxis::linspace("a", -1.0, 1.0, 3)},
                        {.T = 5.0, .dt = 0.01, .observers = {lyapunov_mle(lo)}});
  REQUIRE_FALSE(sw.at(2).ok());
  CHECK_THAT(sw.at(2).error, Catch::StartsWith("at a=1: "));
  const auto path = std::filesystem::temp_directory_path() / "dynlib_test_sweep_csv.csv";
  sw.write_csv(path);
  std::ifstream f(path);
  std::string header, r0, r1, r2;
  std::getline(f, header);
  std::getline(f, r0);
  std::getline(f, r1);
  std::getline(f, r2);
  std::filesystem::remove(path);
  CHECK(header ==
        "a,status,t,x,lyapunov_mle.log_growth,lyapunov_mle.denom,lyapunov_mle.steps,lyapunov_mle.mle");
  CHECK_THAT(r0, Catch::StartsWith("-1,DONE,5,"));
  CHECK(r2 == "1,ERROR,,,,,,");
}

TEST_CASE("sweep: a point that stops at max_steps is not ok and keeps its own status", "[sweep]") {
  auto fm = build("builtin://ode/expdecay", {.stepper = "rk4"});
  BatchOptions o;
  o.T = 1.0;
  o.dt = 0.1;
  o.max_steps = 5;
  const auto sw = sweep(fm, {SweepAxis::linspace("a", 1.0, 2.0, 2)}, o);
  REQUIRE(sw.batch.size() == 2);
  for (const auto& r : sw.batch.runs) {
    CHECK(r.status == Status::MAX_STEPS);
    CHECK(r.error.empty());
    CHECK_FALSE(r.ok());
    CHECK(r.steps == 5);
  }
  const auto path = std::filesystem::temp_directory_path() / "dynlib_test_sweep_max_steps.csv";
  sw.write_csv(path);
  std::ifstream f(path);
  std::string header, r0;
  std::getline(f, header);
  std::getline(f, r0);
  std::filesystem::remove(path);
  CHECK(header == "a,status,t,x");
  CHECK_THAT(r0, Catch::StartsWith("1,MAX_STEPS,0.5,"));
  o.max_steps = 100;
  const auto done = sweep(fm, {SweepAxis::linspace("a", 1.0, 2.0, 2)}, o);
  CHECK(done.at(0).status == Status::DONE);
  CHECK(done.at(0).ok());
  // the model's own stop condition ends a point early: a finished run, ok like DONE
  auto stops = build(
      "inline: [model]\ntype='ode'\n[states]\nx=1.0\n[params]\na=1.0\n"
      "[equations.rhs]\nx='-a*x'\n[sim]\nstop='x < 0.5'\n",
      {.stepper = "rk4"});
  const auto early = sweep(stops, {SweepAxis::linspace("a", 1.0, 2.0, 2)}, {.T = 5.0, .dt = 0.1});
  CHECK(early.at(0).status == Status::EARLY_EXIT);
  CHECK(early.at(0).ok());
}

TEST_CASE("sweep: a terminal root event that ends a point is named in the stopped_by column", "[sweep]") {
  // The ball falls from h = 1 and stops at the ground (t = sqrt(2/g)) unless T or [sim].stop comes first.
  auto fm = build(
      "inline: [model]\ntype='ode'\n[states]\nh=1.0\nv=0.0\n[params]\ng=9.81\n"
      "[equations.rhs]\nh='v'\nv='-g'\n[events.ground]\nroot='h'\ndirection='down'\nterminal=true\n"
      "[sim]\nstop='v < -3'\n",
      {.stepper = "rk4"});
  // The ground at t = sqrt(2/g) with v = -sqrt(2g); v < -3 at t = 3/g, first when g > 4.5.
  const auto sw = sweep(fm, {SweepAxis::linspace("g", 1.0, 6.0, 3)}, {.T = 1.0, .dt = 0.01});
  CHECK(sw.batch.terminal_events);
  CHECK(sw.at(0).status == Status::DONE);  // g = 1: the ground at t = 1.41, after T
  CHECK(sw.at(0).stopped_by.empty());
  CHECK(sw.at(1).status == Status::EARLY_EXIT);  // g = 3.5: the ground at t = 0.756
  CHECK(sw.at(1).stopped_by == "ground");
  CHECK(sw.at(2).status == Status::EARLY_EXIT);  // g = 6: [sim].stop at t = 0.5 (v = -3.000...002)
  CHECK(sw.at(2).stopped_by.empty());
  const auto path = std::filesystem::temp_directory_path() / "dynlib_test_sweep_stopped_by.csv";
  sw.write_csv(path);
  std::ifstream f(path);
  std::string header, r0, r1, r2;
  std::getline(f, header);
  std::getline(f, r0);
  std::getline(f, r1);
  std::getline(f, r2);
  std::filesystem::remove(path);
  CHECK(header == "g,status,t,h,v,events.ground,stopped_by");
  CHECK_THAT(r0, Catch::StartsWith("1,DONE,1,") && Catch::EndsWith(",0,"));
  CHECK_THAT(r1, Catch::StartsWith("3.5,EARLY_EXIT,0.75") && Catch::EndsWith(",1,ground"));
  CHECK_THAT(r2, Catch::StartsWith("6,EARLY_EXIT,0.5,") && Catch::EndsWith(",0,"));
  // A model without terminal events has no such column (the files of such models are as before).
  auto plain = build("builtin://ode/expdecay", {.stepper = "rk4"});
  CHECK_FALSE(sweep(plain, {SweepAxis::linspace("a", 1.0, 2.0, 2)}, {.T = 1.0}).batch.terminal_events);
}
