// Model text shared by the benches.
#pragma once
#include <string>

namespace bench {

// Lorenz-96 with n states and forcing F as inline model text, one explicit equation per state:
//   x_i' = (x_{i+1} - x_{i-2})*x_{i-1} - x_i + F   (indices mod n), x_0(0) = 8.01, others 8.0.
// (Built with append only: GCC 12 gives -Wrestrict false positives on chained operator+.)
inline std::string lorenz96_toml(int n, double F) {
  auto x = [n](int k) {
    std::string v = "x";
    v += std::to_string(((k % n) + n) % n);
    return v;
  };
  std::string s = "inline:\n[model]\ntype = \"ode\"\nname = \"Lorenz-96\"\n[states]\n";
  for (int i = 0; i < n; ++i) {
    s += x(i);
    s += i == 0 ? " = 8.01\n" : " = 8.0\n";
  }
  s += "[params]\nF = ";
  s += std::to_string(F);
  s += "\n[equations.rhs]\n";
  for (int i = 0; i < n; ++i) {
    s += x(i);
    s += " = \"(";
    s += x(i + 1);
    s += " - ";
    s += x(i - 2);
    s += ")*";
    s += x(i - 1);
    s += " - ";
    s += x(i);
    s += " + F\"\n";
  }
  return s;
}

}  // namespace bench
