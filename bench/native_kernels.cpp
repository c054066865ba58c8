// Hand-written C++ of the benchmarked algorithms, compiled with -O3 -march=native -ffp-contract=off
// (bench/CMakeLists.txt). Operation order follows dynlib's kernels exactly; see native_kernels.hpp.
#include "native_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace nk {
namespace {

// Classic RK4 exactly as kernels::StepRK4: stage = y + (0.5*dt)*k; y' = y + (dt/6)*(((k1 + 2k2) + 2k3) + k4).
// The states are autonomous here, so the stage times (computed as the kernel does) do not change bits.
template <int N, class F>
inline void rk4_step(const F& f, double t, double dt, double* y) {
  double ys[N], k1[N], k2[N], k3[N], k4[N];
  const double half = 0.5;
  f(t, y, k1);
  for (int i = 0; i < N; ++i) ys[i] = y[i] + half * dt * k1[i];
  f(t + half * dt, ys, k2);
  for (int i = 0; i < N; ++i) ys[i] = y[i] + half * dt * k2[i];
  f(t + half * dt, ys, k3);
  for (int i = 0; i < N; ++i) ys[i] = y[i] + dt * k3[i];
  f(t + dt, ys, k4);
  for (int i = 0; i < N; ++i) y[i] = y[i] + (dt / 6.0) * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
}

template <int N, class F>
inline void rk4_run(const F& f, double* yio, double dt, std::int64_t steps) {
  double y[N];
  for (int i = 0; i < N; ++i) y[i] = yio[i];
  for (std::int64_t s = 0; s < steps; ++s) rk4_step<N>(f, static_cast<double>(s) * dt, dt, y);
  for (int i = 0; i < N; ++i) yio[i] = y[i];
}

// boltzmann(Vmid, k, V) = 1.0 / (1.0 + exp((Vmid - V) / k))
inline double boltzmann(double Vmid, double k, double V) { return 1.0 / (1.0 + std::exp((Vmid - V) / k)); }
// gaussian(...) = Cbase + Camp * exp(-(Vmax - V)**2 / sigma**2), x**2 = x*x, unary minus before the division.
inline double gaussian(double Vmax, double sigma, double Camp, double Cbase, double V) {
  const double d = Vmax - V;
  return Cbase + Camp * std::exp(-(d * d) / (sigma * sigma));
}

enum HP {
  C,
  EK,
  ENa,
  EL,
  gK,
  gNa,
  gL,
  I,
  Vmid_m,
  k_m,
  Vmax_m,
  sigma_m,
  Camp_m,
  Cbase_m,
  Vmid_h,
  k_h,
  Vmax_h,
  sigma_h,
  Camp_h,
  Cbase_h,
  Vmid_n,
  k_n,
  Vmax_n,
  sigma_n,
  Camp_n,
  Cbase_n
};

struct HH {
  const double* p;
  void aux(const double* y, double* a) const {
    const double V = y[0];
    a[0] = boltzmann(p[Vmid_m], p[k_m], V);
    a[1] = boltzmann(p[Vmid_h], p[k_h], V);
    a[2] = boltzmann(p[Vmid_n], p[k_n], V);
    a[3] = gaussian(p[Vmax_m], p[sigma_m], p[Camp_m], p[Cbase_m], V);
    a[4] = gaussian(p[Vmax_h], p[sigma_h], p[Camp_h], p[Cbase_h], V);
    a[5] = gaussian(p[Vmax_n], p[sigma_n], p[Camp_n], p[Cbase_n], V);
  }
  void operator()(double, const double* y, double* d) const {
    const double V = y[0], n = y[1], m = y[2], h = y[3];
    double a[6];
    aux(y, a);
    const double m_inf = a[0], h_inf = a[1], n_inf = a[2], tau_m = a[3], tau_h = a[4], tau_n = a[5];
    const double m3 = m * m * m, n4 = (n * n) * (n * n);
    d[0] = (p[I] - p[gK] * n4 * (V - p[EK]) - p[gNa] * m3 * h * (V - p[ENa]) - p[gL] * (V - p[EL])) / p[C];
    d[1] = (n_inf - n) / tau_n;
    d[2] = (m_inf - m) / tau_m;
    d[3] = (h_inf - h) / tau_h;
  }
};

}  // namespace

void lorenz_rk4(double* y, const double* p, double dt, std::int64_t steps) {
  const double sigma = p[0], rho = p[1], beta = p[2];
  auto f = [=](double, const double* x, double* d) {
    d[0] = sigma * (x[1] - x[0]);
    d[1] = x[0] * (rho - x[2]) - x[1];
    d[2] = x[0] * x[1] - beta * x[2];
  };
  rk4_run<3>(f, y, dt, steps);
}

void l96_40_rk4(double* y, double F, double dt, std::int64_t steps) {
  constexpr int n = 40;
  auto f = [=](double, const double* x, double* d) {
    // ((x[i+1] - x[i-2]) * x[i-1] - x[i]) + F with the cyclic boundary written out.
    d[0] = (x[1] - x[n - 2]) * x[n - 1] - x[0] + F;
    d[1] = (x[2] - x[n - 1]) * x[0] - x[1] + F;
    for (int i = 2; i < n - 1; ++i) d[i] = (x[i + 1] - x[i - 2]) * x[i - 1] - x[i] + F;
    d[n - 1] = (x[0] - x[n - 3]) * x[n - 2] - x[n - 1] + F;
  };
  rk4_run<n>(f, y, dt, steps);
}

void hh_rk4(double* yio, const double* p, double dt, std::int64_t steps, double* aux_out) {
  const HH f{p};
  if (!aux_out) {
    rk4_run<4>(f, yio, dt, steps);
    return;
  }
  double y[4] = {yio[0], yio[1], yio[2], yio[3]};
  for (std::int64_t s = 0; s < steps; ++s) {
    rk4_step<4>(f, static_cast<double>(s) * dt, dt, y);
    f.aux(y, aux_out);  // what the runner's update_aux does after every committed step
  }
  for (int i = 0; i < 4; ++i) yio[i] = y[i];
}

namespace {

struct VdP {
  double mu;
  void operator()(double, const double* x, double* d) const {
    d[0] = x[1];
    d[1] = mu * (1.0 - x[0] * x[0]) * x[1] - x[0];
  }
};

constexpr int kVN = 2;

double wrms_init(const double* v, const double* y, double atol, double rtol) {
  double acc = 0.0;
  for (int i = 0; i < kVN; ++i) {
    const double q = v[i] / (atol + rtol * std::fabs(y[i]));
    acc += q * q;
  }
  return std::sqrt(acc / static_cast<double>(kVN));
}

// CompiledModel::initial_step (src/kernels/compiled_model.cpp) for rk45 (order 5), max_dt = inf.
double initial_step(const VdP& f, double t0, double t_end, const double* y0, double atol, double rtol,
                    double dt_max) {
  const double span = std::fabs(t_end - t0);
  double max_dt = std::numeric_limits<double>::infinity();
  if (std::isfinite(dt_max)) max_dt = dt_max;
  if (!(max_dt > 0)) max_dt = std::numeric_limits<double>::infinity();
  const double min_dt = 1e-16, safety = 0.01;
  double f0[kVN], f1[kVN], y1[kVN], d[kVN];
  f(t0, y0, f0);
  const double d0 = wrms_init(y0, y0, atol, rtol), d1 = wrms_init(f0, y0, atol, rtol);
  const double h0 = (d0 < 1e-5 || d1 < 1e-5) ? std::min(1e-6, span) : 0.01 * d0 / d1;
  for (int i = 0; i < kVN; ++i) y1[i] = y0[i] + h0 * f0[i];
  f(t0 + h0, y1, f1);
  for (int i = 0; i < kVN; ++i) d[i] = f1[i] - f0[i];
  const double d2 = wrms_init(d, y0, atol, rtol) / std::max(h0, min_dt);
  double h = safety * std::pow(1.0 / std::max({d1, d2, 1e-15}), 1.0 / (5 + 1));
  h = std::min(h, max_dt);
  h = std::min(h, span);
  h = std::max(h, min_dt);
  return h;
}

inline bool finite_all(const double* v) {
  bool ok = true;
  for (int i = 0; i < kVN; ++i) ok = ok && std::isfinite(v[i]);
  return ok;
}

}  // namespace

std::int64_t vdp_rk45(double* yio, double mu, double t0, double t_end, const double* cfg) {
  constexpr int n = kVN;
  constexpr double c2 = 1.0 / 5.0, c3 = 3.0 / 10.0, c4 = 4.0 / 5.0, c5 = 8.0 / 9.0;
  constexpr double a21 = 1.0 / 5.0;
  constexpr double a31 = 3.0 / 40.0, a32 = 9.0 / 40.0;
  constexpr double a41 = 44.0 / 45.0, a42 = -56.0 / 15.0, a43 = 32.0 / 9.0;
  constexpr double a51 = 19372.0 / 6561.0, a52 = -25360.0 / 2187.0, a53 = 64448.0 / 6561.0,
                   a54 = -212.0 / 729.0;
  constexpr double a61 = 9017.0 / 3168.0, a62 = -355.0 / 33.0, a63 = 46732.0 / 5247.0, a64 = 49.0 / 176.0,
                   a65 = -5103.0 / 18656.0;
  constexpr double b1 = 35.0 / 384.0, b3 = 500.0 / 1113.0, b4 = 125.0 / 192.0, b5 = -2187.0 / 6784.0,
                   b6 = 11.0 / 84.0;
  constexpr double s1 = 5179.0 / 57600.0, s3 = 7571.0 / 16695.0, s4 = 393.0 / 640.0, s5 = -92097.0 / 339200.0,
                   s6 = 187.0 / 2100.0, s7 = 1.0 / 40.0;
  constexpr double e1 = b1 - s1, e3 = b3 - s3, e4 = b4 - s4, e5 = b5 - s5, e6 = b6 - s6;

  const double atol = cfg[0], rtol = cfg[1], safety = cfg[2], min_factor = cfg[3], max_factor = cfg[4];
  const auto max_tries = static_cast<std::int64_t>(cfg[5]);
  const double min_step = cfg[6], dt_max = cfg[7];
  const VdP f{mu};

  double y[n] = {yio[0], yio[1]}, y5[n], ys[n], k1[n], k2[n], k3[n], k4[n], k5[n], k6[n], k7[n];
  double t = t0;
  double dt = initial_step(f, t0, t_end, y, atol, rtol, dt_max);
  std::int64_t steps = 0;
  bool fsal = false;
  while (t < t_end) {
    const double left = t_end - t;
    const double dtu = (dt > left && left > 0.0) ? left : dt;
    // ---- StepRK45 ----
    bool ok = true, done = false;
    double t_prop = t, dt_next = dtu;
    if (fsal) {  // k7 of the last accepted step is f(t, y) (FSAL, as the kernel)
      for (int i = 0; i < n; ++i) k1[i] = k7[i];
    } else {
      f(t, y, k1);
      if (!finite_all(k1)) {
        ok = false;
        done = true;
      }
    }
    double h = std::fmin(dtu, dt_max);
    std::int64_t tries = 0;
    const std::int64_t ntries = max_tries < 1 ? 1 : max_tries;
    while (!done && tries < ntries) {
      ++tries;
      const double hh = h;
      for (int i = 0; i < n; ++i) ys[i] = y[i] + hh * (a21 * k1[i]);
      f(t + c2 * hh, ys, k2);
      for (int i = 0; i < n; ++i) ys[i] = y[i] + hh * (a31 * k1[i] + a32 * k2[i]);
      f(t + c3 * hh, ys, k3);
      for (int i = 0; i < n; ++i) ys[i] = y[i] + hh * (a41 * k1[i] + a42 * k2[i] + a43 * k3[i]);
      f(t + c4 * hh, ys, k4);
      for (int i = 0; i < n; ++i) ys[i] = y[i] + hh * (a51 * k1[i] + a52 * k2[i] + a53 * k3[i] + a54 * k4[i]);
      f(t + c5 * hh, ys, k5);
      for (int i = 0; i < n; ++i)
        ys[i] = y[i] + hh * (a61 * k1[i] + a62 * k2[i] + a63 * k3[i] + a64 * k4[i] + a65 * k5[i]);
      f(t + hh, ys, k6);
      for (int i = 0; i < n; ++i)
        y5[i] = y[i] + hh * (b1 * k1[i] + b3 * k3[i] + b4 * k4[i] + b5 * k5[i] + b6 * k6[i]);
      f(t + hh, y5, k7);
      bool finite = finite_all(k2) && finite_all(k3) && finite_all(k4) && finite_all(k5) && finite_all(k6) &&
                    finite_all(k7) && finite_all(y5);
      double acc = 0.0;
      for (int i = 0; i < n; ++i) {
        const double ei =
            hh * std::fabs(e1 * k1[i] + e3 * k3[i] + e4 * k4[i] + e5 * k5[i] + e6 * k6[i] - s7 * k7[i]);
        const double sc = atol + rtol * std::fmax(std::fabs(y[i]), std::fabs(y5[i]));
        const double q = ei / sc;
        acc = acc + q * q;
      }
      const double err = std::sqrt(acc / static_cast<double>(n));
      finite = finite && std::isfinite(err);
      if (!finite) {
        if (hh <= min_step) {
          ok = false;
          done = true;
        } else
          h = std::fmax(hh * min_factor, min_step);
      } else if (err <= 1.0 || hh <= min_step) {
        t_prop = t + hh;
        const double fac = std::fmin(std::fmax(safety * std::pow(err, -1.0 / 5.0), min_factor), max_factor);
        const double dn = err == 0.0 ? hh * max_factor : hh * fac;
        dt_next = std::fmin(dn, dt_max);
        done = true;
        fsal = true;
      } else {
        h = hh * std::fmax(min_factor, safety * std::pow(err, -1.0 / 4.0));
        if (h < min_step) {
          ok = false;
          done = true;
        }
      }
    }
    if (!done || !ok) return -1;
    // ---- runner commit ----
    for (int i = 0; i < n; ++i) y[i] = y5[i];
    t = t_prop;
    dt = dt_next;
    ++steps;
  }
  yio[0] = y[0];
  yio[1] = y[1];
  return steps;
}

void logistic(double* y, double r, std::int64_t steps) {
  double x = y[0];
  for (std::int64_t s = 0; s < steps; ++s) x = r * x * (1.0 - x);
  y[0] = x;
}

void henon(double* y, double a, double b, std::int64_t steps) {
  double x = y[0], v = y[1];
  for (std::int64_t s = 0; s < steps; ++s) {
    const double xn = 1.0 - a * (x * x) + v;
    v = b * x;
    x = xn;
  }
  y[0] = x;
  y[1] = v;
}

// CPython's float %: the result has the sign of the divisor (as kernels/pymath.hpp).
inline double py_mod(double v, double w) {
  double m = std::fmod(v, w);
  if (m != 0.0) {
    if ((w < 0) != (m < 0)) m += w;
  } else {
    m = std::copysign(0.0, w);
  }
  return m;
}

void standard(double* y, double K, std::int64_t steps) {
  const double pi = 3.141592653589793, two_pi = 2.0 * 3.141592653589793;
  double p = y[0], th = y[1];
  for (std::int64_t s = 0; s < steps; ++s) {
    const double pn = py_mod((p + K * std::sin(th)) + pi, two_pi) - pi;
    const double tn = py_mod(th + p + K * std::sin(th), two_pi);
    p = pn;
    th = tn;
  }
  y[0] = p;
  y[1] = th;
}

}  // namespace nk
