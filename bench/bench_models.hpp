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

// A harmonic oscillator with n threshold events (each counts its up-crossings of x in a parameter):
// a runner with n event conditions and actions.
inline std::string many_events_toml(int n) {
  std::string s =
      "inline:\n[model]\ntype = \"ode\"\nname = \"many events\"\n[states]\nx = 1.0\ny = 0.0\n[params]\nhits "
      "= "
      "0.0\n[equations.rhs]\nx = \"y\"\ny = \"-x\"\n";
  for (int i = 0; i < n; ++i) {
    s += "[events.e";
    s += std::to_string(i);
    s += "]\ncond = \"cross_up(x, ";
    s += std::to_string(-0.9 + 1.8 * i / n);
    s += ")\"\naction = \"hits = hits + 1\"\n";
  }
  s += "[sim]\nt_end = 10.0\ndt = 0.01\n";
  return s;
}

// n states coupled through their lagged values: x_i' = a*(lag_x_{i+1}(1) - x_i) (indices mod n), so
// the runner keeps n lag rings.
inline std::string lagged_states_toml(int n) {
  std::string s = "inline:\n[model]\ntype = \"ode\"\nname = \"lagged states\"\n[states]\n";
  for (int i = 0; i < n; ++i) {
    s += "x";
    s += std::to_string(i);
    s += " = ";
    s += std::to_string(0.1 + 0.5 * i / n);
    s += "\n";
  }
  s += "[params]\na = 0.5\n[equations.rhs]\n";
  for (int i = 0; i < n; ++i) {
    s += "x";
    s += std::to_string(i);
    s += " = \"a*(lag_x";
    s += std::to_string((i + 1) % n);
    s += "(1) - x";
    s += std::to_string(i);
    s += ")\"\n";
  }
  s += "[sim]\nt_end = 1.0\ndt = 0.01\n";
  return s;
}

// The 2-D Brusselator on an N x N periodic grid (2*N*N states), as in Hairer and Wanner's BRUSS-2D:
//   u' = 1 + u^2 v - 4.4 u + alpha N^2 Laplace(u),   v' = 3.4 u - u^2 v + alpha N^2 Laplace(v),
// five-point Laplacian, u(0) = 0.5 + y, v(0) = 1 + 5 x on the grid points (x, y) = (i/N, j/N).
inline std::string brusselator2d_toml(int N, double alpha) {
  auto at = [N](const char* f, int i, int j) {
    std::string v = f;
    v += std::to_string(((i % N) + N) % N);
    v += "_";
    v += std::to_string(((j % N) + N) % N);
    return v;
  };
  auto laplace = [&](const char* f, int i, int j) {
    std::string l = "(";
    l += at(f, i + 1, j);
    l += " + ";
    l += at(f, i - 1, j);
    l += " + ";
    l += at(f, i, j + 1);
    l += " + ";
    l += at(f, i, j - 1);
    l += " - 4*";
    l += at(f, i, j);
    l += ")";
    return l;
  };
  std::string s = "inline:\n[model]\ntype = \"ode\"\nname = \"Brusselator 2D\"\n[states]\n";
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < N; ++j) {
      s += at("u", i, j);
      s += " = ";
      s += std::to_string(0.5 + static_cast<double>(j) / N);
      s += "\n";
    }
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < N; ++j) {
      s += at("v", i, j);
      s += " = ";
      s += std::to_string(1.0 + 5.0 * i / N);
      s += "\n";
    }
  s += "[params]\nc = ";
  s += std::to_string(alpha * N * N);
  s += "\n[equations.rhs]\n";
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < N; ++j) {
      const std::string u = at("u", i, j), v = at("v", i, j);
      s += u;
      s += " = \"1 + ";
      s += u;
      s += "^2*";
      s += v;
      s += " - 4.4*";
      s += u;
      s += " + c*";
      s += laplace("u", i, j);
      s += "\"\n";
    }
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < N; ++j) {
      const std::string u = at("u", i, j), v = at("v", i, j);
      s += v;
      s += " = \"3.4*";
      s += u;
      s += " - ";
      s += u;
      s += "^2*";
      s += v;
      s += " + c*";
      s += laplace("v", i, j);
      s += "\"\n";
    }
  s += "[sim]\nt_end = 1.0\ndt = 0.01\nstepper = \"rk45\"\n";
  return s;
}

}  // namespace bench
