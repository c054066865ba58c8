// Readable text of lowered expressions (`dynlib model show`) and small IR name tables.
#include <charconv>
#include <cmath>
#include <dynlib/ir.hpp>

#include "util/deep_stack.hpp"

namespace dynlib::ir {

Node::~Node() {
  // Nodes owned only by this one are taken over and released from a loop, not recursively: a long
  // chain would otherwise recurse once per level. Nested destructors hand their nodes to the loop.
  thread_local std::vector<Expr>* loop = nullptr;
  auto hand_over = [](std::vector<Expr>& args, std::vector<Expr>& to) {
    for (auto& a : args)
      if (a && !a->args.empty() && a.use_count() == 1) to.push_back(std::move(a));
  };
  if (loop != nullptr) {
    hand_over(args, *loop);
    return;
  }
  std::vector<Expr> pending;
  hand_over(args, pending);
  if (pending.empty()) return;
  loop = &pending;
  while (!pending.empty()) {
    Expr e = std::move(pending.back());
    pending.pop_back();
    e.reset();
  }
  loop = nullptr;
}

const char* fn_name(Fn f) noexcept {
  switch (f) {
    case Fn::abs:
      return "abs";
    case Fn::min:
      return "min";
    case Fn::max:
      return "max";
    case Fn::round:
      return "round";
    case Fn::exp:
      return "exp";
    case Fn::expm1:
      return "expm1";
    case Fn::log:
      return "log";
    case Fn::log10:
      return "log10";
    case Fn::log2:
      return "log2";
    case Fn::log1p:
      return "log1p";
    case Fn::sqrt:
      return "sqrt";
    case Fn::sin:
      return "sin";
    case Fn::cos:
      return "cos";
    case Fn::tan:
      return "tan";
    case Fn::asin:
      return "asin";
    case Fn::acos:
      return "acos";
    case Fn::atan:
      return "atan";
    case Fn::atan2:
      return "atan2";
    case Fn::sinh:
      return "sinh";
    case Fn::cosh:
      return "cosh";
    case Fn::tanh:
      return "tanh";
    case Fn::asinh:
      return "asinh";
    case Fn::acosh:
      return "acosh";
    case Fn::atanh:
      return "atanh";
    case Fn::floor:
      return "floor";
    case Fn::ceil:
      return "ceil";
    case Fn::trunc:
      return "trunc";
    case Fn::hypot:
      return "hypot";
    case Fn::copysign:
      return "copysign";
    case Fn::erf:
      return "erf";
    case Fn::erfc:
      return "erfc";
    case Fn::pow:
      return "pow";
    case Fn::to_int:
      return "int";
    case Fn::to_float:
      return "float";
    case Fn::to_bool:
      return "bool";
  }
  return "?";
}

int fn_arity(Fn f) noexcept {
  switch (f) {
    case Fn::min:
    case Fn::max:
      return -1;
    case Fn::atan2:
    case Fn::hypot:
    case Fn::copysign:
    case Fn::pow:
      return 2;
    default:
      return 1;
  }
}

const char* dtype_name(DType d) noexcept {
  switch (d) {
    case DType::float64:
      return "float64";
    case DType::float32:
      return "float32";
    case DType::int64:
      return "int64";
  }
  return "?";
}

namespace {

// Python precedence levels (higher binds tighter).
enum Prec { kTernary = 1, kOr, kAnd, kNot, kCmp, kAdd, kMul, kUnary, kPow, kAtom };

std::string num(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, r.ptr);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

struct Printer {
  const ModelIR& m;
  bool too_deep = false;  // the stack ran low: the text has "<nested too deeply>" in it

  static int prec(const Expr& e) {
    switch (e->op) {
      case Op::Const:
        return e->value < 0 || std::signbit(e->value) ? kUnary : kAtom;
      case Op::Neg:
        return kUnary;
      case Op::Not:
        return kNot;
      case Op::Add:
      case Op::Sub:
        return kAdd;
      case Op::Mul:
      case Op::Div:
      case Op::FloorDiv:
      case Op::Mod:
        return kMul;
      case Op::Pow:
        return kPow;
      case Op::Lt:
      case Op::Le:
      case Op::Gt:
      case Op::Ge:
      case Op::Eq:
      case Op::Ne:
        return kCmp;
      case Op::And:
        return kAnd;
      case Op::Or:
        return kOr;
      case Op::Select:
        return kTernary;
      default:
        return kAtom;
    }
  }
  std::string sub(const Expr& e, int min_prec) {
    std::string s = str(e);
    return prec(e) < min_prec ? prefixed("(", s) + ")" : s;
  }
  std::string name_of(const std::vector<std::string>& v, int i, const char* fallback) {
    return i >= 0 && static_cast<std::size_t>(i) < v.size() ? v[static_cast<std::size_t>(i)]
                                                            : prefixed(fallback, std::to_string(i));
  }
  // Comparisons chain in Python, so a comparison operand that is itself a comparison needs parentheses.
  std::string cmp(const Expr& e, const char* op) {
    return sub(e->args[0], kCmp + 1) + " " + op + " " + sub(e->args[1], kCmp + 1);
  }
  std::string bin(const Expr& e, const char* op, int p) {
    return sub(e->args[0], p) + " " + op + " " + sub(e->args[1], p + 1);
  }
  static std::string prefixed(const char* p, const std::string& s) {
    std::string out(p);
    out.append(s);
    return out;
  }
  std::string str(const Expr& e) {
    if (!e) return "<null>";
    if (util::stack_low()) {
      too_deep = true;
      return "<nested too deeply>";
    }
    switch (e->op) {
      case Op::Const:
        return num(e->value);
      case Op::State:
        return name_of(m.states, e->index, "y");
      case Op::Param:
        return name_of(m.params, e->index, "p");
      case Op::Time:
        return "t";
      case Op::Lag: {
        std::string s = "lag?";
        if (e->index >= 0 && static_cast<std::size_t>(e->index) < m.lags.size())
          s = prefixed("lag_", name_of(m.states, m.lags[static_cast<std::size_t>(e->index)].state, "y"));
        return s + "(" + std::to_string(e->k) + ")";
      }
      case Op::LoopVar:
        return prefixed("i", std::to_string(e->index));
      case Op::Neg:
        return prefixed("-", sub(e->args[0], kUnary));
      case Op::Not:
        return prefixed("not ", sub(e->args[0], kNot));
      case Op::Add:
        return bin(e, "+", kAdd);
      case Op::Sub:
        return bin(e, "-", kAdd);
      case Op::Mul:
        return bin(e, "*", kMul);
      case Op::Div:
        return bin(e, "/", kMul);
      case Op::FloorDiv:
        return bin(e, "//", kMul);
      case Op::Mod:
        return bin(e, "%", kMul);
      case Op::Pow:
        return sub(e->args[0], kAtom) + " ** " + sub(e->args[1], kUnary);
      case Op::Lt:
        return cmp(e, "<");
      case Op::Le:
        return cmp(e, "<=");
      case Op::Gt:
        return cmp(e, ">");
      case Op::Ge:
        return cmp(e, ">=");
      case Op::Eq:
        return cmp(e, "==");
      case Op::Ne:
        return cmp(e, "!=");
      case Op::And:
        return bin(e, "and", kAnd);
      case Op::Or:
        return bin(e, "or", kOr);
      case Op::Select:
        return sub(e->args[1], kTernary + 1) + " if " + sub(e->args[0], kTernary + 1) + " else " +
               sub(e->args[2], kTernary);
      case Op::Call: {
        std::string s = std::string(fn_name(e->fn)) + "(";
        for (std::size_t i = 0; i < e->args.size(); ++i) s += (i ? ", " : "") + str(e->args[i]);
        return s + ")";
      }
      case Op::Sum:
      case Op::Prod: {
        std::string s = std::string(e->op == Op::Sum ? "sum(" : "prod(");
        if (e->args.size() < 4) return s + "?)";
        s += str(e->args[3]) + prefixed(" for i", std::to_string(e->index)) + " in range(" + str(e->args[0]) +
             ", " + str(e->args[1]) + ", " + str(e->args[2]) + ")";
        for (std::size_t i = 4; i < e->args.size(); ++i) s += prefixed(" if ", sub(e->args[i], kOr));
        return s + ")";
      }
    }
    return "?";
  }
};

}  // namespace

std::string to_string(const Expr& e, const ModelIR& m) {
  Printer p{m};
  std::string out = p.str(e);
  if (p.too_deep) {  // again on a large stack (not always: `model show` prints every expression)
    p.too_deep = false;
    util::run_with_large_stack([&] { out = p.str(e); });
  }
  return out;
}

}  // namespace dynlib::ir
