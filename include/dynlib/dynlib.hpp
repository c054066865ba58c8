// dynlib: dynamical systems described in TOML, simulated by an interpreter or an LLVM JIT.
//   auto sim = dynlib::setup("builtin://ode/vanderpol", {.stepper = "rk4"});
//   sim.run({.T = 20.0});
//   const auto& res = sim.results();   // res.t(), res["x"], res.events(), res.write_csv("out.csv")
#pragma once
#include <dynlib/batch.hpp>
#include <dynlib/errors.hpp>
#include <dynlib/full_model.hpp>
#include <dynlib/ir.hpp>
#include <dynlib/model.hpp>
#include <dynlib/observers.hpp>
#include <dynlib/options.hpp>
#include <dynlib/results.hpp>
#include <dynlib/sim.hpp>
#include <dynlib/status.hpp>
#include <dynlib/warnings.hpp>
