// Helpers for the load/parse/mods/config tests: temp dirs, env guards, catching typed errors.
#pragma once
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>

#include "model/load.hpp"
#include "model/parse.hpp"

namespace dynlib::test {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("dynlib-h2-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  fs::path write(const std::string& rel, const std::string& text) const {
    const fs::path p = path / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
};

// Sets (or unsets with nullptr) an environment variable for the scope.
struct EnvGuard {
  std::string name;
  std::optional<std::string> old;
  EnvGuard(std::string n, const char* value) : name(std::move(n)) {
    if (const char* o = std::getenv(name.c_str())) old = o;
    if (value) {
      ::setenv(name.c_str(), value, 1);
    } else {
      ::unsetenv(name.c_str());
    }
  }
  ~EnvGuard() {
    if (old) {
      ::setenv(name.c_str(), old->c_str(), 1);
    } else {
      ::unsetenv(name.c_str());
    }
  }
};

inline model::ModelSpec parse(const std::string& text) {
  return model::parse_model_text(text, {"test.toml", "model file 'test.toml'"});
}

// Runs f, which must throw E; returns the caught exception.
template <class E>
E catch_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e;
  } catch (const std::exception& e) {
    FAIL("unexpected exception type: " << e.what());
  }
  FAIL("no exception thrown");
  throw std::logic_error("unreachable");
}

inline std::string parse_error(const std::string& text) {
  return catch_error<ModelLoadError>([&] { parse(text); }).message();
}

constexpr const char* kMinimal = "[model]\ntype = \"ode\"\n[states]\nx = 1.0\n";

}  // namespace dynlib::test
