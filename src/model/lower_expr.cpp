// AST -> ir::Expr: names resolved, constants to literals, aux/functions inlined as subtrees, macros
// expanded, lag references as Lag nodes, sum/prod as Sum/Prod with loop slots,
// and x**k for integer constant k turned into multiplications (docs/internals/kernels.md).
// Assumes check_expressions() passed: every name resolves, arities are right.
#include <algorithm>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <unordered_map>

#include "model/lower_internal.hpp"
#include "util/deep_stack.hpp"

namespace dynlib::model::detail {

using ast::K;
using ast::Node;

namespace {

// A local name: a function argument (lowered lazily at each use site, in the caller's scope, so
// that any sum/prod inside it gets the loop slot of where it ends up) or a generator loop variable.
struct Scope {
  const Scope* parent = nullptr;
  std::string name;
  const Node* arg = nullptr;
  const ParsedExpr* arg_expr = nullptr;
  const Scope* arg_scope = nullptr;
  ir::Expr loop_var;
  // The argument lowered once per loop depth: a chain f0(u) = f1(u) + u, f1(u) = f2(u) + u, ... would
  // otherwise lower `u` again through every frame at every use (quadratic).
  mutable std::unordered_map<int, ir::Expr> arg_lowered;
};

ir::Expr mk(ir::Op op, std::vector<ir::Expr> args = {}) {
  auto n = std::make_shared<ir::Node>();
  n->op = op;
  n->args = std::move(args);
  return n;
}
ir::Expr cst(double v) {
  auto n = std::make_shared<ir::Node>();
  n->op = ir::Op::Const;
  n->value = v;
  return n;
}
ir::Expr idx(ir::Op op, int i, int k = 0) {
  auto n = std::make_shared<ir::Node>();
  n->op = op;
  n->index = i;
  n->k = k;
  return n;
}
ir::Expr call(ir::Fn fn, std::vector<ir::Expr> args) {
  auto n = std::make_shared<ir::Node>();
  n->op = ir::Op::Call;
  n->fn = fn;
  n->args = std::move(args);
  return n;
}

// x ** k for a constant integer-valued k, |k| <= 64: exactly Numba's static_power_impl (the reference's
// compiled code): res = 1; for each bit of k from the lowest: if bit set, res = res * val; val = val * val.
// The initial 1 * val is exact and omitted; we build the product as `val * res`, which is bitwise
// identical to `res * val` (IEEE multiplication is commutative). So
//   x**2 = x*x, x**3 = (x*x)*x, x**4 = (x*x)*(x*x), x**5 = ((x*x)*(x*x))*x, x**6 = ((x*x)*(x*x))*(x*x),
//   x**7 = ((x*x)*(x*x))*((x*x)*x).  Negative k: 1 / x**|k|.  k == 0: 1.  Anything else: Op::Pow.
ir::Expr lower_pow(const ir::Expr& base, const ir::Expr& ex) {
  if (ex->op == ir::Op::Const && std::isfinite(ex->value) && ex->value == std::trunc(ex->value) &&
      std::fabs(ex->value) <= 64) {
    long k = static_cast<long>(ex->value);
    if (k == 0) return cst(1.0);
    const bool invert = k < 0;
    if (invert) k = -k;
    ir::Expr res, val = base;
    while (k != 0) {
      if (k & 1) res = res ? mk(ir::Op::Mul, {val, res}) : val;
      k >>= 1;
      if (k != 0) val = mk(ir::Op::Mul, {val, val});
    }
    return invert ? mk(ir::Op::Div, {cst(1.0), res}) : res;
  }
  return mk(ir::Op::Pow, {base, ex});
}

constexpr std::int64_t kMaxLoweredNodes = 5'000'000;

// The value of an expression made of literals and arithmetic only (range bounds such as 10**9), else
// nullopt. Only used to bound loop lengths, so plain double arithmetic is good enough.
std::optional<double> constant_value(const ir::Expr& e, int budget = 64) {
  if (!e || budget <= 0) return std::nullopt;
  if (e->op == ir::Op::Const) return e->value;
  std::vector<double> v;
  for (const auto& a : e->args) {
    auto x = constant_value(a, budget - 1);
    if (!x) return std::nullopt;
    v.push_back(*x);
  }
  switch (e->op) {
    case ir::Op::Neg:
      return -v[0];
    case ir::Op::Add:
      return v[0] + v[1];
    case ir::Op::Sub:
      return v[0] - v[1];
    case ir::Op::Mul:
      return v[0] * v[1];
    case ir::Op::Div:
      return v[0] / v[1];
    case ir::Op::FloorDiv:
      return std::floor(v[0] / v[1]);
    case ir::Op::Pow:
      return std::pow(v[0], v[1]);
    case ir::Op::Call:
      if (e->fn == ir::Fn::to_int) return std::trunc(v[0]);
      if (e->fn == ir::Fn::to_float) return v[0];
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

// Iterations of range(int(start), int(stop), int(step)) when all three are constants, else nullopt.
std::optional<double> range_length(const std::vector<ir::Expr>& r) {
  const auto a = constant_value(r[0]), b = constant_value(r[1]), c = constant_value(r[2]);
  if (!a || !b || !c) return std::nullopt;
  const double start = std::trunc(*a), stop = std::trunc(*b), step = std::trunc(*c);
  if (!(step != 0)) return 0.0;  // also NaN: the loop does not run
  const double n = std::ceil((stop - start) / step);
  return n > 0 ? n : 0.0;
}

// Nodes of `e` counted as a tree: what the backends walk, since they evaluate a shared aux subtree
// at each use. Stops counting past `limit`.
// `size` keeps the counts of nodes seen before (all kept alive by the model being lowered).
std::int64_t expanded_size(const ir::Expr& root, std::int64_t limit,
                           std::unordered_map<const ir::Node*, std::int64_t>& size) {
  std::vector<std::pair<const ir::Node*, bool>> todo{{root.get(), false}};
  while (!todo.empty()) {
    auto [n, kids_done] = todo.back();
    todo.pop_back();
    if (size.count(n)) continue;
    if (!kids_done) {
      todo.emplace_back(n, true);
      for (const auto& a : n->args)
        if (!size.count(a.get())) todo.emplace_back(a.get(), false);
      continue;
    }
    std::int64_t total = 1;
    for (const auto& a : n->args) total = std::min(limit + 1, total + size.at(a.get()));
    size.emplace(n, total);
  }
  return size.at(root.get());
}

class Lowerer {
 public:
  explicit Lowerer(Model& m) : m_(m) {}

  ir::Expr lower(const ParsedExpr& pe, const Node& n, const Scope* scope, int depth) {
    // Function inlining can grow exponentially (f1(x) = f0(x) + f0(x), f2(x) = f1(x) + f1(x), ...).
    if (++m_.lowered_nodes > kMaxLoweredNodes)
      throw ModelLoadError("Model too large after inlining functions (more than 5000000 expression nodes)",
                           pe.at(n.pos));
    // Inlining aux and functions nests their bodies: bound the depth every later pass recurses to.
    struct Level {
      int& n;
      explicit Level(int& count) : n(count) { ++n; }
      ~Level() { --n; }
      Level(const Level&) = delete;
      Level& operator=(const Level&) = delete;
    } level(level_);
    if (level_ > kMaxExprNesting || util::stack_low())
      throw ModelLoadError("Expression nested too deeply after inlining aux and functions (more than " +
                               std::to_string(kMaxExprNesting) + " levels)",
                           pe.at(n.pos));
    switch (n.kind) {
      case K::Num:
      case K::Bool:
        return cst(n.value);
      case K::Name:
        return name(n, scope, depth);
      case K::Unary: {
        ir::Expr x = lower(pe, *n.kids[0], scope, depth);
        if (n.name == "+") return x;
        if (x->op == ir::Op::Const) return cst(-x->value);  // exact; keeps `-2` a literal (x**-2)
        return mk(ir::Op::Neg, {x});
      }
      case K::Binary: {
        ir::Expr a = lower(pe, *n.kids[0], scope, depth);
        ir::Expr b = lower(pe, *n.kids[1], scope, depth);
        if (n.name == "**") return lower_pow(a, b);
        ir::Op op = n.name == "+"    ? ir::Op::Add
                    : n.name == "-"  ? ir::Op::Sub
                    : n.name == "*"  ? ir::Op::Mul
                    : n.name == "/"  ? ir::Op::Div
                    : n.name == "//" ? ir::Op::FloorDiv
                                     : ir::Op::Mod;
        return mk(op, {a, b});
      }
      case K::Compare: {
        // a < b <= c  ==  (a < b) and (b <= c); b is evaluated twice (pure), same value semantics.
        std::vector<ir::Expr> xs;
        for (const auto& k : n.kids) xs.push_back(lower(pe, *k, scope, depth));
        ir::Expr acc;
        for (std::size_t i = 0; i < n.ops.size(); ++i) {
          const std::string& o = n.ops[i];
          ir::Op op = o == "<"    ? ir::Op::Lt
                      : o == "<=" ? ir::Op::Le
                      : o == ">"  ? ir::Op::Gt
                      : o == ">=" ? ir::Op::Ge
                      : o == "==" ? ir::Op::Eq
                                  : ir::Op::Ne;
          ir::Expr c = mk(op, {xs[i], xs[i + 1]});
          acc = acc ? mk(ir::Op::And, {acc, c}) : c;
        }
        return acc;
      }
      case K::BoolOp: {
        const ir::Op op = n.name == "and" ? ir::Op::And : ir::Op::Or;
        ir::Expr acc = lower(pe, *n.kids[0], scope, depth);
        for (std::size_t i = 1; i < n.kids.size(); ++i)
          acc = mk(op, {acc, lower(pe, *n.kids[i], scope, depth)});
        return acc;
      }
      case K::Not:
        return mk(ir::Op::Not, {lower(pe, *n.kids[0], scope, depth)});
      case K::Ternary:
        return mk(ir::Op::Select, {lower(pe, *n.kids[0], scope, depth), lower(pe, *n.kids[1], scope, depth),
                                   lower(pe, *n.kids[2], scope, depth)});
      case K::Call:
        return call_node(pe, n, scope, depth);
      case K::Gen:
        return gen(pe, n, scope, depth);
    }
    throw std::logic_error("lower: unknown AST node");
  }

  ir::Expr aux(int i, int depth) {
    auto key = std::make_pair(i, depth);
    if (auto it = m_.aux_cache.find(key); it != m_.aux_cache.end()) return it->second;
    const ParsedExpr& pe = m_.aux_expr[static_cast<std::size_t>(i)];
    ir::Expr e = lower(pe, *pe.root, nullptr, depth);
    m_.aux_cache.emplace(key, e);
    return e;
  }

 private:
  Model& m_;
  int level_ = 0;                  // recursion depth of lower()
  double outer_iterations_ = 1.0;  // iterations of the enclosing constant-range loops

  ir::Expr name(const Node& n, const Scope* scope, int depth) {
    for (const Scope* s = scope; s; s = s->parent) {
      if (s->name != n.name) continue;
      if (s->loop_var) return s->loop_var;
      ir::Expr& lowered = s->arg_lowered[depth];
      if (!lowered) lowered = lower(*s->arg_expr, *s->arg, s->arg_scope, depth);
      return lowered;
    }
    if (auto it = m_.state_idx.find(n.name); it != m_.state_idx.end()) return idx(ir::Op::State, it->second);
    if (auto it = m_.param_idx.find(n.name); it != m_.param_idx.end()) return idx(ir::Op::Param, it->second);
    if (n.name == "t") return mk(ir::Op::Time);
    if (auto it = m_.const_val.find(n.name); it != m_.const_val.end()) return cst(it->second);
    if (auto it = m_.aux_idx.find(n.name); it != m_.aux_idx.end()) return aux(it->second, depth);
    if (n.name == "math.pi") return cst(kPi);
    if (n.name == "math.e") return cst(kE);
    if (n.name == "math.tau") return cst(2 * kPi);
    if (n.name == "math.inf") return cst(HUGE_VAL);
    if (n.name == "math.nan") return cst(std::nan(""));
    throw std::logic_error("lower: unresolved name " + n.name);
  }

  ir::Expr lag_of(int state, int k) {
    return idx(ir::Op::Lag, m_.lag_slot[static_cast<std::size_t>(state)], k);
  }

  ir::Expr call_node(const ParsedExpr& pe, const Node& n, const Scope* scope, int depth) {
    const CallInfo ci = classify_call(m_, n.name);
    auto arg = [&](std::size_t i) { return lower(pe, *n.kids[i], scope, depth); };
    using ir::Op;
    switch (ci.kind) {
      case CallKind::ScalarMacro: {
        const ir::Expr x = arg(0);
        if (n.name == "sign")  // int(x > 0) - int(x < 0)
          return mk(Op::Sub, {call(ir::Fn::to_int, {mk(Op::Gt, {x, cst(0)})}),
                              call(ir::Fn::to_int, {mk(Op::Lt, {x, cst(0)})})});
        if (n.name == "heaviside" || n.name == "step") return mk(Op::Ge, {x, cst(0)});  // x >= 0
        if (n.name == "relu") return call(ir::Fn::max, {x, cst(0)});                    // max(x, 0)
        if (n.name == "clip")                                                           // min(max(x, lo), hi)
          return call(ir::Fn::min, {call(ir::Fn::max, {x, arg(1)}), arg(2)});
        // approx(a, b, tol): abs(a - b) <= tol
        return mk(Op::Le, {call(ir::Fn::abs, {mk(Op::Sub, {x, arg(1)})}), arg(2)});
      }
      case CallKind::EventMacro: {
        if (n.name == "in_interval") {  // lo <= v and v <= hi
          const ir::Expr v = arg(0), lo = arg(1), hi = arg(2);
          return mk(Op::And, {mk(Op::Le, {lo, v}), mk(Op::Le, {v, hi})});
        }
        const int si = m_.state_idx.at(n.kids[0]->name);
        const ir::Expr s = idx(Op::State, si), L = lag_of(si, 1);
        auto up = [&](const ir::Expr& th) { return mk(Op::And, {mk(Op::Le, {L, th}), mk(Op::Gt, {s, th})}); };
        auto down = [&](const ir::Expr& th) {
          return mk(Op::And, {mk(Op::Ge, {L, th}), mk(Op::Lt, {s, th})});
        };
        if (n.name == "cross_up") return up(arg(1));
        if (n.name == "cross_down") return down(arg(1));
        if (n.name == "cross_either") {
          const ir::Expr th = arg(1);
          return mk(Op::Or, {up(th), down(th)});
        }
        if (n.name == "changed") return mk(Op::Ne, {s, L});
        if (n.name == "increasing") return mk(Op::Gt, {s, L});
        if (n.name == "decreasing") return mk(Op::Lt, {s, L});
        const ir::Expr lo = arg(1), hi = arg(2);
        if (n.name == "enters_interval")  // (L < lo or L > hi) and (lo <= s and s <= hi)
          return mk(Op::And, {mk(Op::Or, {mk(Op::Lt, {L, lo}), mk(Op::Gt, {L, hi})}),
                              mk(Op::And, {mk(Op::Le, {lo, s}), mk(Op::Le, {s, hi})})});
        // leaves_interval: (lo <= L and L <= hi) and (s < lo or s > hi)
        return mk(Op::And, {mk(Op::And, {mk(Op::Le, {lo, L}), mk(Op::Le, {L, hi})}),
                            mk(Op::Or, {mk(Op::Lt, {s, lo}), mk(Op::Gt, {s, hi})})});
      }
      case CallKind::Lag: {
        const int k = n.kids.empty() ? 1 : static_cast<int>(n.kids[0]->value);
        return lag_of(ci.index, k);
      }
      case CallKind::User: {
        const auto& fs = m_.spec->functions[static_cast<std::size_t>(ci.index)];
        std::vector<Scope> frames(fs.args.size());
        for (std::size_t i = 0; i < fs.args.size(); ++i) {
          frames[i].parent = i ? &frames[i - 1] : nullptr;
          frames[i].name = fs.args[i];
          frames[i].arg = n.kids[i].get();
          frames[i].arg_expr = &pe;
          frames[i].arg_scope = scope;
        }
        const ParsedExpr& body = m_.fn_body[static_cast<std::size_t>(ci.index)];
        return lower(body, *body.root, frames.empty() ? nullptr : &frames.back(), depth);
      }
      case CallKind::Math: {
        std::vector<ir::Expr> args;
        for (std::size_t i = 0; i < n.kids.size(); ++i) args.push_back(arg(i));
        if (ci.fn == ir::Fn::log && args.size() == 2)  // CPython math.log(x, b) = log(x) / log(b)
          return mk(Op::Div, {call(ir::Fn::log, {args[0]}), call(ir::Fn::log, {args[1]})});
        return call(ci.fn, std::move(args));
      }
      case CallKind::BuiltinPow:
        return lower_pow(arg(0), arg(1));
      default:
        break;
    }
    throw std::logic_error("lower: unresolved call " + n.name);
  }

  ir::Expr gen(const ParsedExpr& pe, const Node& n, const Scope* scope, int depth) {
    std::vector<ir::Expr> args;
    std::vector<ir::Expr> r;
    for (int i = 1; i <= n.n_range; ++i)
      r.push_back(lower(pe, *n.kids[static_cast<std::size_t>(i)], scope, depth));
    if (r.size() == 1) r.insert(r.begin(), cst(0));
    if (r.size() == 2) r.push_back(cst(1));
    // A loop runs at every evaluation (several times per step): bound what constant ranges cost.
    double iterations = outer_iterations_;
    if (const auto len = range_length(r)) iterations *= *len;
    if (!(iterations <= static_cast<double>(kMaxLoopIterations)))
      throw ModelLoadError(n.name + "(... for " + n.var + " in range(...)) runs more than " +
                               std::to_string(kMaxLoopIterations) +
                               " iterations per evaluation (nested loops multiply); use a shorter range",
                           pe.at(n.pos));
    const double saved_iterations = outer_iterations_;
    outer_iterations_ = iterations;
    args = r;
    Scope s;
    s.parent = scope;
    s.name = n.var;
    s.loop_var = idx(ir::Op::LoopVar, depth);
    m_.n_loop_slots = std::max(m_.n_loop_slots, static_cast<std::int32_t>(depth + 1));
    args.push_back(lower(pe, *n.kids[0], &s, depth + 1));
    for (std::size_t i = static_cast<std::size_t>(n.n_range) + 1; i < n.kids.size(); ++i)
      args.push_back(lower(pe, *n.kids[i], &s, depth + 1));
    outer_iterations_ = saved_iterations;
    ir::Expr g = mk(n.name == "sum" ? ir::Op::Sum : ir::Op::Prod, std::move(args));
    std::const_pointer_cast<ir::Node>(g)->index = depth;
    return g;
  }
};

}  // namespace

namespace {

// Aux subtrees are shared in the IR, but every backend walks each expression as a tree, so an aux
// chain a0 = a1 + a1, a1 = a2 + a2, ... is exponential work there: bound the tree size of the model.
void count_expanded(Model& m, const ir::Expr& e, const SourceLocation& loc) {
  m.expanded_nodes += expanded_size(e, kMaxExpandedNodes, m.expanded_size);
  if (m.expanded_nodes > kMaxExpandedNodes)
    throw ModelLoadError("Model too large after inlining aux and functions (more than " +
                             std::to_string(kMaxExpandedNodes) +
                             " expression nodes; every use of an aux or function copies its expression)",
                         loc);
}

}  // namespace

ir::Expr lower_site(Model& m, const ParsedExpr& e) {
  Lowerer l(m);
  ir::Expr out = l.lower(e, *e.root, nullptr, 0);
  count_expanded(m, out, e.loc);
  return out;
}

ir::Expr lower_aux(Model& m, int aux_index) {
  Lowerer l(m);
  ir::Expr out = l.aux(aux_index, 0);
  count_expanded(m, out, m.aux_expr[static_cast<std::size_t>(aux_index)].loc);
  return out;
}

}  // namespace dynlib::model::detail
