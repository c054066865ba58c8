// Bifurcation diagram of the logistic map: a 1-D sweep of r over [2.5, 4] on a thread pool, keeping
// the last 64 iterates of every point, written to CSV (plot x against r).
//   usage: logistic_bifurcation [out.csv]
#include <cmath>
#include <cstdio>
#include <dynlib/dynlib.hpp>
#include <set>
#include <string>

int main(int argc, char** argv) {
  const std::string out = argc > 1 ? argv[1] : "logistic_bifurcation.csv";
  auto fm = dynlib::build("builtin://map/logistic");
  auto sw = dynlib::sweep(fm, {dynlib::SweepAxis::linspace("r", 2.5, 4.0, 601)},
                          {.N = 1064, .transient = 1000, .record_last = 64}, {.ic = {{"x", 0.1234}}});
  sw.write_csv(out);
  std::printf("%zu points on %u threads in %.3f s\n", sw.nx(), sw.batch.threads, sw.batch.seconds);
  for (std::size_t i : {120u, 280u, 400u, 560u}) {  // r = 2.8, 3.2, 3.5, 3.9
    std::set<long long> distinct;
    for (double x : sw.at(i).series[0]) distinct.insert(std::llround(x * 1e6));
    const double r = sw.axes[0].values[i];
    if (distinct.size() <= 16)
      std::printf("r=%.2f: period %zu\n", r, distinct.size());
    else
      std::printf("r=%.2f: chaotic (%zu distinct values)\n", r, distinct.size());
  }
  std::printf("wrote %s\n", out.c_str());
  return 0;
}
