// What a JIT-compiled model exposes (components, signatures, IR text, exported sources), JitError
// naming the component and the model, and compiling from several threads at once.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/jit_loader.hpp"
#include "dynlib/errors.hpp"
#include "dynlib/model.hpp"
#include "interp/interp.hpp"
#include "jit/run_helper.hpp"
#include "steppers_catalogue/stepper_registry.hpp"

TEST_CASE("JIT model: components, signatures, IR text, export_sources", "[jit][inspect]") {
  auto model = dynlib::load_model("builtin://ode/vanderpol");
  auto jt = dynlib::core::jit_compile(model, dynlib::kernels::get_stepper("rk4"), model->dtype);
  for (const char* c : {"rhs", "events_pre", "events_post", "update_aux", "guards", "stepper", "runner"}) {
    INFO(c);
    CHECK(jt->is_jitted(c));
    CHECK_FALSE(jt->signature(c).empty());
    CHECK(jt->source(c).find("define ") != std::string::npos);
  }
  CHECK(jt->is_jitted("jacobian") == model->jacobian.has_value());
  CHECK_FALSE(jt->is_jitted("nonsense"));
  CHECK(jt->source("nonsense").empty());
  CHECK(jt->signature("runner").find("RunnerArgs") != std::string::npos);
  CHECK(jt->source("rhs").find("define void @rhs(") != std::string::npos);
  // Strict IEEE: no fast-math flags, no contraction, libm calls are never builtins.
  for (const auto& c : jt->components()) {
    const auto ir = jt->source(c);
    CHECK(ir.find(" fast ") == std::string::npos);
    CHECK(ir.find(" contract ") == std::string::npos);
    CHECK(ir.find("fmuladd") == std::string::npos);
  }
  const auto dir =
      std::filesystem::temp_directory_path() / ("dynlib-jit-export-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto files = jt->export_sources(dir);
  for (const char* f : {"rhs", "events", "aux", "stepper", "runner", "guards", "model_info"}) {
    INFO(f);
    REQUIRE(files.count(f) == 1);
    CHECK(std::filesystem::file_size(files[f]) > 0);
  }
  CHECK(files.count("jacobian") == (model->jacobian ? 1u : 0u));
  std::ifstream info(files["model_info"]);
  std::stringstream ss;
  ss << info.rdbuf();
  CHECK(ss.str().find("stepper: rk4") != std::string::npos);
  CHECK(ss.str().find("llvm_version: " DYNLIB_TEST_LLVM_MAJOR ".") != std::string::npos);
  CHECK(ss.str().find(model->hash.hex()) != std::string::npos);
  // A FIFO where an exported file goes is refused (not opened, which would block), and the error names it.
  std::filesystem::remove(dir / "rhs.ll");
  REQUIRE(::mkfifo((dir / "rhs.ll").c_str(), 0600) == 0);
  try {
    (void)jt->export_sources(dir);
    FAIL("export_sources wrote through a FIFO");
  } catch (const dynlib::DynlibError& e) {
    CHECK_THAT(e.what(), Catch::Contains("export_sources: cannot write") && Catch::Contains("rhs.ll"));
  }
  std::filesystem::remove_all(dir);
  // The standalone events/guard/stepper entry points are compiled on first use: force it.
  jt->materialize_all();
  const auto t = jt->timings();
  CHECK(t.total_ms > 0);
  WARN("vanderpol/rk4 compile ms: build_ir " << t.build_ir_ms << ", verify " << t.verify_ms << ", O3 "
                                             << t.optimize_ms << ", codegen+link " << t.codegen_link_ms
                                             << ", total " << t.total_ms);
}

TEST_CASE("A broken unit is a JitError naming the component and the model", "[jit][errors]") {
  auto model = dynlib::load_model("builtin://ode/lorenz");
  for (const char* comp : {"stepper", "runner", "rhs"}) {
    INFO(comp);
    ::setenv("DYNLIB_JIT_INJECT_FAULT", comp, 1);
    try {
      (void)dynlib::core::jit_compile(model, dynlib::kernels::get_stepper("rk4"), model->dtype);
      FAIL("expected JitError");
    } catch (const dynlib::JitError& e) {
      const std::string msg = e.what();
      CHECK(msg.find(std::string("component '") + comp + "'") != std::string::npos);
      CHECK(msg.find("lorenz") != std::string::npos);
    }
    ::unsetenv("DYNLIB_JIT_INJECT_FAULT");
  }
  // The engine stays usable afterwards.
  auto jt = dynlib::core::jit_compile(model, dynlib::kernels::get_stepper("rk4"), model->dtype);
  CHECK(jt->is_jitted("runner"));
}

TEST_CASE("Stepper kind mismatch is reported, not compiled", "[jit][errors]") {
  auto model = dynlib::load_model("builtin://map/logistic");
  CHECK_THROWS_AS(dynlib::core::jit_compile(model, dynlib::kernels::get_stepper("rk4"), model->dtype),
                  dynlib::StepperKindMismatchError);
}

TEST_CASE("Compiling and running from several threads at once", "[jit][threads]") {
  const char* names[] = {"ode/lorenz", "ode/vanderpol", "ode/duffing", "ode/fitzhugh-nagumo"};
  std::vector<dynlib::ModelPtr> models;
  for (const char* n : names) models.push_back(dynlib::load_model(std::string("builtin://") + n));
  std::vector<std::unique_ptr<dynlib::core::JitCompiledModel>> out(4);
  std::vector<std::thread> th;
  for (int k = 0; k < 4; ++k)
    th.emplace_back([&, k] {
      out[k] = dynlib::core::jit_compile(models[k], dynlib::kernels::get_stepper(k % 2 ? "rk45" : "rk4"),
                                         models[k]->dtype);
    });
  for (auto& t : th) t.join();
  // Run each compiled model from two threads at once; both runs equal the interpreter's.
  for (int k = 0; k < 4; ++k) {
    REQUIRE(out[k]);
    auto in = dynlib::interp::make_interpreted(models[k], out[k]->stepper());
    auto ref = dynlib::test::run_model(*in);
    dynlib::test::RunOut r1, r2;
    std::thread a([&] { r1 = dynlib::test::run_model(*out[k]); });
    std::thread b([&] { r2 = dynlib::test::run_model(*out[k]); });
    a.join();
    b.join();
    CHECK(dynlib::test::same_bits(ref.Y, r1.Y));
    CHECK(dynlib::test::same_bits(ref.Y, r2.Y));
    CHECK(dynlib::test::same_bits(ref.T, r1.T));
  }
}

// Pleiades (7 bodies in the plane): the distance term of bodies i and j appears in the x and in the y
// equation of body i, the same expression with the same libm call. The outputs are stored between the
// equations; the generated code still computes each of the 42 terms once.
TEST_CASE("JIT: equations sharing a subexpression compute it once, libm calls included", "[jit][inspect]") {
  // Built with += only (GCC 12 warns falsely about chained std::string operator+).
  std::string text = "inline:\n[model]\ntype = \"ode\"\n[states]\n";
  auto add = [&](std::initializer_list<std::string> parts) {
    for (const auto& p : parts) text += p;
  };
  const char* groups[] = {"x", "y", "vx", "vy"};
  for (const char* g : groups)
    for (int i = 1; i <= 7; ++i) add({g, std::to_string(i), " = ", std::to_string(i % 3), ".0\n"});
  text += "[equations.rhs]\n";
  for (const char* g : {"x", "y"})
    for (int i = 1; i <= 7; ++i) add({g, std::to_string(i), " = \"v", g, std::to_string(i), "\"\n"});
  for (const char* axis : {"x", "y"})
    for (int i = 1; i <= 7; ++i) {
      add({"v", axis, std::to_string(i), " = \""});
      for (int j = 1, first = 1; j <= 7; ++j) {
        if (j == i) continue;
        std::string dx = "(x", dy = "(y";
        for (auto* d : {&dx, &dy}) {
          *d += std::to_string(j);
          *d += d == &dx ? " - x" : " - y";
          *d += std::to_string(i);
          *d += ")";
        }
        add({first ? "" : " + ", std::to_string(j), ".0*", axis[0] == 'x' ? dx : dy, "/(", dx, "*", dx, " + ",
             dy, "*", dy, ")**1.5"});
        first = 0;
      }
      text += "\"\n";
    }
  auto model = dynlib::load_model(text);
  dynlib::core::JitOptions opts;
  opts.keep_optimized_ir = true;
  opts.tiered = false;
  auto jt = dynlib::core::jit_compile(model, dynlib::kernels::get_stepper("rk4"), model->dtype, opts);
  const std::string ir = jt->optimized_ir();
  const auto begin = ir.find("define void @rhs(");
  REQUIRE(begin != std::string::npos);
  const auto end = ir.find("\n}\n", begin);
  REQUIRE(end != std::string::npos);
  const std::string rhs = ir.substr(begin, end - begin);
  std::size_t pows = 0;
  for (auto at = rhs.find("@pow("); at != std::string::npos; at = rhs.find("@pow(", at + 1)) ++pows;
  CHECK(pows == 42);
  // and the interpreter's numbers
  auto in = dynlib::interp::make_interpreted(model, jt->stepper());
  CHECK(dynlib::test::same_bits(dynlib::test::run_model(*in).Y, dynlib::test::run_model(*jt).Y));
}

namespace {
// A 2-D reaction-diffusion grid (32 x 32, two species: 2048 states, periodic edges), like the
// Brusselator of the benchmarks, with a forcing switched on at t = 0.01.
std::string grid_model_text() {
  constexpr int kN = 32;
  auto idx = [](int x, int y) { return std::to_string(((y + kN) % kN) * kN + (x + kN) % kN); };
  std::string text = "inline:\n[model]\ntype = \"ode\"\n[states]\n";
  for (const char* s : {"u", "v"})
    for (int k = 0; k < kN * kN; ++k) {
      text += s;
      text += std::to_string(k);
      text += " = ";
      text += std::to_string(1.0 + 0.5 * std::sin(0.37 * k + (s[0] == 'v' ? 1.0 : 0.0)));
      text += "\n";
    }
  text += "[equations.rhs]\n";
  for (int y = 0; y < kN; ++y)
    for (int x = 0; x < kN; ++x) {
      const std::string i = idx(x, y);
      for (const char* s : {"u", "v"}) {
        const std::string me = std::string(s) + i;
        std::string lap;
        for (const auto& nb : {idx(x - 1, y), idx(x + 1, y), idx(x, y - 1), idx(x, y + 1)}) {
          lap += s;
          lap += nb;
          lap += " + ";
        }
        text += me;
        text += s[0] == 'u' ? " = \"1.0 + u" + i + "*u" + i + "*v" + i + " - 4.4*u" + i
                            : " = \"3.4*u" + i + " - u" + i + "*u" + i + "*v" + i;
        text += " + 102.4*(" + lap + "-4.0*" + me + ")";
        text += s[0] == 'u' && x == 9 && y == 19 ? " + (5.0 if t >= 0.01 else 0.0)\"\n" : "\"\n";
      }
    }
  text += "[sim]\ndt = 0.001\natol = 1e-6\nrtol = 1e-6\n";
  return text;
}
}  // namespace

TEST_CASE("JIT: a model with thousands of equations gets its rhs in parts and the full optimisation",
          "[jit][inspect][large]") {
  // Its rhs is split into functions of moderate size, so the module is not compiled as a
  // "large" one (short pipeline, unoptimised code generation: 3-4x slower steps), with the same bits.
  const std::string text = grid_model_text();
  auto model = dynlib::load_model(text);
  dynlib::core::JitOptions opts;
  opts.keep_optimized_ir = true;
  opts.tiered = false;
  auto jt = dynlib::core::jit_compile(model, dynlib::kernels::get_stepper("rk45"), model->dtype, opts);
  const std::string ir = jt->optimized_ir();
  CHECK(ir.find("@rhs.part0(") != std::string::npos);
  CHECK(ir.find("@rhs.part9(") != std::string::npos);
  CHECK(ir.find("dynlib.large") == std::string::npos);
  auto in = dynlib::interp::make_interpreted(model, jt->stepper());
  dynlib::test::RunSpec spec;
  spec.n_steps = 20;  // to t = 0.02, across the switch
  const auto a = dynlib::test::run_model(*in, spec);
  const auto b = dynlib::test::run_model(*jt, spec);
  CHECK(a.status == static_cast<std::int32_t>(dynlib::Status::DONE));
  CHECK(a.steps > 10);
  CHECK(dynlib::test::same_bits(a.Y, b.Y));
  CHECK(dynlib::test::same_bits(a.y_final, b.y_final));
}

TEST_CASE("JIT: an implicit stepper on a model with thousands of equations (rhs in parts)",
          "[jit][inspect][large][cold-parts]") {
  // bdf with its sparse LU. In a unit that counts as large (CTest also runs this case with a low
  // DYNLIB_JIT_LARGE_MODULE) the out-of-line model functions move to the cold module, and the parts of
  // the split rhs must move with them (else the link fails: parts are module-internal).
  auto model = dynlib::load_model(grid_model_text());
  auto in = dynlib::interp::make_interpreted(model, dynlib::kernels::get_stepper("bdf"));
  dynlib::test::RunSpec spec;
  spec.n_steps = 8;
  const auto a = dynlib::test::run_model(*in, spec);
  CHECK(a.status == static_cast<std::int32_t>(dynlib::Status::DONE));
  for (const bool tiered : {true, false}) {
    INFO("tiered " << tiered);
    dynlib::core::JitOptions opts;
    opts.tiered = tiered;
    auto jt = dynlib::core::jit_compile(model, dynlib::kernels::get_stepper("bdf"), model->dtype, opts);
    const auto b = dynlib::test::run_model(*jt, spec);
    CHECK(dynlib::test::same_bits(a.Y, b.Y));
    CHECK(dynlib::test::same_bits(a.y_final, b.y_final));
  }
}
