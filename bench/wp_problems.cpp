// Test problems of the work-precision bench; see wp_problems.hpp. The model text and the C++ right-hand
// sides write the same formulas in the same order.
#include "wp_problems.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace wp {
namespace {

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  std::string s = buf;
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

// Model text: states (name, initial value) in order, then one rhs string per state.
std::string model_text(const std::string& name, const std::vector<std::string>& states,
                       const std::vector<double>& y0, const std::vector<std::string>& rhs, double t_end) {
  std::string s = "inline:\n[model]\ntype = \"ode\"\nname = \"";
  s += name;
  s += "\"\n[states]\n";
  for (std::size_t i = 0; i < states.size(); ++i) {
    s += states[i];
    s += " = ";
    s += num(y0[i]);
    s += "\n";
  }
  s += "[equations.rhs]\n";
  for (std::size_t i = 0; i < states.size(); ++i) {
    s += states[i];
    s += " = \"";
    s += rhs[i];
    s += "\"\n";
  }
  s += "[sim]\nt_end = ";
  s += num(t_end);
  s += "\n";
  return s;
}

// ---- Arenstorf orbit: restricted three-body problem, one period (y(T) = y(0)) ----
constexpr double kArenMu = 0.012277471;
constexpr double kArenT = 17.0652165601579625588917206249;
template <class T>
void arenstorf(T, const T* y, T* d) {
  const T mu = T(kArenMu), mup = T(1) - mu;
  const T d1 = std::pow((y[0] + mu) * (y[0] + mu) + y[1] * y[1], T(1.5));
  const T d2 = std::pow((y[0] - mup) * (y[0] - mup) + y[1] * y[1], T(1.5));
  d[0] = y[2];
  d[1] = y[3];
  d[2] = y[0] + T(2) * y[3] - mup * (y[0] + mu) / d1 - mu * (y[0] - mup) / d2;
  d[3] = y[1] - T(2) * y[2] - mup * y[1] / d1 - mu * y[1] / d2;
}

Problem make_arenstorf() {
  Problem p;
  p.key = "arenstorf";
  p.title = "Arenstorf orbit (4, t=T)";
  p.n = 4;
  p.t_end = kArenT;
  p.y0 = {0.994, 0.0, 0.0, -2.00158510637908252240537862224};
  // The orbit is periodic, but y(T) differs from y(0) by about 1e-11 once y0 and T are rounded to double
  // (the orbit passes close to the moon and amplifies the rounding): --make-reference, long double run
  // from the rounded values.
  p.ref = {0.99399999999997546, -8.4242338821470899e-14, -1.3685670108395946e-11, -2.0015851063829069};
  p.ref_source = "own run: RK7(8) in long double at 1e-17 (y(T) = y(0) to 1e-11)";
  p.rhs = &arenstorf<double>;
  p.rhs_long = &arenstorf<long double>;
  const std::string mu = num(kArenMu), mup = "(1.0 - " + mu + ")";
  const std::string d1 = "((y1 + " + mu + ")*(y1 + " + mu + ") + y2*y2)**1.5";
  const std::string d2 = "((y1 - " + mup + ")*(y1 - " + mup + ") + y2*y2)**1.5";
  p.model = model_text(
      "Arenstorf orbit", {"y1", "y2", "v1", "v2"}, p.y0,
      {"v1", "v2",
       "y1 + 2.0*v2 - " + mup + "*(y1 + " + mu + ")/" + d1 + " - " + mu + "*(y1 - " + mup + ")/" + d2,
       "y2 - 2.0*v1 - " + mup + "*y2/" + d1 + " - " + mu + "*y2/" + d2},
      p.t_end);
  return p;
}

// ---- Pleiades: 7 bodies in the plane, masses m_j = j; state x(7), y(7), x'(7), y'(7) ----
template <class T>
void pleiades(T, const T* y, T* d) {
  for (int i = 0; i < 14; ++i) d[i] = y[14 + i];
  for (int i = 0; i < 7; ++i) {
    T ax = 0, ay = 0;
    for (int j = 0; j < 7; ++j) {
      if (j == i) continue;
      const T dx = y[j] - y[i], dy = y[7 + j] - y[7 + i];
      const T r = std::pow(dx * dx + dy * dy, T(1.5));
      ax += T(j + 1) * dx / r;
      ay += T(j + 1) * dy / r;
    }
    d[14 + i] = ax;
    d[21 + i] = ay;
  }
}

Problem make_pleiades() {
  Problem p;
  p.key = "pleiades";
  p.title = "Pleiades (28, t=3)";
  p.n = 28;
  p.t_end = 3.0;
  p.y0 = {3, 3, -1, -3, 2, -2, 2, 3, -3, 2, 0, 0, -4, 4, 0, 0, 0, 0, 0, 1.75, -1.5, 0, 0, 0, -1.25, 1, 0, 0};
  // IVPTestSuite.jl plei.jl; its 13th entry is printed there as -2429682344935824 (a lost "0.").
  p.ref = {0.3706139143970502,  3.237284092057233,   -3.222559032418324,  0.6597091455775310,
           0.3425581707156584,  1.562172101400631,   -0.7003092922212495, -3.943437585517392,
           -3.271380973972550,  5.225081843456543,   -2.590612434977470,  1.198213693392275,
           -0.2429682344935824, 1.091449240428980,   3.417003806314313,   1.354584501625501,
           -2.590065597810775,  2.025053734714242,   -1.155815100160448,  -0.8072988170223021,
           0.5952396354208710,  -3.741244961234010,  0.3773459685750630,  0.9386858869551073,
           0.3667922227200571,  -0.3474046353808490, 2.344915448180937,   -1.947020434263292};
  p.ref_source = "test set (IVPTestSuite.jl plei.jl, 13th entry corrected)";
  p.rhs = &pleiades<double>;
  p.rhs_long = &pleiades<long double>;
  std::vector<std::string> names, rhs;
  const char* groups[] = {"x", "y", "vx", "vy"};
  for (const char* g : groups)
    for (int i = 1; i <= 7; ++i) names.push_back(g + std::to_string(i));
  for (int i = 0; i < 14; ++i) rhs.push_back(names[static_cast<std::size_t>(14 + i)]);
  for (int axis = 0; axis < 2; ++axis)
    for (int i = 1; i <= 7; ++i) {
      std::string e;
      bool first = true;
      for (int j = 1; j <= 7; ++j) {
        if (j == i) continue;
        const std::string xi = "x" + std::to_string(i), xj = "x" + std::to_string(j);
        const std::string yi = "y" + std::to_string(i), yj = "y" + std::to_string(j);
        const std::string own = axis == 0 ? "(" + xj + " - " + xi + ")" : "(" + yj + " - " + yi + ")";
        e += first ? "" : " + ";
        e += num(j) + "*" + own + "/((" + xj + " - " + xi + ")*(" + xj + " - " + xi + ") + (" + yj + " - " +
             yi + ")*(" + yj + " - " + yi + "))**1.5";
        first = false;
      }
      rhs.push_back(e);
    }
  p.model = model_text("Pleiades", names, p.y0, rhs, p.t_end);
  return p;
}

// ---- Lorenz, classic parameters, short horizon ----
template <class T>
void lorenz(T, const T* y, T* d) {
  const T sigma = 10, rho = 28, beta = T(8) / T(3);
  d[0] = sigma * (y[1] - y[0]);
  d[1] = y[0] * (rho - y[2]) - y[1];
  d[2] = y[0] * y[1] - beta * y[2];
}

Problem make_lorenz() {
  Problem p;
  p.key = "lorenz";
  p.title = "Lorenz (3, t=5)";
  p.n = 3;
  p.t_end = 5.0;
  p.y0 = {1.0, 1.0, 1.0};
  // --make-reference: odeint runge_kutta_fehlberg78 in long double, atol = rtol = 1e-17.
  p.ref = {-6.5121136994195989, -6.9740427884170764, 23.924129572103372};
  p.ref_source = "own run: RK7(8) in long double at 1e-17";
  p.rhs = &lorenz<double>;
  p.rhs_long = &lorenz<long double>;
  p.model = model_text("Lorenz", {"x", "y", "z"}, p.y0,
                       {"10.0*(y - x)", "x*(28.0 - z) - y", "x*y - (8.0/3.0)*z"}, p.t_end);
  return p;
}

// ---- Van der Pol, mu = 1000 ----
template <class T>
void vdp(T, const T* y, T* d) {
  const T mu = 1000;
  d[0] = y[1];
  d[1] = mu * (T(1) - y[0] * y[0]) * y[1] - y[0];
}

Problem make_vdp() {
  Problem p;
  p.key = "vdp";
  p.title = "Van der Pol mu=1000 (2, t=3000)";
  p.n = 2;
  p.t_end = 3000.0;
  p.y0 = {2.0, 0.0};
  p.ref = {-1.510606936744095, 1.178380000730945e-3};
  p.ref_source = "test set (unscaled form)";
  p.stiff = true;
  p.rhs = &vdp<double>;
  p.rhs_long = &vdp<long double>;
  p.model = model_text("Van der Pol mu=1000", {"x", "y"}, p.y0, {"y", "1000.0*(1.0 - x*x)*y - x"}, p.t_end);
  return p;
}

// ---- Robertson chemical kinetics ----
template <class T>
void rober(T, const T* y, T* d) {
  d[0] = T(-0.04) * y[0] + T(10000.0) * y[1] * y[2];
  d[1] = T(0.04) * y[0] - T(10000.0) * y[1] * y[2] - T(30000000.0) * y[1] * y[1];
  d[2] = T(30000000.0) * y[1] * y[1];
}

Problem make_rober() {
  Problem p;
  p.key = "rober";
  p.title = "Robertson (3, t=40)";
  p.n = 3;
  p.t_end = 40.0;
  p.y0 = {1.0, 0.0, 0.0};
  // --make-reference: odeint runge_kutta_fehlberg78 in long double, atol = rtol = 1e-17.
  p.ref = {0.71582706871940505, 9.1855347645597531e-06, 0.28416374574583037};
  p.ref_source = "own run: RK7(8) in long double at 1e-17";
  p.atol_scale = 1e-6;  // y2 is about 1e-5
  p.stiff = true;
  p.rhs = &rober<double>;
  p.rhs_long = &rober<long double>;
  p.model = model_text(
      "Robertson", {"y1", "y2", "y3"}, p.y0,
      {"-0.04*y1 + 10000.0*y2*y3", "0.04*y1 - 10000.0*y2*y3 - 30000000.0*y2*y2", "30000000.0*y2*y2"},
      p.t_end);
  return p;
}

// ---- HIRES: plant physiology, 8 states ----
template <class T>
void hires(T, const T* y, T* d) {
  d[0] = T(-1.71) * y[0] + T(0.43) * y[1] + T(8.32) * y[2] + T(0.0007);
  d[1] = T(1.71) * y[0] - T(8.75) * y[1];
  d[2] = T(-10.03) * y[2] + T(0.43) * y[3] + T(0.035) * y[4];
  d[3] = T(8.32) * y[1] + T(1.71) * y[2] - T(1.12) * y[3];
  d[4] = T(-1.745) * y[4] + T(0.43) * y[5] + T(0.43) * y[6];
  d[5] = T(-280.0) * y[5] * y[7] + T(0.69) * y[3] + T(1.71) * y[4] - T(0.43) * y[5] + T(0.69) * y[6];
  d[6] = T(280.0) * y[5] * y[7] - T(1.81) * y[6];
  d[7] = -(T(280.0) * y[5] * y[7] - T(1.81) * y[6]);
}

Problem make_hires() {
  Problem p;
  p.key = "hires";
  p.title = "HIRES (8, t=321.8122)";
  p.n = 8;
  p.t_end = 321.8122;
  p.y0 = {1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0057};
  p.ref = {7.37131257332567e-4, 1.44248572631618e-4,  5.8887297409676e-5,   1.175651343283149e-3,
           2.38635619883133e-3, 6.238968252742796e-3, 2.849998395185769e-3, 2.850001604814231e-3};
  p.ref_source = "test set (hwode hir_exact.txt)";
  p.atol_scale = 1e-4;  // components down to 6e-5
  p.stiff = true;
  p.rhs = &hires<double>;
  p.rhs_long = &hires<long double>;
  p.model =
      model_text("HIRES", {"y1", "y2", "y3", "y4", "y5", "y6", "y7", "y8"}, p.y0,
                 {"-1.71*y1 + 0.43*y2 + 8.32*y3 + 0.0007", "1.71*y1 - 8.75*y2",
                  "-10.03*y3 + 0.43*y4 + 0.035*y5", "8.32*y2 + 1.71*y3 - 1.12*y4",
                  "-1.745*y5 + 0.43*y6 + 0.43*y7", "-280.0*y6*y8 + 0.69*y4 + 1.71*y5 - 0.43*y6 + 0.69*y7",
                  "280.0*y6*y8 - 1.81*y7", "-(280.0*y6*y8 - 1.81*y7)"},
                 p.t_end);
  return p;
}

// ---- OREGO: Oregonator ----
template <class T>
void orego(T, const T* y, T* d) {
  d[0] = T(77.27) * (y[1] + y[0] * (T(1) - T(8.375e-6) * y[0] - y[1]));
  d[1] = (y[2] - (T(1) + y[0]) * y[1]) / T(77.27);
  d[2] = T(0.161) * (y[0] - y[2]);
}

Problem make_orego() {
  Problem p;
  p.key = "orego";
  p.title = "OREGO (3, t=360)";
  p.n = 3;
  p.t_end = 360.0;
  p.y0 = {1.0, 2.0, 3.0};
  p.ref = {1.000814870318523, 1228.178521549889, 132.0554942846513};
  p.ref_source = "test set (hwode ore_exact.txt)";
  p.stiff = true;
  p.rhs = &orego<double>;
  p.rhs_long = &orego<long double>;
  p.model = model_text(
      "OREGO", {"y1", "y2", "y3"}, p.y0,
      {"77.27*(y2 + y1*(1.0 - 8.375e-6*y1 - y2))", "(y3 - (1.0 + y1)*y2)/77.27", "0.161*(y1 - y3)"}, p.t_end);
  return p;
}

// ---- Brusselator with diffusion in 2-D, N x N periodic grid (the test set's BRUSS-2D, N = 32) ----
constexpr int kBrN = 32, kBrNN = kBrN * kBrN;
constexpr double kBrAlphaNN = 0.1 * kBrNN;  // alpha * N^2
bool bruss_in_disc(int ix, int iy) {        // 1-based grid indices, as the test set
  const double xx = ix / double(kBrN), yy = iy / double(kBrN);
  return (xx - 0.3) * (xx - 0.3) + (yy - 0.6) * (yy - 0.6) <= 0.1 * 0.1;
}
int bruss_index(int ix, int iy) { return ((iy + kBrN) % kBrN) * kBrN + (ix + kBrN) % kBrN; }  // 0-based

template <class T>
void bruss(T t, const T* y, T* d) {
  const T* u = y;
  const T* v = y + kBrNN;
  const T bet = t >= T(1.1) ? T(5) : T(0);
  const T a = T(kBrAlphaNN);
  for (int iy = 0; iy < kBrN; ++iy)
    for (int ix = 0; ix < kBrN; ++ix) {
      const int i = bruss_index(ix, iy), l = bruss_index(ix - 1, iy), r = bruss_index(ix + 1, iy),
                lo = bruss_index(ix, iy - 1), up = bruss_index(ix, iy + 1);
      const T uij = u[i], vij = v[i];
      d[i] = T(1) + uij * uij * vij - T(4.4) * uij + a * (u[l] + u[r] + u[lo] + u[up] - T(4) * uij);
      d[kBrNN + i] = T(3.4) * uij - uij * uij * vij + a * (v[l] + v[r] + v[lo] + v[up] - T(4) * vij);
      if (bruss_in_disc(ix + 1, iy + 1)) d[i] += bet;
    }
}

Problem make_bruss(const std::string& ref_path) {
  Problem p;
  p.key = "bruss2d";
  p.title = "Brusselator 2-D N=32 (2048, t=10)";
  p.n = 2 * kBrNN;
  p.t_end = 10.0;
  p.y0.resize(static_cast<std::size_t>(p.n));
  for (int iy = 0; iy < kBrN; ++iy)
    for (int ix = 0; ix < kBrN; ++ix) {
      const double yy = iy / double(kBrN), xx = ix / double(kBrN);
      p.y0[static_cast<std::size_t>(bruss_index(ix, iy))] = 22.0 * yy * std::pow(1.0 - yy, 1.5);
      p.y0[static_cast<std::size_t>(kBrNN + bruss_index(ix, iy))] = 27.0 * xx * std::pow(1.0 - xx, 1.5);
    }
  p.stiff = true;
  p.rhs = &bruss<double>;
  p.rhs_long = &bruss<long double>;
  p.breaks = {1.1};
  std::ifstream in(ref_path);
  double v = 0.0;
  while (in >> v) p.ref.push_back(v);
  if (static_cast<int>(p.ref.size()) != p.n) p.ref.clear();
  p.ref_source = p.ref.empty() ? "none (cannot read " + ref_path + ")"
                               : "own run: RK7(8) in long double at 1e-17 (" + ref_path + ")";
  std::vector<std::string> names, rhs;
  auto un = [](int i) { return "u" + std::to_string(i); };
  auto vn = [](int i) { return "v" + std::to_string(i); };
  for (int i = 0; i < kBrNN; ++i) names.push_back(un(i));
  for (int i = 0; i < kBrNN; ++i) names.push_back(vn(i));
  rhs.resize(static_cast<std::size_t>(p.n));
  const std::string a = num(kBrAlphaNN);
  for (int iy = 0; iy < kBrN; ++iy)
    for (int ix = 0; ix < kBrN; ++ix) {
      const int i = bruss_index(ix, iy), l = bruss_index(ix - 1, iy), r = bruss_index(ix + 1, iy),
                lo = bruss_index(ix, iy - 1), up = bruss_index(ix, iy + 1);
      const std::string u = un(i), w = vn(i);
      std::string eu = "1.0 + " + u + "*" + u + "*" + w + " - 4.4*" + u + " + " + a + "*(" + un(l) + " + " +
                       un(r) + " + " + un(lo) + " + " + un(up) + " - 4.0*" + u + ")";
      if (bruss_in_disc(ix + 1, iy + 1)) eu += " + (5.0 if t >= 1.1 else 0.0)";
      rhs[static_cast<std::size_t>(i)] = eu;
      rhs[static_cast<std::size_t>(kBrNN + i)] = "3.4*" + u + " - " + u + "*" + u + "*" + w + " + " + a +
                                                 "*(" + vn(l) + " + " + vn(r) + " + " + vn(lo) + " + " +
                                                 vn(up) + " - 4.0*" + w + ")";
    }
  p.model = model_text("Brusselator 2-D", names, p.y0, rhs, p.t_end);
  return p;
}

}  // namespace

std::vector<Problem> all_problems(const std::string& bruss_ref_path) {
  return {make_arenstorf(), make_pleiades(), make_lorenz(), make_vdp(),
          make_rober(),     make_hires(),    make_orego(),  make_bruss(bruss_ref_path)};
}

double mixed_error(const Problem& p, const std::vector<double>& y) {
  if (p.ref.empty() || y.size() != p.ref.size()) return NAN;
  double e = 0.0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double d = std::fabs(y[i] - p.ref[i]) / (p.atol_scale + std::fabs(p.ref[i]));
    if (std::isnan(d)) return NAN;
    e = std::max(e, d);
  }
  return e;
}

}  // namespace wp
