// Symbolic differentiation of lowered expressions; rules and decisions in derive.hpp.
#include "model/derive.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "model/derive_simplify.hpp"
#include "util/deep_stack.hpp"

namespace dynlib::model {

namespace {

using ir::Expr;
using ir::Fn;
using ir::Op;
using namespace dsimp;

constexpr double kLn10 = 2.302585092994046;
constexpr double kLn2 = 0.6931471805599453;
constexpr double kTwoOverSqrtPi = 1.1283791670955126;  // 2/sqrt(pi)
constexpr double kMaxDeriveWork = 5e7;                 // distinct rhs nodes x states
// The Jacobian is dense (n x n expressions): beyond this many states building, checking and compiling
// it costs far more than finite differences save (Lorenz-96 with 1000 states: 10^6 entries, seconds of
// JIT time on every setup). Such models use finite differences unless they give [equations.jacobian].
constexpr std::size_t kMaxDerivedStates = 256;
constexpr std::size_t kMaxDerivedMinMaxArgs = 1000;

class Deriver {
 public:
  // d/dx_j, or d/dt (explicit dependence on the time; states held fixed) when wrt_time.
  explicit Deriver(int j, bool wrt_time = false) : j_(j), wrt_time_(wrt_time) {}

  bool depends(const Expr& e) {
    if (!e) return false;
    if (e->op == Op::State) return !wrt_time_ && e->index == j_;
    if (e->op == Op::Time) return wrt_time_;
    if (e->args.empty()) return false;
    if (auto it = dep_.find(e.get()); it != dep_.end()) return it->second;
    if (util::stack_low()) return true;  // d() then gives up too: finite differences instead
    bool r = false;
    for (const auto& a : e->args)
      if (depends(a)) {
        r = true;
        break;
      }
    dep_.emplace(e.get(), r);
    return r;
  }

  // nullptr = not differentiable symbolically.
  Expr d(const Expr& e) {
    if (!e) return nullptr;
    if (!depends(e)) return zero();
    if (e->op == Op::State || e->op == Op::Time) return one();  // the variable itself
    if (auto it = memo_.find(e.get()); it != memo_.end()) return it->second;
    if (util::stack_low()) return nullptr;  // too deep to differentiate here
    Expr r = rule(e);
    memo_.emplace(e.get(), r);
    return r;
  }

 private:
  int j_;
  bool wrt_time_;
  std::unordered_map<const ir::Node*, bool> dep_;
  std::unordered_map<const ir::Node*, Expr> memo_;

  // a ** b (b independent of x_j) as the same kind of node as the original (Op::Pow or pow()).
  static Expr power(const Expr& orig, const Expr& a, const Expr& b) {
    if (is_const(b, 1.0)) return a;
    if (is_const(b, 0.0)) return one();
    return orig->op == Op::Pow ? raw(Op::Pow, {a, b}) : call(Fn::pow, {a, b});
  }

  Expr d_pow(const Expr& e, const Expr& a, const Expr& b) {
    const Expr da = d(a), db = d(b);
    if (!da || !db) return nullptr;
    if (is_zero(db))  // b * a**(b-1) * a'
      return mul(mul(b, power(e, a, sub(b, one()))), da);
    // a**b * (b'*log(a) + b*a'/a)
    const Expr la = call(Fn::log, {a});
    return mul(e, add(mul(db, la), div(mul(b, da), a)));
  }

  // min/max(a0..an) is evaluated as m = a0; m = (a_k < m) ? a_k : m (min; > for max). The derivative
  // follows the same selections: D = a0'; D = (a_k < m_{k-1}) ? a_k' : D.
  Expr d_minmax(const Expr& e) {
    const bool is_min = e->fn == Fn::min;
    // Each Select below compares with the min/max of a prefix: quadratic in the number of arguments.
    if (e->args.size() > kMaxDerivedMinMaxArgs) return nullptr;
    Expr D = d(e->args[0]);
    if (!D) return nullptr;
    for (std::size_t k = 1; k < e->args.size(); ++k) {
      const Expr dk = d(e->args[k]);
      if (!dk) return nullptr;
      const Expr prev =
          k == 1 ? e->args[0]
                 : call(e->fn, std::vector<Expr>(e->args.begin(), e->args.begin() + static_cast<long>(k)));
      const Expr cond = raw(is_min ? Op::Lt : Op::Gt, {e->args[k], prev});
      D = select(cond, dk, D);
    }
    return D;
  }

  Expr d_call(const Expr& e) {
    const auto& A = e->args;
    switch (e->fn) {
      case Fn::min:
      case Fn::max:
        return d_minmax(e);
      case Fn::pow:
        return d_pow(e, A[0], A[1]);
      case Fn::round:
      case Fn::floor:
      case Fn::ceil:
      case Fn::trunc:
      case Fn::to_int:
      case Fn::to_bool:
        return zero();
      default:
        break;
    }
    if (A.size() == 2) {
      const Expr &a = A[0], &b = A[1];
      const Expr da = d(a), db = d(b);
      if (!da || !db) return nullptr;
      switch (e->fn) {
        case Fn::hypot:
          return div(add(mul(a, da), mul(b, db)), e);
        case Fn::atan2:  // atan2(y=a, x=b): (x*y' - y*x') / (x*x + y*y)
          return div(sub(mul(b, da), mul(a, db)), raw(Op::Add, {raw(Op::Mul, {b, b}), raw(Op::Mul, {a, a})}));
        case Fn::copysign:
          return mul(mul(call(Fn::copysign, {one(), a}), call(Fn::copysign, {one(), b})), da);
        default:
          throw std::logic_error("differentiate: unexpected binary function");
      }
    }
    const Expr& a = A[0];
    const Expr da = d(a);
    if (!da) return nullptr;
    auto sq = [](const Expr& x) { return raw(Op::Mul, {x, x}); };
    switch (e->fn) {
      case Fn::abs:
        return select(raw(Op::Gt, {a, zero()}), da, select(raw(Op::Lt, {a, zero()}), neg(da), zero()));
      case Fn::exp:
        return mul(e, da);
      case Fn::expm1:
        return mul(call(Fn::exp, {a}), da);
      case Fn::log:
        return div(da, a);
      case Fn::log10:
        return div(da, mul(a, cst(kLn10)));
      case Fn::log2:
        return div(da, mul(a, cst(kLn2)));
      case Fn::log1p:
        return div(da, add(one(), a));
      case Fn::sqrt:
        return div(da, mul(cst(2.0), e));
      case Fn::sin:
        return mul(call(Fn::cos, {a}), da);
      case Fn::cos:
        return neg(mul(call(Fn::sin, {a}), da));
      case Fn::tan:
        return mul(add(one(), sq(e)), da);
      case Fn::asin:
        return div(da, call(Fn::sqrt, {sub(one(), sq(a))}));
      case Fn::acos:
        return neg(div(da, call(Fn::sqrt, {sub(one(), sq(a))})));
      case Fn::atan:
        return div(da, add(one(), sq(a)));
      case Fn::sinh:
        return mul(call(Fn::cosh, {a}), da);
      case Fn::cosh:
        return mul(call(Fn::sinh, {a}), da);
      case Fn::tanh:
        return mul(sub(one(), sq(e)), da);
      case Fn::asinh:
        return div(da, call(Fn::sqrt, {add(sq(a), one())}));
      case Fn::acosh:
        return div(da, call(Fn::sqrt, {sub(sq(a), one())}));
      case Fn::atanh:
        return div(da, sub(one(), sq(a)));
      case Fn::erf:
        return mul(mul(cst(kTwoOverSqrtPi), call(Fn::exp, {neg(sq(a))})), da);
      case Fn::erfc:
        return neg(mul(mul(cst(kTwoOverSqrtPi), call(Fn::exp, {neg(sq(a))})), da));
      case Fn::to_float:
        return da;
      default:
        break;
    }
    throw std::logic_error("differentiate: unexpected function");
  }

  Expr rule(const Expr& e) {
    const auto& A = e->args;
    auto d0 = [&] { return d(A[0]); };
    switch (e->op) {
      case Op::Const:
      case Op::Param:
      case Op::Time:
      case Op::Lag:
      case Op::LoopVar:
      case Op::Not:
      case Op::FloorDiv:
      case Op::Lt:
      case Op::Le:
      case Op::Gt:
      case Op::Ge:
      case Op::Eq:
      case Op::Ne:
        return zero();
      case Op::State:
        return e->index == j_ ? one() : zero();
      case Op::Neg: {
        const Expr da = d0();
        return da ? neg(da) : nullptr;
      }
      case Op::Add:
      case Op::Sub: {
        const Expr da = d(A[0]), db = d(A[1]);
        if (!da || !db) return nullptr;
        return e->op == Op::Add ? add(da, db) : sub(da, db);
      }
      case Op::Mul: {
        const Expr da = d(A[0]), db = d(A[1]);
        if (!da || !db) return nullptr;
        if (A[0] == A[1]) return mul(cst(2.0), mul(A[0], da));  // x*x (from x**2): 2*x*x'
        return add(mul(da, A[1]), mul(A[0], db));
      }
      case Op::Div: {
        const Expr da = d(A[0]), db = d(A[1]);
        if (!da || !db) return nullptr;
        if (is_zero(db)) return div(da, A[1]);
        return div(sub(da, mul(e, db)), A[1]);  // (a' - (a/b)*b') / b
      }
      case Op::Mod: {  // a % b = a - (a // b)*b  ->  a' - (a // b)*b'
        const Expr da = d(A[0]), db = d(A[1]);
        if (!da || !db) return nullptr;
        if (is_zero(db)) return da;
        return sub(da, mul(raw(Op::FloorDiv, {A[0], A[1]}), db));
      }
      case Op::Pow:
        return d_pow(e, A[0], A[1]);
      case Op::And: {  // a ? b : a
        const Expr da = d(A[0]), db = d(A[1]);
        if (!da || !db) return nullptr;
        return select(A[0], db, da);
      }
      case Op::Or: {  // a ? a : b
        const Expr da = d(A[0]), db = d(A[1]);
        if (!da || !db) return nullptr;
        return select(A[0], da, db);
      }
      case Op::Select: {
        const Expr dt = d(A[1]), de = d(A[2]);
        if (!dt || !de) return nullptr;
        return select(A[0], dt, de);
      }
      case Op::Call:
        return d_call(e);
      case Op::Sum: {
        const Expr db = d(A[3]);
        if (!db) return nullptr;
        if (is_zero(db)) return zero();
        std::vector<Expr> args = A;
        args[3] = db;
        auto n = std::make_shared<ir::Node>();
        n->op = Op::Sum;
        n->index = e->index;
        n->args = std::move(args);
        return n;
      }
      case Op::Prod: {
        // Only the body can depend on x_j in a differentiable way (bounds/conditions are integer or
        // boolean). A product whose body depends on x_j is not differentiable here (derive.hpp).
        if (!depends(A[3])) return zero();
        return nullptr;
      }
    }
    throw std::logic_error("differentiate: unknown op");
  }
};

}  // namespace

bool depends_on_state(const ir::Expr& e, int state_index) { return Deriver(state_index).depends(e); }

ir::Expr differentiate(const ir::Expr& e, int state_index) { return Deriver(state_index).d(e); }

bool depends_on_time(const ir::Expr& e) { return Deriver(-1, true).depends(e); }

std::optional<std::vector<ir::Expr>> derive_time_derivative(const ir::ModelIR& m) {
  if (m.dtype == ir::DType::int64) return std::nullopt;
  Deriver D(-1, true);  // one memo: shared subtrees across equations cost once
  bool any = false;
  for (const auto& e : m.rhs) any = any || D.depends(e);
  if (!any) return std::nullopt;
  std::vector<ir::Expr> out;
  out.reserve(m.rhs.size());
  for (const auto& e : m.rhs) {
    ir::Expr d = D.d(e);
    if (!d) return std::nullopt;
    out.push_back(std::move(d));
  }
  return out;
}

std::optional<std::vector<std::vector<ir::Expr>>> derive_jacobian(const ir::ModelIR& m) {
  if (m.dtype == ir::DType::int64) return std::nullopt;
  const std::size_t n = m.rhs.size();
  if (n > kMaxDerivedStates) return std::nullopt;
  // Cost budget: each column walks the rhs DAG once (memoised). Very large models (many states times
  // many distinct nodes) get no derived Jacobian rather than a slow load; they use finite differences.
  std::unordered_set<const ir::Node*> seen;
  std::vector<const ir::Node*> stack;
  for (const auto& e : m.rhs)
    if (e) stack.push_back(e.get());
  while (!stack.empty()) {
    const ir::Node* x = stack.back();
    stack.pop_back();
    if (!seen.insert(x).second) continue;
    for (const auto& a : x->args)
      if (a) stack.push_back(a.get());
  }
  if (static_cast<double>(seen.size()) * static_cast<double>(n) > kMaxDeriveWork) return std::nullopt;
  std::vector<std::vector<ir::Expr>> J(n, std::vector<ir::Expr>(n));
  for (std::size_t j = 0; j < n; ++j) {
    Deriver D(static_cast<int>(j));  // one memo per column: shared subtrees across rows cost once
    for (std::size_t i = 0; i < n; ++i) {
      ir::Expr e = D.d(m.rhs[i]);
      if (!e) return std::nullopt;
      J[i][j] = std::move(e);
    }
  }
  return J;
}

// Bandwidths of df/dy from the states each rhs refers to: a superset of the nonzeros of the derived
// Jacobian and of finite differences.
std::pair<int, int> jacobian_bandwidth(const ir::ModelIR& m) {
  const int n = static_cast<int>(m.rhs.size());
  int ml = 0, mu = 0;
  auto note = [&](int i, int j) {
    ml = std::max(ml, i - j);
    mu = std::max(mu, j - i);
  };
  // The model's own Jacobian (entries that are not a literal zero) widens the band if it claims more.
  if (m.jacobian)
    for (int i = 0; i < n && i < static_cast<int>(m.jacobian->size()); ++i)
      for (int j = 0; j < n && j < static_cast<int>((*m.jacobian)[i].size()); ++j) {
        const auto& e = (*m.jacobian)[i][j];
        if (!e || e->op != ir::Op::Const || e->value != 0.0) note(i, j);
      }
  // States referred to by each shared subexpression (the rhs is a DAG), lowest and highest index.
  struct Span {
    int lo = 1 << 30, hi = -1;
  };
  std::unordered_map<const ir::Node*, Span> memo;
  std::vector<std::pair<const ir::Node*, bool>> stack;
  for (int i = 0; i < n; ++i) {
    if (!m.rhs[i]) continue;
    stack.emplace_back(m.rhs[i].get(), false);
    while (!stack.empty()) {
      auto [x, children_done] = stack.back();
      stack.pop_back();
      if (memo.count(x)) continue;
      if (!children_done) {
        stack.emplace_back(x, true);
        for (const auto& a : x->args)
          if (a && !memo.count(a.get())) stack.emplace_back(a.get(), false);
        continue;
      }
      Span s;
      if (x->op == ir::Op::State) s.lo = s.hi = x->index;
      for (const auto& a : x->args)
        if (a) {
          const Span& c = memo.at(a.get());
          s.lo = std::min(s.lo, c.lo);
          s.hi = std::max(s.hi, c.hi);
        }
      memo.emplace(x, s);
    }
    const Span& s = memo.at(m.rhs[i].get());
    if (s.hi >= 0) {
      note(i, s.lo);
      note(i, s.hi);
    }
  }
  return {ml, mu};
}

}  // namespace dynlib::model
