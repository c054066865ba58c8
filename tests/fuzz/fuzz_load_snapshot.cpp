// libFuzzer target: arbitrary bytes as a snapshot file for two models (a map with a lag and Van der Pol
// with bdf2, which has a stepper workspace). Any dynlib error is a correct rejection; a snapshot that
// loads must then resume for a few steps without a sanitizer report. Anything else is a finding.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <dynlib/dynlib.hpp>
#include <dynlib/warnings.hpp>
#include <filesystem>
#include <string>

#ifndef DYNLIB_FUZZ_SNAPSHOT_MODEL
#error "DYNLIB_FUZZ_SNAPSHOT_MODEL must name tests/fuzz/snapshot_model.toml"
#endif

namespace {

std::string temp_path() {
  const auto name = "dynlib-fuzz-snapshot-" + std::to_string(::getpid());
  return (std::filesystem::temp_directory_path() / name).string();
}

// Loads the file into a fresh Sim of `model`; true when it loaded (then it has resumed a few steps).
bool try_load(const dynlib::FullModelPtr& model, const std::string& path) {
  dynlib::Sim sim(model);
  dynlib::SimConfig cfg;
  cfg.max_steps = 100;  // a clock field far from t may ask for very many steps: a slow input, not a bug
  sim.config(cfg);
  try {
    sim.load_snapshot(path);
  } catch (const dynlib::DynlibError&) {
    return false;
  }
  try {
    dynlib::RunOptions ro;
    ro.resume = true;
    if (model->model().kind == dynlib::ir::Kind::map) {
      ro.N = sim.step_count() + 3;
    } else {
      ro.T = sim.t() + 4 * sim.dt();
    }
    (void)sim.run(ro);
  } catch (const dynlib::DynlibError&) {
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = (dynlib::set_warning_handler([](std::string_view) {}), true);
  (void)quiet;
  static const dynlib::FullModelPtr lag_map = dynlib::build(DYNLIB_FUZZ_SNAPSHOT_MODEL);
  static const dynlib::FullModelPtr vdp = dynlib::build("builtin://ode/vanderpol", {.stepper = "bdf2"});
  static const std::string path = temp_path();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  if (!try_load(lag_map, path)) (void)try_load(vdp, path);
  std::remove(path.c_str());
  return 0;
}
