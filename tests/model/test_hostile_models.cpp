// Hostile models: large but legal models (long sums, comparison chains, deep function and aux chains,
// many states, constants or arguments) and models that would take unbounded time or memory. Each one
// gives a correct result or a located error, never a crash, a hang or unbounded memory. The models
// are generated here; their limits are documented in docs/model-language.md ("Limits").
#include <pthread.h>

#include <catch2/catch.hpp>
#include <exception>
#include <functional>
#include <string>

#include "dynlib/full_model.hpp"
#include "dynlib/model.hpp"
#include "dynlib/sim.hpp"
#include "model/load_test_util.hpp"

namespace {

using dynlib::test::catch_error;
using dynlib::test::TempDir;

std::string map_model(const std::string& rhs, const std::string& extra = "") {
  return "[model]\ntype = \"map\"\n[states]\nx = 1.0\n" + extra + "[equations.rhs]\nx = \"" + rhs + "\"\n";
}

// "x12" (built by appending: g++ 12 warns falsely about "x" + std::to_string(i)).
std::string numbered(const char* prefix, int i) {
  std::string s(prefix);
  s += std::to_string(i);
  return s;
}

std::string joined(int n, const std::string& term, const std::string& sep) {
  std::string s;
  for (int i = 0; i < n; ++i) s += (i ? sep : "") + term;
  return s;
}

// x after one iteration of the map, with the interpreter and (when available) the JIT; both must agree
// bitwise.
double one_step(const std::string& path, bool with_jit = true) {
  double out = 0;
  for (bool jit : {false, true}) {
    if (jit && (!with_jit || !dynlib::jit_available())) continue;
    dynlib::BuildOptions o;
    o.jit = jit;
    o.jit_tiered = jit;  // the optimising compile runs on a background thread
    auto sim = dynlib::setup(path, o);
    dynlib::RunOptions r;
    r.N = 1;
    sim.run(r);
    const double x = sim.state("x");
    if (!jit) out = x;
    CHECK(x == out);
  }
  return out;
}

// Runs f on a thread with a small stack (like a thread pool may have), rethrowing what it throws.
void on_small_stack(const std::function<void()>& f) {
  struct Job {
    const std::function<void()>* f;
    std::exception_ptr error;
  } job{&f, nullptr};
  pthread_attr_t attr;
  REQUIRE(pthread_attr_init(&attr) == 0);
  REQUIRE(pthread_attr_setstacksize(&attr, std::size_t{512} << 10) == 0);
  pthread_t th;
  auto body = [](void* p) -> void* {
    auto* j = static_cast<Job*>(p);
    try {
      (*j->f)();
    } catch (...) {
      j->error = std::current_exception();
    }
    return nullptr;
  };
  REQUIRE(pthread_create(&th, &attr, body, &job) == 0);
  pthread_attr_destroy(&attr);
  pthread_join(th, nullptr);
  if (job.error) std::rethrow_exception(job.error);
}

}  // namespace

TEST_CASE("a sum of 20000 terms loads and runs on both backends", "[hostile]") {
  TempDir d;
  const auto p = d.write("sum.toml", map_model(joined(20000, "x", " + ")));
  CHECK(one_step(p.string()) == 20000.0);
}

TEST_CASE("a comparison chain of 20000 links loads and runs", "[hostile]") {
  TempDir d;
  std::string chain = "x";
  for (int i = 2; i <= 20001; ++i) {
    chain += " < ";
    chain += std::to_string(i);
  }
  const auto p = d.write("cmp.toml", map_model(chain));
  CHECK(one_step(p.string()) == 1.0);
}

TEST_CASE("5000 chained functions f_i(u) = f_{i+1}(u) + u load and run", "[hostile]") {
  TempDir d;
  std::string fns;
  const int n = 5000;
  for (int i = 0; i < n; ++i)
    fns += "[functions." + numbered("f", i) + "]\nargs = [\"u\"]\nexpr = \"" +
           (i + 1 < n ? numbered("f", i + 1) + "(u) + u" : std::string("u")) + "\"\n";
  const auto p = d.write(
      "fns.toml", "[model]\ntype = \"map\"\n[states]\nx = 1.0\n[equations.rhs]\nx = \"f0(x)\"\n" + fns);
  CHECK(one_step(p.string()) == 5000.0);
}

TEST_CASE("an aux chain of 30000 is rejected with a located error instead of a crash", "[hostile]") {
  TempDir d;
  std::string aux = "[aux]\n";
  const int n = 30000;
  for (int i = 0; i < n; ++i)
    aux +=
        numbered("a", i) + " = \"" + (i + 1 < n ? numbered("a", i + 1) + " + x" : std::string("x")) + "\"\n";
  const auto p = d.write("aux.toml", map_model("a0", aux));
  // Every aux is recorded, and each one is evaluated with the whole chain inlined: 30000^2/2 nodes.
  const auto e = catch_error<dynlib::ModelLoadError>([&] { (void)dynlib::load_model(p.string()); });
  CHECK_THAT(e.message(), Catch::Contains("Model too large after inlining aux and functions"));
  CHECK(e.where().toml_path.rfind("[aux].a", 0) == 0);
  CHECK(e.where().line > 0);
}

TEST_CASE("an aux chain that doubles at every line is rejected at validation", "[hostile]") {
  TempDir d;
  std::string aux = "[aux]\n";
  for (int i = 0; i < 60; ++i)
    aux += numbered("a", i) + " = \"" +
           (i < 59 ? numbered("a", i + 1) + " + " + numbered("a", i + 1) : std::string("x")) + "\"\n";
  const auto p = d.write("aux2.toml", map_model("a0", aux));
  const auto e = catch_error<dynlib::ModelLoadError>([&] { (void)dynlib::load_model(p.string()); });
  CHECK_THAT(e.message(), Catch::Contains("more than 5000000 expression nodes"));
  CHECK(e.where().toml_path == "[equations.rhs].x");
  CHECK(e.where().line == 67);  // after the 60 aux lines
}

TEST_CASE("an expression nested deeper than the limit gets a located error", "[hostile]") {
  TempDir d;
  const auto p = d.write("deep.toml", map_model(joined(100001, "x", "+")));
  const auto e = catch_error<dynlib::ExpressionSyntaxError>([&] { (void)dynlib::load_model(p.string()); });
  CHECK_THAT(e.message(), Catch::Contains("nested too deeply (more than 100000 levels)"));
  CHECK(e.where().toml_path == "[equations.rhs].x");
  CHECK(e.where().line == 6);
}

TEST_CASE("sum over a huge constant range is a located error", "[hostile]") {
  TempDir d;
  const auto p = d.write("range.toml", map_model("sum(x for i in range(10**9))"));
  const auto e = catch_error<dynlib::ModelLoadError>([&] { (void)dynlib::load_model(p.string()); });
  CHECK_THAT(e.message(), Catch::Contains("runs more than 10000000 iterations per evaluation"));
  CHECK(e.where().toml_path == "[equations.rhs].x");
  const auto nested =
      d.write("nested.toml", map_model("sum(sum(i*j for j in range(10000)) for i in range(10000))"));
  CHECK_THROWS_AS(dynlib::load_model(nested.string()), dynlib::ModelLoadError);
  const auto fine = d.write("fine.toml", map_model("sum(x for i in range(1000))"));
  CHECK(one_step(fine.string()) == 1000.0);
}

TEST_CASE("100000 states load", "[hostile]") {
  TempDir d;
  std::string states = "[model]\ntype = \"map\"\n[states]\n", eqs = "[equations.rhs]\n";
  for (int i = 0; i < 100000; ++i) {
    states += numbered("x", i) + " = 1.0\n";
    eqs += numbered("x", i) + " = \"-" + numbered("x", i) + "\"\n";
  }
  CHECK(dynlib::load_model(d.write("states.toml", states + eqs).string())->n_states() == 100000);
}

TEST_CASE("20000 constants, each defined from the one before, load", "[hostile]") {
  TempDir d;

  std::string consts = "[constants]\nc0 = 1\n";
  for (int i = 1; i < 20000; ++i) consts += numbered("c", i) + " = \"" + numbered("c", i - 1) + " + 1\"\n";
  const auto m = dynlib::load_model(d.write("consts.toml", map_model("x*c19999", consts)).string());
  CHECK(m->constants.back().second == 20000.0);
}

TEST_CASE("max() of 100000 arguments loads and runs", "[hostile]") {
  TempDir d;

  const auto p = d.write("max.toml", map_model("max(" + joined(100000, "x", ", ") + ", 7)"));
  CHECK(one_step(p.string(), false) == 7.0);  // the interpreter: the JIT takes seconds for this one
}

TEST_CASE("deep models load and compile on a thread with a small stack", "[hostile]") {
  TempDir d;
  const auto p = d.write("sum.toml", map_model(joined(20000, "x", " + ")));
  double x = 0;
  on_small_stack([&] { x = one_step(p.string()); });
  CHECK(x == 20000.0);
}

TEST_CASE("a sum of 20000 terms prints back as written", "[hostile]") {
  TempDir d;
  const std::string text = joined(20000, "x", " + ");
  const auto m = dynlib::load_model(d.write("sum.toml", map_model(text)).string());
  CHECK(dynlib::ir::to_string(m->rhs[0], *m) == text);
}
