// Repeated loads of the same model text are served from memory; a changed file is loaded afresh.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <dynlib/model.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

namespace fs = std::filesystem;

TEST_CASE("load cache: builtin and inline models are parsed once") {
  auto a = dynlib::load_model("builtin://ode/lorenz");
  auto b = dynlib::load_model("builtin://ode/lorenz");
  CHECK(a.get() == b.get());
  const char* text =
      "inline:\n[model]\ntype='map'\n[states]\nx=0.5\n[params]\nr=3.9\n[equations.rhs]\nx='r*x*(1-x)'\n";
  CHECK(dynlib::load_model(text).get() == dynlib::load_model(text).get());
  // Mods make a different model.
  auto m = dynlib::load_model("builtin://ode/lorenz",
                              {.mods = {"inline: [mod]\nname='m'\n[mod.set.params]\nrho = 20.0\n"}});
  CHECK(m.get() != a.get());
  CHECK(m->param_vals[1] == 20.0);
}

TEST_CASE("load cache: a file that changes is loaded again") {
  const fs::path dir = fs::temp_directory_path() / ("dynlib-load-cache-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path file = dir / "decay.toml";
  auto write = [&](double a) {
    std::ofstream(file) << "[model]\ntype='ode'\n[states]\nx=1.0\n[params]\na=" << a
                        << "\n[equations.rhs]\nx='-a*x'\n";
  };
  write(1.0);
  auto first = dynlib::load_model(file.string());
  CHECK(dynlib::load_model(file.string()).get() == first.get());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  write(2.5);
  fs::last_write_time(file, fs::last_write_time(file) + std::chrono::seconds(1));
  auto second = dynlib::load_model(file.string());
  CHECK(second.get() != first.get());
  CHECK(second->param_vals[0] == 2.5);
  fs::remove_all(dir);
}
