// Work-precision bench: dynlib's adaptive steppers (JIT-compiled, through the public API) side by side with
// SUNDIALS CVODE and Boost.Odeint on non-stiff and stiff test problems, over a ladder of tolerances. For
// each solve: wall time of the solve alone (min of k runs), steps, right-hand side evaluations, and the
// error at the end time against a stored reference solution. Prints a table per problem, the time each
// solver needs at matched error relative to the best anchor, and writes the curves as an SVG picture.
// See bench/README.md ("work_precision").
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <dynlib/dynlib.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "steppers_catalogue/stepper_registry.hpp"
#include "svg_plot.hpp"
#include "wp_anchors.hpp"
#include "wp_problems.hpp"

namespace wp {
namespace {
bool g_thread_cpu_time = false;
}
void use_thread_cpu_time(bool on) { g_thread_cpu_time = on; }
double solve_clock_seconds() {
  if (g_thread_cpu_time) {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  }
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}
}  // namespace wp

namespace {

using wp::Clock;
using wp::Problem;
using wp::SolveStats;

const char* const kUsage = R"(usage: work_precision [options]
  --steppers LIST   dynlib steppers, comma-separated (default rk45,bdf2a,tr-bdf2a,tsit5,dop853,vern9,
                    rodas5p,rodas4,radau5,bdf); a name this build does not know is skipped with a note
  --anchors LIST    cvode-bdf,cvode-adams,odeint-dopri5,odeint-dopri5-dense,odeint-rosenbrock4,odeint-bs
                    (default: all), or "none"
  --problems LIST   arenstorf,pleiades,lorenz,vdp,rober,hires,orego,bruss2d (default: all)
  --tols LIST       tolerances (default 1e-4,1e-5,...,1e-10); rtol = tol, atol = tol * the problem's scale
  --reps K          repetitions of a solve, the minimum time is kept (default 3; repeats stop after 2 s)
  --median          keep the median time of the repetitions instead of the minimum (steadier ratios on a
                    busy machine, with --cpu-time and --reps 7 or more)
  --budget S        seconds one solve may take before it is stopped as TIMEOUT (default 5)
  --setup-budget S  seconds a dynlib setup (with the optimising JIT compile) may take before that stepper
                    is skipped for the problem (default 60)
  --max-steps N     step limit of one solve (default 10000000)
  --svg PATH        write the work-precision curves as an SVG picture
  --interp          dynlib without the JIT (interpreter), e.g. where the JIT component is absent
  --cpu-time        time the solves with this thread's CPU time instead of wall time (steadier numbers
                    on a machine busy with other work)
  --quick           smoke run: lorenz, tol 1e-6, 1 repetition
  --bruss-ref PATH  the stored Brusselator reference (default: the bench's references/bruss2d.txt)
  --make-reference DIR
                    recompute the references in long double (Odeint RK7(8) at 1e-17) into DIR/<key>.txt
                    and print how far the stored ones are from them; no benchmark
)";

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (c != ' ') {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

struct Options {
  std::vector<std::string> steppers = {"rk45",  "bdf2a",   "tr-bdf2a", "tsit5",  "dop853",
                                       "vern9", "rodas5p", "rodas4",   "radau5", "bdf"};
  std::vector<std::string> anchors = {"cvode-bdf",           "cvode-adams",        "odeint-dopri5",
                                      "odeint-dopri5-dense", "odeint-rosenbrock4", "odeint-bs"};
  std::vector<std::string> problems;  // empty: all
  std::vector<double> tols = {1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10};
  int reps = 3;
  bool median = false;  // median of the repetitions instead of the minimum
  double budget_s = 5.0;
  double setup_budget_s = 60.0;
  std::int64_t max_steps = 10000000;
  std::string svg, bruss_ref = DYNLIB_WP_REFERENCE_DIR "/bruss2d.txt", make_reference;
  bool jit = true;
  bool cpu_time = false;
};

[[noreturn]] void usage_error(const std::string& msg) {
  std::fprintf(stderr, "work_precision: %s\n%s", msg.c_str(), kUsage);
  std::exit(2);
}

double parse_double(const std::string& opt, const std::string& v) {
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !std::isfinite(x) || x <= 0)
    usage_error(opt + ": '" + v + "' is not a positive number");
  return x;
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--steppers") {
      o.steppers = split(value());
    } else if (a == "--anchors") {
      const std::string v = value();
      o.anchors = v == "none" ? std::vector<std::string>{} : split(v);
    } else if (a == "--problems") {
      o.problems = split(value());
    } else if (a == "--tols") {
      o.tols.clear();
      for (const auto& t : split(value())) o.tols.push_back(parse_double(a, t));
    } else if (a == "--median") {
      o.median = true;
    } else if (a == "--reps") {
      o.reps = static_cast<int>(parse_double(a, value()));
    } else if (a == "--budget") {
      o.budget_s = parse_double(a, value());
    } else if (a == "--setup-budget") {
      o.setup_budget_s = parse_double(a, value());
    } else if (a == "--max-steps") {
      o.max_steps = static_cast<std::int64_t>(parse_double(a, value()));
    } else if (a == "--svg") {
      o.svg = value();
    } else if (a == "--interp") {
      o.jit = false;
    } else if (a == "--cpu-time") {
      o.cpu_time = true;
    } else if (a == "--quick") {
      o.problems = {"lorenz"};
      o.tols = {1e-6};
      o.reps = 1;
    } else if (a == "--bruss-ref") {
      o.bruss_ref = value();
    } else if (a == "--make-reference") {
      o.make_reference = value();
    } else if (a == "-h" || a == "--help") {
      std::printf("%s", kUsage);
      std::exit(0);
    } else {
      usage_error("unknown option '" + a + "'");
    }
  }
  for (const auto& an : o.anchors)
    if (an != "cvode-bdf" && an != "cvode-adams" && an != "odeint-dopri5" && an != "odeint-dopri5-dense" &&
        an != "odeint-rosenbrock4" && an != "odeint-bs")
      usage_error("--anchors: unknown anchor '" + an + "'");
  return o;
}

// Stops a dynlib run that exceeds its time budget: one background thread, armed around each solve.
class Watchdog {
 public:
  Watchdog() : thread_([this] { loop(); }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lk(m_);
      quit_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void arm(dynlib::Sim* sim, Clock::time_point deadline) {
    {
      std::lock_guard<std::mutex> lk(m_);
      sim_ = sim;
      deadline_ = deadline;
      fired_ = false;
    }
    cv_.notify_all();
  }
  bool disarm() {  // true if it fired
    std::lock_guard<std::mutex> lk(m_);
    sim_ = nullptr;
    return fired_;
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> lk(m_);
    while (!quit_) {
      if (!sim_) {
        cv_.wait(lk);
        continue;
      }
      if (cv_.wait_until(lk, deadline_) == std::cv_status::timeout && sim_ && Clock::now() >= deadline_) {
        sim_->request_break();
        fired_ = true;
        sim_ = nullptr;
      }
    }
  }
  std::mutex m_;
  std::condition_variable cv_;
  dynlib::Sim* sim_ = nullptr;
  Clock::time_point deadline_;
  bool fired_ = false, quit_ = false;
  std::thread thread_;
};

// One solver under test: prepare() once per problem (setup time), solve() once per tolerance.
struct Solver {
  std::string name;
  bool anchor = false;
  std::function<std::string(const Problem&, double& setup_ms)> prepare;  // "" = ready, else why it is skipped
  std::function<SolveStats(const Problem&, double rtol, double atol, const wp::Budget&)> solve;
  double setup_ms = NAN;
};

// The work counters of a dynlib stepper that keeps them (StepperInfo::work_counters_at): read from a
// snapshot of the session, the one public place that shows the int workspace.
void read_work_counters(const dynlib::Sim& sim, int at, SolveStats& s) {
  if (at < 0) return;
  const auto path =
      std::filesystem::temp_directory_path() / ("dynlib_wp_" + std::to_string(getpid()) + ".snap");
  try {
    sim.save_snapshot(path);
  } catch (const std::exception&) {
    return;
  }
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("iws ", 0) != 0) continue;
    std::istringstream ls(line.substr(4));
    std::size_t count = 0;
    ls >> count;
    std::vector<std::int64_t> v(count);
    for (auto& x : v) ls >> x;
    const auto k = static_cast<std::size_t>(at);
    if (ls && k + 2 < v.size()) {
      s.rhs = v[k];
      s.jac = v[k + 1];
      s.lu = v[k + 2];
    }
  }
  std::error_code ec;
  std::filesystem::remove(path, ec);
}

struct DynlibSolver {
  std::string stepper;
  bool jit = true;
  double setup_budget_s = 60.0;
  bool abandoned_compile = false;  // a background compile was left running (see main's exit)
  int counters_at = -1;
  std::optional<dynlib::Sim> sim;
  Watchdog* dog = nullptr;

  std::string prepare(const Problem& p, double& setup_ms) {
    sim.reset();
    const auto t0 = Clock::now();
    try {
      sim.emplace(dynlib::setup(p.model, {.stepper = stepper, .jit = jit, .disk_cache = false}));
      // Time the optimised code, not tiered compilation's baseline; but do not wait for ever: a compile
      // that takes longer than the setup budget is left running and the stepper skipped.
      const auto limit =
          t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(setup_budget_s));
      while (sim->model().jit_tier() == "baseline" && Clock::now() < limit)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (sim->model().jit_tier() == "baseline") {
        abandoned_compile = true;
        char buf[160];
        std::snprintf(buf, sizeof buf,
                      "skipped: the optimising JIT compile took more than %g s (--setup-budget)",
                      setup_budget_s);
        return buf;
      }
      sim->model().wait_optimized();  // returns at once; throws if the optimising compile failed
    } catch (const dynlib::JITUnavailableError& e) {
      return std::string("JIT unavailable (") + e.what() + "); run with --interp to use the interpreter";
    } catch (const std::exception& e) {
      std::string m = e.what();
      if (m.size() > 200) m = m.substr(0, 197) + "...";
      return "setup failed: " + m;
    }
    setup_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    return "";
  }

  SolveStats solve(const Problem& p, double rtol, double atol, const wp::Budget& b) {
    SolveStats s;
    sim->reset();
    dog->arm(&*sim, b.deadline);
    const double t0 = wp::solve_clock_seconds();
    try {
      const auto st = sim->run({.T = p.t_end,
                                .dt = 1e-6,  // cap on the first step, as the Odeint anchors' first step
                                .record = false,
                                .max_steps = b.max_steps,
                                .stepper = {{"atol", atol}, {"rtol", rtol}}});
      if (st == dynlib::Status::USER_BREAK)
        s.status = "TIMEOUT";
      else if (st != dynlib::Status::DONE)
        s.status = dynlib::status_name(st);
    } catch (const dynlib::SimulationError& e) {
      s.status = dynlib::status_name(e.status());
      s.detail = e.what();
    } catch (const std::exception& e) {
      s.status = "ERROR";
      s.detail = e.what();
    }
    s.seconds = wp::solve_clock_seconds() - t0;
    if (dog->disarm() && s.status.empty()) s.status = "TIMEOUT";
    s.steps = sim->step_count();
    s.y = sim->state_vector();
    read_work_counters(*sim, counters_at, s);
    return s;
  }
};

struct Point {
  double tol = 0, time_s = NAN, error = NAN;
  SolveStats stats;
};

std::string fmt_count(std::int64_t v) { return v < 0 ? "-" : std::to_string(v); }

// log10(time) at log10(error) = le, interpolated along the solver's curve in tolerance order (a curve
// need not be monotone: an explicit method on a stiff problem takes about the same time at every
// tolerance). Where several segments reach that error, the fastest counts. nullopt outside the curve (no
// extrapolation).
std::optional<double> time_at_error(const std::vector<Point>& pts, double le) {
  std::vector<std::pair<double, double>> c;  // (log error, log time) in tolerance order
  for (const auto& p : pts)
    if (p.stats.status.empty() && std::isfinite(p.error) && p.error > 0 && p.time_s > 0)
      c.emplace_back(std::log10(p.error), std::log10(p.time_s));
  std::optional<double> best;
  auto take = [&](double t) {
    if (!best || t < *best) best = t;
  };
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (std::fabs(c[i].first - le) < 1e-12) take(c[i].second);
    if (i + 1 == c.size()) break;
    const auto [e0, t0] = c[i];
    const auto [e1, t1] = c[i + 1];
    if ((le - e0) * (le - e1) < 0) take(t0 + (le - e0) / (e1 - e0) * (t1 - t0));
  }
  return best;
}

void print_matched(const std::vector<Solver>& solvers, const std::vector<std::vector<Point>>& curves) {
  // Target errors: whole decades where at least one anchor has data.
  double lo = INFINITY, hi = -INFINITY;
  for (std::size_t k = 0; k < solvers.size(); ++k)
    for (const auto& pt : curves[k])
      if (solvers[k].anchor && pt.stats.status.empty() && pt.error > 0 && std::isfinite(pt.error)) {
        lo = std::min(lo, std::log10(pt.error));
        hi = std::max(hi, std::log10(pt.error));
      }
  if (!(lo <= hi)) {
    std::printf("  time at matched error: no anchor data\n");
    return;
  }
  std::vector<int> targets;
  for (int e = static_cast<int>(std::ceil(lo)); e <= static_cast<int>(std::floor(hi)); ++e)
    targets.push_back(e);
  if (targets.empty()) {
    std::printf("  time at matched error: the anchors' errors span less than a decade\n");
    return;
  }
  std::printf(
      "\n  time at matched error / best anchor's time at that error (interpolated log-log; >1 = slower)\n");
  std::printf("  %-24s", "solver \\ error");
  for (int e : targets) std::printf(" %9s", ("1e" + std::to_string(e)).c_str());
  std::printf("\n");
  std::vector<std::optional<double>> best(targets.size());
  std::vector<std::string> best_name(targets.size());
  for (std::size_t j = 0; j < targets.size(); ++j)
    for (std::size_t k = 0; k < solvers.size(); ++k) {
      if (!solvers[k].anchor) continue;
      const auto t = time_at_error(curves[k], targets[j]);
      if (t && (!best[j] || *t < *best[j])) {
        best[j] = t;
        best_name[j] = solvers[k].name;
      }
    }
  for (std::size_t k = 0; k < solvers.size(); ++k) {
    if (curves[k].empty()) continue;
    std::printf("  %-24s", solvers[k].name.c_str());
    for (std::size_t j = 0; j < targets.size(); ++j) {
      const auto t = time_at_error(curves[k], targets[j]);
      if (t && best[j])
        std::printf(" %8.2fx", std::pow(10.0, *t - *best[j]));
      else
        std::printf(" %9s", "-");
    }
    std::printf("\n");
  }
  std::printf("  %-24s", "(best anchor, ms)");
  for (std::size_t j = 0; j < targets.size(); ++j)
    if (best[j])
      std::printf(" %9.3g", std::pow(10.0, *best[j]) * 1e3);
    else
      std::printf(" %9s", "-");
  std::printf("\n  best anchor per column:");
  for (std::size_t j = 0; j < targets.size(); ++j) std::printf(" %s", best[j] ? best_name[j].c_str() : "-");
  std::printf("\n");
}

int make_references(const Options& o, const std::vector<Problem>& problems) {
  std::filesystem::create_directories(o.make_reference);
  for (const auto& p : problems) {
    if (!o.problems.empty() && std::find(o.problems.begin(), o.problems.end(), p.key) == o.problems.end())
      continue;
    const auto t0 = Clock::now();
    const auto ref = wp::reference_solve(p, 1e-17L);
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    if (ref.empty()) {
      std::printf("%-10s no long double reference possible (built without Boost?)\n", p.key.c_str());
      continue;
    }
    const std::string path = o.make_reference + "/" + p.key + ".txt";
    std::ofstream out(path);
    std::vector<double> d(ref.begin(), ref.end());
    for (long double v : ref) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g\n", static_cast<double>(v));
      out << buf;
    }
    std::printf("%-10s %.1f s -> %s; mixed difference to the stored reference: %.3g\n", p.key.c_str(), secs,
                path.c_str(), wp::mixed_error(p, d));
    if (p.n <= 8) {
      std::printf("           {");
      for (std::size_t i = 0; i < d.size(); ++i) std::printf("%s%.17g", i ? ", " : "", d[i]);
      std::printf("}\n");
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse_args(argc, argv);
  wp::use_thread_cpu_time(o.cpu_time);
  // dop853 warns when a problem looks stiff (Van der Pol, ROBER, ...): expected here, so not printed.
  dynlib::set_warning_handler([](std::string_view m) {
    if (m.find("looks stiff") == std::string_view::npos)
      std::fprintf(stderr, "dynlib: warning: %.*s\n", static_cast<int>(m.size()), m.data());
  });
  std::vector<Problem> problems = wp::all_problems(o.bruss_ref);
  for (const auto& k : o.problems)
    if (std::none_of(problems.begin(), problems.end(), [&](const Problem& p) { return p.key == k; }))
      usage_error("--problems: unknown problem '" + k + "'");
  if (!o.make_reference.empty()) return make_references(o, problems);

  Watchdog dog;
  std::vector<std::string> notes;
  // Anchors first: a JIT compile that outlives its setup budget keeps a core busy until the process ends,
  // so the anchors are timed before any dynlib setup of the problem.
  std::vector<Solver> solvers, dynlib_solvers;
  std::vector<std::shared_ptr<DynlibSolver>> dynlib_states;
  for (const auto& name : o.steppers) {
    const auto* info = dynlib::kernels::find_stepper(name);
    if (!info) {
      notes.push_back("stepper '" + name + "' is not in this build: skipped");
      continue;
    }
    if (!info->adaptive || info->kind != dynlib::ir::Kind::ode) {
      notes.push_back("stepper '" + name + "' is not an adaptive ODE stepper: skipped");
      continue;
    }
    auto d = std::make_shared<DynlibSolver>();
    d->stepper = info->name;
    d->jit = o.jit;
    d->setup_budget_s = o.setup_budget_s;
    d->counters_at = info->work_counters_at;
    d->dog = &dog;
    dynlib_states.push_back(d);
    Solver s;
    s.name = "dynlib " + info->name;
    s.prepare = [d](const Problem& p, double& setup_ms) { return d->prepare(p, setup_ms); };
    s.solve = [d](const Problem& p, double r, double a, const wp::Budget& b) { return d->solve(p, r, a, b); };
    dynlib_solvers.push_back(std::move(s));
  }
  auto add_anchor = [&](const std::string& name, bool available, const char* why,
                        std::function<SolveStats(const Problem&, double, double, const wp::Budget&)> f) {
    if (std::find(o.anchors.begin(), o.anchors.end(), name) == o.anchors.end()) return;
    if (!available) {
      notes.push_back("anchor '" + name + "' skipped: " + why);
      return;
    }
    Solver s;
    s.name = name;
    s.anchor = true;
    if (name == "odeint-rosenbrock4")  // dense uBLAS LU, O(n^3) per step without blocking
      s.prepare = [](const Problem& p, double&) {
        return p.n > 256 ? std::string("skipped: dense uBLAS LU per step is impractical for this size") : "";
      };
    else
      s.prepare = [](const Problem&, double&) { return std::string(); };
    s.solve = std::move(f);
    solvers.push_back(std::move(s));
  };
  const bool cv = wp::have_cvode(), oi = wp::have_odeint();
  const char* no_cv = "built without SUNDIALS CVODE (install libsundials-dev and reconfigure)";
  const char* no_oi = "built without Boost.Odeint (install libboost-dev and reconfigure)";
  using wp::CvodeMethod;
  using wp::OdeintMethod;
  add_anchor("cvode-bdf", cv, no_cv, [](auto& p, double r, double a, auto& b) {
    return wp::cvode_solve(p, CvodeMethod::bdf, r, a, b);
  });
  add_anchor("cvode-adams", cv, no_cv, [](auto& p, double r, double a, auto& b) {
    return wp::cvode_solve(p, CvodeMethod::adams, r, a, b);
  });
  add_anchor("odeint-dopri5", oi, no_oi, [](auto& p, double r, double a, auto& b) {
    return wp::odeint_solve(p, OdeintMethod::dopri5_controlled, r, a, b);
  });
  add_anchor("odeint-dopri5-dense", oi, no_oi, [](auto& p, double r, double a, auto& b) {
    return wp::odeint_solve(p, OdeintMethod::dopri5_dense, r, a, b);
  });
  add_anchor("odeint-rosenbrock4", oi, no_oi, [](auto& p, double r, double a, auto& b) {
    return wp::odeint_solve(p, OdeintMethod::rosenbrock4, r, a, b);
  });
  add_anchor("odeint-bs", oi, no_oi, [](auto& p, double r, double a, auto& b) {
    return wp::odeint_solve(p, OdeintMethod::bulirsch_stoer, r, a, b);
  });
  for (auto& s : dynlib_solvers) solvers.push_back(std::move(s));

  const auto run_start = Clock::now();
  std::printf(
      "work_precision: %zu solvers, %zu tolerances, %s of %d runs, budget %g s per solve, dynlib %s, %s\n",
      solvers.size(), o.tols.size(), o.median ? "median" : "min", o.reps, o.budget_s,
      o.jit ? "JIT" : "interpreter", o.cpu_time ? "thread CPU time" : "wall time");
  for (const auto& n : notes) std::printf("note: %s\n", n.c_str());
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) > 0) std::printf("load average %.2f %.2f %.2f\n", load[0], load[1], load[2]);

  svgplot::Chart chart;
  chart.title = "Work-precision: wall time of the solve vs error at the end time";
  chart.x_label = "error (mixed, max over components)";
  chart.y_label = "time [s]";
  for (const auto& p : problems) {
    if (!o.problems.empty() && std::find(o.problems.begin(), o.problems.end(), p.key) == o.problems.end())
      continue;
    std::printf("\n== %s ==\n", p.title.c_str());
    std::printf(
        "  reference: %s\n  error = max_i |y_i - ref_i| / (%g + |ref_i|);  rtol = tol, atol = %g * tol\n",
        p.ref_source.c_str(), p.atol_scale, p.atol_scale);
    std::printf("  %-24s %7s %11s %10s %10s %8s %8s %10s  %s\n", "solver", "tol", "time ms", "steps", "rhs",
                "jac", "lu", "error", "status");
    std::vector<std::vector<Point>> curves(solvers.size());
    svgplot::Panel panel;
    panel.title = p.title;
    for (std::size_t k = 0; k < solvers.size(); ++k) {
      Solver& s = solvers[k];
      s.setup_ms = NAN;
      const std::string skip = s.prepare(p, s.setup_ms);
      if (!skip.empty()) {
        std::printf("  %-24s %s\n", s.name.c_str(), skip.c_str());
        continue;
      }
      if (std::isfinite(s.setup_ms)) std::printf("  %-24s setup %.1f ms\n", s.name.c_str(), s.setup_ms);
      std::string stop_reason;
      for (double tol : o.tols) {
        if (!stop_reason.empty()) {
          std::printf("  %-24s %7.0e %11s  skipped (%s at a looser tolerance)\n", s.name.c_str(), tol, "",
                      stop_reason.c_str());
          continue;
        }
        const double rtol = tol, atol = tol * p.atol_scale;
        Point pt;
        pt.tol = tol;
        double total = 0.0;
        std::vector<double> times;
        for (int r = 0; r < std::max(1, o.reps); ++r) {
          const wp::Budget b{Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                std::chrono::duration<double>(o.budget_s)),
                             o.max_steps};
          const double t0 = wp::solve_clock_seconds();
          SolveStats st = s.solve(p, rtol, atol, b);
          const double secs = st.seconds >= 0 ? st.seconds : wp::solve_clock_seconds() - t0;
          total += secs;
          times.push_back(secs);
          if (!(pt.time_s <= secs)) pt.time_s = secs;
          pt.stats = std::move(st);
          if (!pt.stats.status.empty() || total > 2.0) break;
        }
        if (o.median && !times.empty()) {  // the upper median for an even count
          std::sort(times.begin(), times.end());
          pt.time_s = times[times.size() / 2];
        }
        pt.error = wp::mixed_error(p, pt.stats.y);
        if (!pt.stats.status.empty()) {
          std::printf("  %-24s %7.0e %11s %10s %10s %8s %8s %10s  %s%s%s\n", s.name.c_str(), tol, "-",
                      fmt_count(pt.stats.steps).c_str(), fmt_count(pt.stats.rhs).c_str(), "-", "-", "-",
                      pt.stats.status.c_str(), pt.stats.detail.empty() ? "" : ": ",
                      pt.stats.detail.substr(0, 100).c_str());
          if (pt.stats.status == "TIMEOUT" || pt.stats.status == "MAX_STEPS") stop_reason = pt.stats.status;
        } else {
          std::printf("  %-24s %7.0e %11.3f %10s %10s %8s %8s %10.2e\n", s.name.c_str(), tol, pt.time_s * 1e3,
                      fmt_count(pt.stats.steps).c_str(), fmt_count(pt.stats.rhs).c_str(),
                      fmt_count(pt.stats.jac).c_str(), fmt_count(pt.stats.lu).c_str(), pt.error);
        }
        std::fflush(stdout);
        curves[k].push_back(std::move(pt));
      }
      svgplot::Series series{s.name, {}, s.anchor};
      for (const auto& pt : curves[k])
        if (pt.stats.status.empty()) series.xy.emplace_back(pt.error, pt.time_s);
      panel.series.push_back(std::move(series));
    }
    print_matched(solvers, curves);
    chart.panels.push_back(std::move(panel));
  }
  std::printf("\ntotal wall time %.1f s\n", std::chrono::duration<double>(Clock::now() - run_start).count());
  if (!o.svg.empty()) {
    std::ofstream out(o.svg);
    out << svgplot::render(chart);
    if (!out) {
      std::fprintf(stderr, "work_precision: cannot write '%s'\n", o.svg.c_str());
      return 1;
    }
    std::printf("wrote %s\n", o.svg.c_str());
  }
  if (std::any_of(dynlib_states.begin(), dynlib_states.end(),
                  [](const auto& d) { return d->abandoned_compile; })) {
    // A background compile is still running: leave without static destructors pulling LLVM away under it.
    std::fflush(nullptr);
    std::_Exit(0);
  }
  return 0;
}
