// Symbolic Jacobians (src/model/derive.hpp): rules, simplification, the derived Jacobian of every builtin
// model against its hand-written [equations.jacobian] and against central finite differences.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <dynlib/model.hpp>
#include <random>
#include <string>
#include <vector>

#include "model/derive.hpp"
#include "model/lower_helper.hpp"

namespace ir = dynlib::ir;
using dynlib::model::derive_jacobian;
using dynlib::model::differentiate;
using dynlib::test::EvalEnv;

namespace {

// Full evaluator (eval_helper.hpp's supports only a subset of the functions); same semantics.
double E(const ir::Expr& e, EvalEnv& env) {
  using ir::Fn;
  using ir::Op;
  if (e->op != Op::Call) {
    if (e->op == Op::Sum || e->op == Op::Prod) {
      const auto start = static_cast<std::int64_t>(E(e->args[0], env)),
                 stop = static_cast<std::int64_t>(E(e->args[1], env)),
                 step = static_cast<std::int64_t>(E(e->args[2], env));
      double acc = e->op == Op::Sum ? 0.0 : 1.0;
      for (std::int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
        env.loop.at(static_cast<std::size_t>(e->index)) = static_cast<double>(i);
        bool ok = true;
        for (std::size_t c = 4; c < e->args.size(); ++c) ok = ok && E(e->args[c], env) != 0.0;
        if (!ok) continue;
        const double v = E(e->args[3], env);
        acc = e->op == Op::Sum ? acc + v : acc * v;
      }
      return acc;
    }
    if (e->args.empty()) return dynlib::test::eval(e, env);
    auto a = [&](std::size_t i) { return E(e->args[i], env); };
    switch (e->op) {
      case Op::Neg:
        return -a(0);
      case Op::Not:
        return a(0) != 0.0 ? 0.0 : 1.0;
      case Op::Add:
        return a(0) + a(1);
      case Op::Sub:
        return a(0) - a(1);
      case Op::Mul:
        return a(0) * a(1);
      case Op::Div:
        return a(0) / a(1);
      case Op::FloorDiv:
        return dynlib::test::py_floordiv(a(0), a(1));
      case Op::Mod:
        return dynlib::test::py_mod(a(0), a(1));
      case Op::Pow:
        return std::pow(a(0), a(1));
      case Op::Lt:
        return a(0) < a(1);
      case Op::Le:
        return a(0) <= a(1);
      case Op::Gt:
        return a(0) > a(1);
      case Op::Ge:
        return a(0) >= a(1);
      case Op::Eq:
        return a(0) == a(1);
      case Op::Ne:
        return a(0) != a(1);
      case Op::And: {
        const double x = a(0);
        return x != 0.0 ? a(1) : x;
      }
      case Op::Or: {
        const double x = a(0);
        return x != 0.0 ? x : a(1);
      }
      case Op::Select:
        return a(0) != 0.0 ? a(1) : a(2);
      default:
        throw std::runtime_error("E: bad op");
    }
  }
  std::vector<double> v;
  for (const auto& x : e->args) v.push_back(E(x, env));
  switch (e->fn) {
    case Fn::abs:
      return std::fabs(v[0]);
    case Fn::min: {
      double m = v[0];
      for (std::size_t i = 1; i < v.size(); ++i) m = v[i] < m ? v[i] : m;
      return m;
    }
    case Fn::max: {
      double m = v[0];
      for (std::size_t i = 1; i < v.size(); ++i) m = v[i] > m ? v[i] : m;
      return m;
    }
    case Fn::round:
      return std::nearbyint(v[0]);
    case Fn::exp:
      return std::exp(v[0]);
    case Fn::expm1:
      return std::expm1(v[0]);
    case Fn::log:
      return std::log(v[0]);
    case Fn::log10:
      return std::log10(v[0]);
    case Fn::log2:
      return std::log2(v[0]);
    case Fn::log1p:
      return std::log1p(v[0]);
    case Fn::sqrt:
      return std::sqrt(v[0]);
    case Fn::sin:
      return std::sin(v[0]);
    case Fn::cos:
      return std::cos(v[0]);
    case Fn::tan:
      return std::tan(v[0]);
    case Fn::asin:
      return std::asin(v[0]);
    case Fn::acos:
      return std::acos(v[0]);
    case Fn::atan:
      return std::atan(v[0]);
    case Fn::atan2:
      return std::atan2(v[0], v[1]);
    case Fn::sinh:
      return std::sinh(v[0]);
    case Fn::cosh:
      return std::cosh(v[0]);
    case Fn::tanh:
      return std::tanh(v[0]);
    case Fn::asinh:
      return std::asinh(v[0]);
    case Fn::acosh:
      return std::acosh(v[0]);
    case Fn::atanh:
      return std::atanh(v[0]);
    case Fn::floor:
      return std::floor(v[0]);
    case Fn::ceil:
      return std::ceil(v[0]);
    case Fn::trunc:
      return std::trunc(v[0]);
    case Fn::hypot:
      return std::hypot(v[0], v[1]);
    case Fn::copysign:
      return std::copysign(v[0], v[1]);
    case Fn::erf:
      return std::erf(v[0]);
    case Fn::erfc:
      return std::erfc(v[0]);
    case Fn::pow:
      return std::pow(v[0], v[1]);
    case Fn::to_int:
      return std::trunc(v[0]);
    case Fn::to_float:
      return v[0];
    case Fn::to_bool:
      return v[0] != 0.0;
  }
  throw std::runtime_error("E: bad fn");
}

double at(const ir::Expr& e, const ir::ModelIR& m, const std::vector<double>& y) {
  EvalEnv env;
  env.y = y;
  env.p = m.param_vals;
  return E(e, env);
}

// Central difference of rhs_i w.r.t. x_j at y; `smooth` is false if the one-sided differences disagree
// (a kink or a jump between y-h and y+h: abs at 0, mod wrap, a branch switch).
double fd(const ir::ModelIR& m, std::size_t i, std::size_t j, std::vector<double> y, bool& smooth) {
  const double h = 1e-6 * std::max(1.0, std::fabs(y[j]));
  const double y0 = y[j];
  const double f0 = at(m.rhs[i], m, y);
  y[j] = y0 + h;
  const double fp = at(m.rhs[i], m, y);
  y[j] = y0 - h;
  const double fm = at(m.rhs[i], m, y);
  const double fwd = (fp - f0) / h, bwd = (f0 - fm) / h;
  smooth = std::isfinite(fwd) && std::isfinite(bwd) &&
           std::fabs(fwd - bwd) <= 1e-3 * (1.0 + std::max(std::fabs(fwd), std::fabs(bwd)));
  return (fp - fm) / (2 * h);
}

// |d - fd| within ~1e-5 relative, allowing for the rounding of f itself (eps*|f|/h).
bool fd_close(double d, double f, double rhs_mag, double yj) {
  const double h = 1e-6 * std::max(1.0, std::fabs(yj));
  return std::fabs(d - f) <= 1e-5 * (1.0 + std::fabs(d)) + 1e-9 * rhs_mag / h;
}

// d(rhs_0)/dx_j of `x = text` in expr_model (x=3, y=-2, a=0.5, b=4) vs finite differences at y.
void check_fd_expr(const ir::ModelIR& m, const std::vector<double>& y) {
  for (std::size_t j = 0; j < 2; ++j) {
    const ir::Expr d = differentiate(m.rhs[0], static_cast<int>(j));
    REQUIRE(d != nullptr);
    bool smooth = true;
    const double f = fd(m, 0, j, y, smooth);
    INFO("d/d" << m.states[j] << " = " << ir::to_string(d, m) << " at (" << y[0] << ", " << y[1] << ")");
    REQUIRE(smooth);
    const double dv = at(d, m, y);
    CHECK(fd_close(dv, f, std::fabs(at(m.rhs[0], m, y)), y[j]));
  }
}

void check_fd_text(const std::string& text, std::vector<std::vector<double>> points = {}) {
  INFO(text);
  const auto m = dynlib::test::expr_model(text).lower();
  if (points.empty()) points = {{3.0, -2.0}, {0.7, 1.3}, {-1.1, 0.4}};
  for (const auto& y : points) check_fd_expr(m, y);
}

std::string dshow(const std::string& text, int j) {
  const auto m = dynlib::test::expr_model(text).lower();
  const ir::Expr d = differentiate(m.rhs[0], j);
  return d ? ir::to_string(d, m) : std::string("<none>");
}

double dval(const std::string& text, int j, std::vector<double> y = {3.0, -2.0}) {
  const auto m = dynlib::test::expr_model(text).lower();
  const ir::Expr d = differentiate(m.rhs[0], j);
  REQUIRE(d != nullptr);
  return at(d, m, y);
}

}  // namespace

TEST_CASE("derive: polynomials, products and quotients", "[derive]") {
  CHECK(dval("x**3 + 2*x*y - y**2", 0) == 23.0);  // 3x^2 + 2y
  CHECK(dval("x**3 + 2*x*y - y**2", 1) == 10.0);  // 2x - 2y
  CHECK(dval("x**5", 0) == 5 * 81.0);
  CHECK(dval("1/x**2", 0) == Approx(-2.0 / 27));
  CHECK(dval("x/y", 0) == -0.5);
  CHECK(dval("x/y", 1) == Approx(-3.0 / 4));
  CHECK(dval("-x*a + b", 0) == -0.5);
  check_fd_text("x**3 + 2*x*y - y**2");
  check_fd_text("(x*y - 1)/(x*x + y*y + 1)");
  check_fd_text("x**7 - 3*x**4*y**3 + x**-3");
}

TEST_CASE("derive: simplification keeps results compact", "[derive]") {
  CHECK(dshow("a*x", 0) == "a");
  CHECK(dshow("a*x", 1) == "0.0");
  CHECK(dshow("2*x + 3*y + 1", 0) == "2.0");
  CHECK(dshow("x + y", 1) == "1.0");
  CHECK(dshow("b - y", 1) == "-1.0");
  CHECK(dshow("x*y", 0) == "y");
  CHECK(dshow("sin(x)", 0) == "cos(x)");
  CHECK(dshow("t + a + lag_x(1)", 0) == "0.0");
  CHECK(dshow("x if y > 0 else x", 0) == "1.0");  // Select with identical branches
}

TEST_CASE("derive: exp/log/trig chains and every function against finite differences", "[derive]") {
  check_fd_text("exp(sin(x*y)) + log(x**2 + y**2) / sqrt(x*x + 1)");
  check_fd_text("cos(a*x)*tanh(y) - sinh(x/4)*cosh(y/3)");
  const std::vector<std::vector<double>> small = {{0.3, -0.2}, {-0.45, 0.6}, {0.1, 0.25}};
  for (const char* f : {"expm1(x*y)",
                        "log10(x*x + y*y)",
                        "log2(x*x + 1)",
                        "log1p(x*x*y*y)",
                        "tan(x*y)",
                        "asin(x*y)",
                        "acos(x + y)",
                        "atan(x/y)",
                        "atan2(y, x)",
                        "atan2(x*x, y)",
                        "asinh(x*y)",
                        "acosh(2 + x*x)",
                        "atanh(x*y)",
                        "erf(x - y)",
                        "erfc(x*y)",
                        "hypot(x, y)",
                        "copysign(x*x + 1, y)",
                        "float(x*y)",
                        "pow(x*x + 1, y)",
                        "pow(x*x + 1, 2.5)",
                        "math.log(x*x + 2, 3)"})
    check_fd_text(f, small);
}

TEST_CASE("derive: powers with constant, parameter and variable exponents", "[derive]") {
  CHECK(dval("x**0.5", 0) == Approx(0.5 / std::sqrt(3.0)));
  CHECK(dval("x**a", 0) == Approx(0.5 / std::sqrt(3.0)));
  CHECK(dshow("x**a", 0) == "a * x ** (a - 1.0)");
  // d(x**y)/dy = x**y*log(x); d(x**y)/dx = y*x**(y-1) via the general rule
  CHECK(dval("x**y", 1) == Approx(std::pow(3.0, -2.0) * std::log(3.0)));
  CHECK(dval("x**y", 0) == Approx(-2.0 * std::pow(3.0, -3.0)));
  check_fd_text("(x*x + 1)**(a*y)");
  check_fd_text("x**x", {{3.0, -2.0}, {0.7, 1.3}, {1.5, 0.4}});
  check_fd_text("2**(x*y) + x**2.5", {{3.0, -2.0}, {0.7, 1.3}, {1.5, 0.4}});
}

TEST_CASE("derive: Select, and/or, min/max, abs pick the selected branch", "[derive]") {
  CHECK(dval("x*x if x > y else y*y", 0) == 6.0);
  CHECK(dval("x*x if x > y else y*y", 1) == 0.0);
  CHECK(dval("x*x if x < y else y*y", 1) == -4.0);
  CHECK(dval("min(x, y, 1)", 1) == 1.0);
  CHECK(dval("min(x, y, 1)", 0) == 0.0);
  CHECK(dval("min(x, 5*y, y)", 1) == 5.0);
  CHECK(dval("max(x*x, y, 1)", 0) == 6.0);
  CHECK(dval("max(1, y)", 1) == 0.0);
  CHECK(dval("min(x, x)", 0) == 1.0);  // tie: the earlier argument
  CHECK(dval("abs(y)", 1) == -1.0);
  CHECK(dval("abs(x)", 0) == 1.0);
  CHECK(dval("abs(x)", 0, {0.0, 1.0}) == 0.0);  // sign(0) = 0
  CHECK(dval("relu(y)", 1) == 0.0);
  CHECK(dval("clip(x*y, -10, 10)", 0) == -2.0);
  CHECK(dval("clip(x*y, -1, 10)", 0) == 0.0);
  // and/or: Python value semantics
  CHECK(dval("(x > 0) and y*y", 1) == -4.0);
  CHECK(dval("(x < 0) and y*y", 1) == 0.0);
  CHECK(dval("x*y or y", 0) == -2.0);
  CHECK(dval("(x - 3) or y*x", 0) == -2.0);
  check_fd_text("x*x if x > y else sin(y)");
  check_fd_text("max(x*y, x - y, -5)");
}

TEST_CASE("derive: piecewise-constant parts are zero, mod keeps the slope", "[derive]") {
  CHECK(dshow("floor(x) + ceil(y) + round(x) + trunc(y) + int(x) + bool(y)", 0) == "0.0");
  CHECK(dshow("x // 2 + (x > y) + (not x) + sign(x) + heaviside(x)", 0) == "0.0");
  CHECK(dval("x % 2.0", 0) == 1.0);
  CHECK(dval("(x*x) % (2*pi)", 0) == 6.0);
  CHECK(dval("x % y", 1) == Approx(-dynlib::test::py_floordiv(3.0, -2.0)));  // a' - (a//b)*b'
  check_fd_text("(x*y) % (x + 4.5)", {{3.0, -2.0}, {0.7, 1.3}});
}

TEST_CASE("derive: sum loops, inlined functions and aux, prod falls back", "[derive]") {
  CHECK(dval("sum(x**i for i in range(4))", 0) == 34.0);  // 1 + 2x + 3x^2
  CHECK(dval("sum(i*x*y for i in range(5) if i != 2)", 1) == 24.0);
  CHECK(dshow("sum(a*i for i in range(3))", 0) == "0.0");
  check_fd_text("sum(sin(i*x) * sum(y**j for j in range(i)) for i in range(1, 4))");

  auto b = dynlib::test::expr_model("f(x*y) + g");
  b.fn("f", {"u"}, "u*u + sin(u)").aux("g", "exp(x) * y");
  const auto m = b.lower();
  REQUIRE(m.derived_jacobian);
  EvalEnv env;
  env.y = m.state_ic;
  env.p = m.param_vals;
  const double u = 3.0 * -2.0;
  CHECK(E((*m.derived_jacobian)[0][0], env) == Approx((2 * u + std::cos(u)) * -2.0 + std::exp(3.0) * -2.0));
  CHECK(E((*m.derived_jacobian)[0][1], env) == Approx((2 * u + std::cos(u)) * 3.0 + std::exp(3.0)));
  CHECK(dshow("y", 0) == "0.0");

  // prod over a body depending on the state: not symbolic; the whole derived Jacobian is absent.
  CHECK(dshow("prod(x + i for i in range(3))", 0) == "<none>");
  CHECK(dshow("prod(a + i for i in range(3)) * x", 0) != "<none>");
  CHECK_FALSE(dynlib::test::expr_model("prod(x + i for i in range(3))").lower().derived_jacobian);
}

TEST_CASE("derive: the model's own Jacobian wins; derived is not hashed", "[derive]") {
  const auto m = dynlib::test::expr_model("x*y").lower();
  REQUIRE(m.derived_jacobian);
  CHECK_FALSE(m.jacobian);
  CHECK(m.exact_jacobian() == &*m.derived_jacobian);
  ir::ModelIR copy = m;
  copy.derived_jacobian.reset();
  CHECK(ir::compute_hash(copy) == m.hash);
  CHECK(copy.exact_jacobian() == nullptr);

  auto lz = dynlib::load_model("builtin://ode/lorenz");
  REQUIRE(lz->jacobian);
  CHECK_FALSE(lz->derived_jacobian);
  CHECK(lz->exact_jacobian() == &*lz->jacobian);
}

TEST_CASE("derive: derived Jacobians agree with the hand-written ones of the builtin models",
          "[derive][builtin]") {
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> U(-1.0, 1.0);
  int n_models = 0;
  for (const auto& name : dynlib::builtin_model_names()) {
    auto m = dynlib::load_model("builtin://" + name);
    if (!m->jacobian) continue;
    INFO(name);
    ++n_models;
    const auto J = derive_jacobian(*m);
    REQUIRE(J);
    const std::size_t n = m->n_states();
    for (int trial = 0; trial < 8; ++trial) {
      std::vector<double> y(n);
      for (std::size_t k = 0; k < n; ++k)
        y[k] = m->state_ic[k] + 2.0 * U(rng) * (1.0 + std::fabs(m->state_ic[k]));
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j) {
          const double a = at((*J)[i][j], *m, y), h = at((*m->jacobian)[i][j], *m, y);
          INFO("J[" << i << "][" << j << "] derived " << ir::to_string((*J)[i][j], *m) << " = " << a
                    << ", hand-written " << ir::to_string((*m->jacobian)[i][j], *m) << " = " << h);
          CHECK(std::fabs(a - h) <= 1e-10 * std::max({1.0, std::fabs(a), std::fabs(h)}));
        }
    }
  }
  CHECK(n_models >= 8);
}

TEST_CASE("derive: every builtin model has an exact Jacobian that agrees with finite differences",
          "[derive][builtin]") {
  std::mt19937_64 rng(777);
  std::uniform_real_distribution<double> U(-1.0, 1.0);
  for (const auto& name : dynlib::builtin_model_names()) {
    auto m = dynlib::load_model("builtin://" + name);
    INFO(name);
    REQUIRE(m->exact_jacobian() != nullptr);
    const auto J = derive_jacobian(*m);  // also for models with their own
    REQUIRE(J);
    const std::size_t n = m->n_states();
    int checked = 0, skipped = 0;
    for (int trial = 0; trial < 6; ++trial) {
      std::vector<double> y = m->state_ic;
      if (trial > 0)
        for (std::size_t k = 0; k < n; ++k) y[k] += 0.05 * trial * U(rng) * (1.0 + std::fabs(y[k]));
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j) {
          bool smooth = true;
          const double f = fd(*m, i, j, y, smooth);
          if (!smooth) {
            ++skipped;
            continue;
          }
          const double d = at((*J)[i][j], *m, y);
          INFO("J[" << i << "][" << j << "] = " << ir::to_string((*J)[i][j], *m) << " = " << d << ", fd "
                    << f);
          CHECK(fd_close(d, f, std::fabs(at(m->rhs[i], *m, y)), y[j]));
          ++checked;
        }
    }
    CHECK(checked >= static_cast<int>(n * n * 3));
  }
}

// Beyond 256 states the dense symbolic Jacobian is not built (finite differences are used instead).
TEST_CASE("derive: no symbolic Jacobian for models with more than 256 states") {
  auto decay_model = [](int n) {
    std::string text = "inline:\n[model]\ntype='ode'\n[states]\n";
    for (int i = 0; i < n; ++i) text += "x" + std::to_string(i) + " = 1.0\n";
    text += "[equations.rhs]\n";
    for (int i = 0; i < n; ++i)
      text += "x" + std::to_string(i) + " = '-x" + std::to_string(i) + " + x" + std::to_string((i + 1) % n) +
              "'\n";
    return dynlib::load_model(text);
  };
  auto small = decay_model(256);
  REQUIRE(small->exact_jacobian() != nullptr);
  CHECK(small->exact_jacobian()->size() == 256);
  auto large = decay_model(257);
  CHECK(large->exact_jacobian() == nullptr);
}

TEST_CASE("derive: d rhs/dt for non-autonomous models, nothing for autonomous ones", "[derive]") {
  const auto m = dynlib::test::expr_model("x*sin(a*t) + exp(-t*t)*y + t").lower();
  REQUIRE(m.rhs_refers_to_time);
  REQUIRE(m.derived_time_derivative);
  REQUIRE(m.derived_time_derivative->size() == 2);
  CHECK(ir::to_string((*m.derived_time_derivative)[1], m) == "0.0");  // y' = 0
  for (double t : {0.0, 0.7, -1.3}) {
    EvalEnv env;
    env.y = {3.0, -2.0};
    env.p = m.param_vals;
    env.t = t;
    const double d = E((*m.derived_time_derivative)[0], env);
    const double exact = 3.0 * 0.5 * std::cos(0.5 * t) - 2.0 * t * std::exp(-t * t) * -2.0 + 1.0;
    CHECK(d == Approx(exact).epsilon(1e-14));
  }
  // States are held fixed: x*y has no explicit time dependence; lags neither.
  const auto a = dynlib::test::expr_model("x*y + lag_x(1)").lower();
  CHECK_FALSE(a.rhs_refers_to_time);
  CHECK_FALSE(a.derived_time_derivative);
  CHECK(dynlib::model::depends_on_time(m.rhs[0]));
  CHECK_FALSE(dynlib::model::depends_on_time(a.rhs[0]));
  // Not hashed: a pure function of the rhs.
  ir::ModelIR copy = m;
  copy.derived_time_derivative.reset();
  CHECK(ir::compute_hash(copy) == m.hash);
}
