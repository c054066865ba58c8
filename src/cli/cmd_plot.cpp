// dynlib plot CSV --out FILE.png|.svg [...]: pictures from what `run` and `sweep` wrote, drawn by the
// Python package (dynlib.plot_cli on dynlib.plot). This command finds the interpreter and the package,
// checks that nobody else can change the package's code, and runs it with the arguments unchanged.
// Exit codes: those of dynlib.plot_cli (0, 1, 2), and 3 when the Python component cannot be run.
#include <fmt/format.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "cli/commands.hpp"

extern char** environ;

namespace dynlib::cli {
namespace {
namespace fs = std::filesystem;

constexpr int kExitMissing = 3;

// Puts the package folder (argv[1]) first on the module path and runs the plot command; an import
// failure (the extension, NumPy) is reported as a missing component. -I (isolated mode, set by the
// caller) keeps PYTHONPATH, the user's site-packages and the current directory out of the path.
constexpr const char* kBootstrap =
    "import sys\n"
    "pkg = sys.argv.pop(1)\n"
    "sys.path.insert(0, pkg)\n"
    "try:\n"
    "    from dynlib.plot_cli import main\n"
    "except ImportError as e:\n"
    "    sys.stderr.write('dynlib plot: error: the Python package in %s cannot be loaded by %s: %s\\n'\n"
    "                     'Set DYNLIB_PYTHON to the Python 3 dynlib was built for, with NumPy and "
    "matplotlib.\\n'\n"
    "                     % (pkg, sys.executable, e))\n"
    "    sys.exit(3)\n"
    "sys.argv[0] = 'dynlib plot'\n"
    "sys.exit(main(sys.argv[1:]))\n";

const char* kHowToGet =
    "dynlib plot draws with the Python package (Python 3, NumPy, matplotlib): build with "
    "-DDYNLIB_WITH_PYTHON=ON (scripts/install-deps.sh installs what it needs) and install it next to this "
    "program, or set DYNLIB_PYTHON to a Python 3 that has NumPy and matplotlib.";

int missing(const std::string& what) {
  std::fprintf(stderr, "dynlib plot: error: %s\n%s\n", what.c_str(), kHowToGet);
  return kExitMissing;
}

// The folder holding the package `dynlib/`: the build tree's when this is the build tree's program,
// otherwise the install's, relative to this program's folder.
std::optional<fs::path> package_root() {
  std::error_code ec;
  const fs::path exe = fs::canonical("/proc/self/exe", ec);
  if (ec) return std::nullopt;
#ifdef DYNLIB_PLOT_BUILD_BIN_DIR
  if (fs::equivalent(exe.parent_path(), DYNLIB_PLOT_BUILD_BIN_DIR, ec))
    return fs::path(DYNLIB_PLOT_BUILD_PKG_DIR);
#endif
#ifdef DYNLIB_PLOT_INSTALL_REL
  return (exe.parent_path() / DYNLIB_PLOT_INSTALL_REL).lexically_normal();
#else
  return std::nullopt;
#endif
}

// Code we run must not be changeable by another user: every file and folder of the package, and every
// folder above it, is owned by us or root and not writable by group or others (a sticky folder such as
// /tmp is fine above the package: others cannot rename what is ours in it).
std::optional<std::string> unsafe_path(const fs::path& root) {
  const auto bad = [](const fs::path& p, bool allow_sticky) -> std::optional<std::string> {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return fmt::format("'{}': {}", p.string(), std::strerror(errno));
    if (st.st_uid != ::geteuid() && st.st_uid != 0)
      return fmt::format("'{}' belongs to another user (uid {})", p.string(), st.st_uid);
    const bool sticky = allow_sticky && S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX);
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !sticky)
      return fmt::format("'{}' can be written by other users (mode {:03o})", p.string(), st.st_mode & 0777);
    return std::nullopt;
  };
  for (fs::path p = root;; p = p.parent_path()) {
    if (auto why = bad(p, p != root)) return why;
    if (p == p.parent_path()) break;
  }
  if (auto why = bad(root / "dynlib", false)) return why;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root / "dynlib", ec); !ec && it != fs::end(it);
       it.increment(ec))
    if (auto why = bad(it->path(), false)) return why;
  if (ec) return fmt::format("'{}': {}", (root / "dynlib").string(), ec.message());
  return std::nullopt;
}

}  // namespace

int cmd_plot(const std::vector<std::string>& args) {
  const char* env_python = std::getenv("DYNLIB_PYTHON");
  std::string python, python_from;
  if (env_python && *env_python) {
    python = env_python;
    python_from = " (from DYNLIB_PYTHON)";
  } else {
#ifdef DYNLIB_PLOT_PYTHON
    python = DYNLIB_PLOT_PYTHON;
#else
    return missing("this dynlib was built without the Python component.");
#endif
  }
  const auto root = package_root();
  if (!root) return missing("this dynlib was built without the Python component.");
  std::error_code ec;
  if (!fs::is_regular_file(*root / "dynlib" / "plot_cli.py", ec))
    return missing("the Python component is not installed: there is no '" +
                   (*root / "dynlib" / "plot_cli.py").string() + "'.");
  if (auto why = unsafe_path(*root)) {
    std::fprintf(stderr, "dynlib plot: error: refusing to run the Python package in '%s': %s\n",
                 root->c_str(), why->c_str());
    return 1;
  }

  std::vector<std::string> argv_s = {python, "-I", "-B", "-c", kBootstrap, root->string()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  // posix_spawnp: a name without '/' in DYNLIB_PYTHON is looked up on PATH, like a shell would.
  if (const int err = ::posix_spawnp(&pid, python.c_str(), nullptr, nullptr, argv.data(), environ))
    return missing("cannot run the Python interpreter '" + python + "'" + python_from + ": " +
                   std::strerror(err) + ".");
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) {
      std::fprintf(stderr, "dynlib plot: error: waiting for '%s': %s\n", python.c_str(),
                   std::strerror(errno));
      return 1;
    }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  std::fprintf(stderr, "dynlib plot: error: '%s' was stopped by signal %d\n", python.c_str(),
               WTERMSIG(status));
  return 1;
}

}  // namespace dynlib::cli
