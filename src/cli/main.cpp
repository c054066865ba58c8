// The `dynlib` command: a dispatcher over subcommands (see commands.hpp for how to add one).
#include <cstdio>
#include <dynlib/errors.hpp>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/output_paths.hpp"

#ifndef DYNLIB_VERSION_STRING
#define DYNLIB_VERSION_STRING "0.0.0+local"
#endif

namespace dynlib::cli {
namespace {

// One row per subcommand. Keep sorted by name.
const Command kCommands[] = {
    {"cache", "show, list, clear or verify the compiled-code cache", &cmd_cache},
    {"lyapunov", "Lyapunov exponents of a model (largest or spectrum)", &cmd_lyapunov},
    {"model", "validate, show, list models or export their JIT sources", &cmd_model},
    {"plot", "PNG or SVG pictures from what run and sweep wrote (needs the Python package)", &cmd_plot},
    {"run", "simulate a model and print a summary", &cmd_run},
    {"steppers", "list steppers or show one with its settings", &cmd_steppers},
    {"sweep", "parameter sweep (1-D or 2-D) on a thread pool or MPI ranks, written to CSV", &cmd_sweep},
    {"sweep-merge", "join the shard files of a sweep into its CSV", &cmd_sweep_merge},
};

void print_usage(std::FILE* out) {
  std::fprintf(out, "usage: dynlib [--version] [--help] <command> [<args>]\n\ncommands:\n");
  for (const auto& c : kCommands) std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
  std::fprintf(out, "\nRun 'dynlib <command> --help' for the options of a command.\n");
}

}  // namespace
}  // namespace dynlib::cli

int main(int argc, char** argv) {
  using namespace dynlib::cli;
  std::vector<std::string> args(argv + 1, argv + argc);
  ignore_file_size_signal();
  if (args.empty()) {
    print_usage(stderr);
    return 2;
  }
  const std::string& first = args.front();
  if (first == "--version" || first == "-V") {
    std::printf("dynlib %s\n", DYNLIB_VERSION_STRING);
    return 0;
  }
  if (first == "--help" || first == "-h" || first == "help") {
    print_usage(stdout);
    return 0;
  }
  for (const auto& c : kCommands) {
    if (first != c.name) continue;
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    try {
      return c.fn(rest);
    } catch (const UsageError& e) {
      std::fprintf(stderr, "dynlib %s: error: %s\n", c.name, e.what());
      return 2;
    } catch (const dynlib::DynlibError& e) {
      std::fprintf(stderr, "%s\n", e.what());
      return 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "dynlib %s: internal error: %s\n", c.name, e.what());
      return 1;
    }
  }
  std::fprintf(stderr, "dynlib: unknown command '%s'\n\n", first.c_str());
  print_usage(stderr);
  return 2;
}
