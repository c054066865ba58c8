// The JIT door: libdynlib never links libLLVM, a jit=false run never loads it, and a missing JIT
// component is a JITUnavailableError that says how to get it.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "core/jit_loader.hpp"
#include "dynlib/errors.hpp"
#include "dynlib/model.hpp"
#include "interp/interp.hpp"
#include "jit/run_helper.hpp"
#include "steppers_catalogue/stepper_registry.hpp"

namespace {
std::string maps() {
  std::ifstream f("/proc/self/maps");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
}  // namespace

TEST_CASE("jit=false runs never load libLLVM", "[jit][loader]") {
  auto model = dynlib::load_model("builtin://ode/lorenz");
  auto cm = dynlib::interp::make_interpreted(model, dynlib::kernels::get_stepper("rk4"));
  auto out = dynlib::test::run_model(*cm);
  CHECK(out.status == static_cast<int>(dynlib::Status::DONE));
  CHECK(out.n_rec > 100);
  const auto m = maps();
  CHECK(m.find("libdynlib.so") != std::string::npos);
  CHECK(m.find("libLLVM") == std::string::npos);
  CHECK(m.find("libdynlib_jit") == std::string::npos);
}

TEST_CASE("DYNLIB_JIT_LIBRARY pointing to a missing file -> JITUnavailableError", "[jit][loader]") {
  auto model = dynlib::load_model("builtin://ode/lorenz");
  ::setenv("DYNLIB_JIT_LIBRARY", "/nonexistent/dir/libdynlib_jit.so", 1);
  CHECK(dynlib::core::jit_library_path() == "/nonexistent/dir/libdynlib_jit.so");
  CHECK_FALSE(dynlib::core::jit_available());
  try {
    (void)dynlib::core::jit_compile(model, dynlib::kernels::get_stepper("rk4"), model->dtype);
    FAIL("expected JITUnavailableError");
  } catch (const dynlib::JITUnavailableError& e) {
    const std::string msg = e.what();
    CHECK(msg.find("/nonexistent/dir/libdynlib_jit.so") != std::string::npos);
    CHECK(msg.find("-DDYNLIB_WITH_LLVM=ON") != std::string::npos);
    CHECK(msg.find("llvm-19-dev") != std::string::npos);
    CHECK(msg.find("DYNLIB_JIT_LIBRARY") != std::string::npos);
  }
  // A file that is not a JIT component is also JITUnavailableError (never a fallback).
  ::setenv("DYNLIB_JIT_LIBRARY", "/proc/self/maps", 1);
  CHECK_THROWS_AS(dynlib::core::jit_compile(model, dynlib::kernels::get_stepper("rk4"), model->dtype),
                  dynlib::JITUnavailableError);
  ::unsetenv("DYNLIB_JIT_LIBRARY");
  CHECK(maps().find("libLLVM") == std::string::npos);
}

TEST_CASE("the JIT component is found beside libdynlib.so", "[jit][loader]") {
  ::unsetenv("DYNLIB_JIT_LIBRARY");
  const auto path = dynlib::core::jit_library_path();
  CHECK(path.find("libdynlib_jit.so") != std::string::npos);
  CHECK(path.rfind('/') != std::string::npos);
  // Loading it is what pulls LLVM in (only now): inside the component when LLVM is linked statically
  // (the default, DYNLIB_JIT_STATIC_LLVM), else as libLLVM beside it.
  CHECK(maps().find("libdynlib_jit") == std::string::npos);
  CHECK(dynlib::core::jit_available());
  const auto m = maps();
  CHECK(m.find("libdynlib_jit") != std::string::npos);
#if DYNLIB_TEST_JIT_STATIC_LLVM
  CHECK(m.find("libLLVM") == std::string::npos);
#else
  CHECK(m.find("libLLVM") != std::string::npos);
#endif
}
