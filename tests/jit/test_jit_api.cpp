// jit=true through the public API (build/setup/Sim/FullModel): same Results as jit=false, every
// component inspectable, sources exported.
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <string>

#include "dynlib/dynlib.hpp"

namespace {
bool same(std::span<const double> a, std::span<const double> b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}
}  // namespace

TEST_CASE("setup(jit=true) gives bit-identical Results to jit=false", "[jit][api]") {
  for (const char* uri : {"builtin://ode/vanderpol", "builtin://ode/izhikevich", "builtin://map/henon"}) {
    for (const char* stepper : {"", "rk45"}) {
      if (std::string(uri).find("map/") != std::string::npos && *stepper) continue;
      INFO(uri << " " << stepper);
      dynlib::BuildOptions oi;
      oi.stepper = stepper;
      auto oj = oi;
      oj.jit = true;
      auto si = dynlib::setup(uri, oi);
      auto sj = dynlib::setup(uri, oj);
      const bool is_map = std::string(uri).find("map/") != std::string::npos;
      dynlib::RunOptions first;
      if (is_map) first.N = 500;
      si.run(first);
      sj.run(first);
      const auto& ri = si.results();
      const auto& rj = sj.results();
      REQUIRE(ri.t().size() > 1);
      CHECK(same(ri.t(), rj.t()));
      for (const auto& s : sj.model().model().states) CHECK(same(ri[s], rj[s]));
      CHECK(ri.events().size() == rj.events().size());
      // resume: the JIT re-enters exactly like the interpreter
      dynlib::RunOptions more;
      more.resume = true;
      more.T = sj.model().model().sim.t_end * 1.5 + 1.0;
      if (is_map) {
        more.T.reset();
        more.N = 800;
      }
      si.run(more);
      sj.run(more);
      CHECK(same(si.results().t(), sj.results().t()));
      for (const auto& s : sj.model().model().states) CHECK(same(si.results()[s], sj.results()[s]));
    }
  }
}

TEST_CASE("FullModel with jit=true: is_jitted, signatures, sources, export", "[jit][api]") {
  dynlib::BuildOptions o;
  o.jit = true;
  o.stepper = "bdf2a";
  auto fm = dynlib::build("builtin://ode/vanderpol", o);
  for (const char* c : {"rhs", "events_pre", "events_post", "update_aux", "guards", "stepper", "runner"}) {
    INFO(c);
    CHECK(fm->is_jitted(c));
    CHECK_FALSE(fm->signature(c).empty());
    CHECK(fm->source(c).find("define ") != std::string::npos);
  }
  const auto dir = std::filesystem::temp_directory_path() / ("dynlib-jit-api-" + std::to_string(::getpid()));
  auto files = fm->export_sources(dir);
  CHECK(files.size() >= 7);
  for (const auto& [name, path] : files) CHECK(std::filesystem::file_size(path) > 0);
  std::filesystem::remove_all(dir);

  auto fi = dynlib::build("builtin://ode/vanderpol", dynlib::BuildOptions{});
  CHECK_FALSE(fi->is_jitted("rhs"));
  CHECK(fi->source("rhs").empty());
}
