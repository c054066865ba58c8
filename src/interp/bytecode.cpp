#include "interp/bytecode.hpp"

#include <cmath>
#include <stdexcept>

#include "kernels/pymath.hpp"
#include "util/deep_stack.hpp"

namespace dynlib::interp {

namespace py = dynlib::kernels::py;

Program::Program(const ir::ModelIR& m) {
  for (const auto& L : m.lags) {
    lag_off_.push_back(L.offset);
    lag_depth_.push_back(L.depth);
  }
  n_loop_ = m.n_loop_slots;
}

void Program::push(int d) {
  depth_ += d;
  if (depth_ > max_stack_) max_stack_ = depth_;
}

std::int32_t Program::add_expr(const ir::Expr& e) {
  if (!e) throw std::logic_error("bytecode: null expression");
  if (auto it = entries_.find(e.get()); it != entries_.end()) return it->second;
  const auto entry = static_cast<std::int32_t>(code_.size());
  depth_ = 0;
  emit_node(*e);
  code_.push_back({BC::Halt});
  entries_.emplace(e.get(), entry);
  keep_.push_back(e);
  return entry;
}

std::int32_t Program::add_block(const std::vector<ir::Expr>& es) {
  const auto entry = static_cast<std::int32_t>(code_.size());
  for (std::size_t k = 0; k < es.size(); ++k) {
    depth_ = 0;
    emit_node(*es[k]);
    code_.push_back({BC::StoreOut, ir::Fn::abs, static_cast<std::int32_t>(k)});
  }
  code_.push_back({BC::Halt});
  return entry;
}

void Program::emit_node(const ir::Node& n) {
  using ir::Op;
  if (util::stack_low()) throw std::runtime_error("bytecode: expression nested too deeply");
  auto here = [&] { return static_cast<std::int32_t>(code_.size()); };
  auto bin = [&](BC op) {
    emit_node(*n.args.at(0));
    emit_node(*n.args.at(1));
    code_.push_back({op});
    push(-1);
  };
  switch (n.op) {
    case Op::Const:
      code_.push_back({BC::Const, ir::Fn::abs, 0, 0, n.value});
      push(1);
      return;
    case Op::State:
      code_.push_back({BC::State, ir::Fn::abs, n.index});
      push(1);
      return;
    case Op::Param:
      code_.push_back({BC::Param, ir::Fn::abs, n.index});
      push(1);
      return;
    case Op::Time:
      code_.push_back({BC::Time});
      push(1);
      return;
    case Op::Lag:
      if (n.index < 0 || n.index >= static_cast<int>(lag_off_.size()))
        throw std::logic_error("bytecode: bad lag slot");
      code_.push_back({BC::Lag, ir::Fn::abs, n.index, n.k});
      push(1);
      return;
    case Op::LoopVar:
      code_.push_back({BC::LoopVar, ir::Fn::abs, n.index});
      push(1);
      return;
    case Op::Neg:
      emit_node(*n.args.at(0));
      code_.push_back({BC::Neg});
      return;
    case Op::Not:
      emit_node(*n.args.at(0));
      code_.push_back({BC::Not});
      return;
    case Op::Add:
      bin(BC::Add);
      return;
    case Op::Sub:
      bin(BC::Sub);
      return;
    case Op::Mul:
      bin(BC::Mul);
      return;
    case Op::Div:
      bin(BC::Div);
      return;
    case Op::FloorDiv:
      bin(BC::FloorDiv);
      return;
    case Op::Mod:
      bin(BC::Mod);
      return;
    case Op::Pow:
      bin(BC::Pow);
      return;
    case Op::Lt:
      bin(BC::Lt);
      return;
    case Op::Le:
      bin(BC::Le);
      return;
    case Op::Gt:
      bin(BC::Gt);
      return;
    case Op::Ge:
      bin(BC::Ge);
      return;
    case Op::Eq:
      bin(BC::Eq);
      return;
    case Op::Ne:
      bin(BC::Ne);
      return;
    case Op::And:
    case Op::Or: {
      emit_node(*n.args.at(0));
      const auto j = here();
      code_.push_back({n.op == Op::And ? BC::AndJmp : BC::OrJmp});
      push(-1);
      emit_node(*n.args.at(1));
      code_[j].a = here();
      return;
    }
    case Op::Select: {
      emit_node(*n.args.at(0));
      const auto jf = here();
      code_.push_back({BC::JmpFPop});
      push(-1);
      emit_node(*n.args.at(1));
      const auto je = here();
      code_.push_back({BC::Jmp});
      push(-1);
      code_[jf].a = here();
      emit_node(*n.args.at(2));
      code_[je].a = here();
      return;
    }
    case Op::Call: {
      const int na = static_cast<int>(n.args.size());
      for (const auto& a : n.args) emit_node(*a);
      if (n.fn == ir::Fn::min || n.fn == ir::Fn::max) {
        code_.push_back({n.fn == ir::Fn::min ? BC::MinN : BC::MaxN, n.fn, na});
        push(1 - na);
      } else if (na == 1) {
        code_.push_back({BC::Call1, n.fn});
      } else if (na == 2) {
        code_.push_back({BC::Call2, n.fn});
        push(-1);
      } else {
        throw std::logic_error("bytecode: bad arity for a math call");
      }
      return;
    }
    case Op::Sum:
    case Op::Prod: {
      const int slot = n.index;
      if (slot < 0 || slot >= n_loop_) throw std::logic_error("bytecode: bad loop slot");
      emit_node(*n.args.at(0));
      emit_node(*n.args.at(1));
      emit_node(*n.args.at(2));
      code_.push_back({BC::LoopInit, ir::Fn::abs, slot});
      push(-3);
      code_.push_back({BC::Const, ir::Fn::abs, 0, 0, n.op == Op::Sum ? 0.0 : 1.0});
      push(1);
      const auto top = here();
      code_.push_back({BC::LoopTest, ir::Fn::abs, slot});
      std::vector<std::int32_t> skips;
      for (std::size_t c = 4; c < n.args.size(); ++c) {
        emit_node(*n.args[c]);
        skips.push_back(here());
        code_.push_back({BC::JmpFPop});
        push(-1);
      }
      emit_node(*n.args.at(3));
      code_.push_back({n.op == Op::Sum ? BC::AccAdd : BC::AccMul});
      push(-1);
      const auto inc = here();
      for (auto s : skips) code_[s].a = inc;
      code_.push_back({BC::LoopInc, ir::Fn::abs, slot});
      code_.push_back({BC::Jmp, ir::Fn::abs, top});
      code_[top].b = here();
      return;
    }
  }
  throw std::logic_error("bytecode: unknown op");
}

namespace {
inline double call1(ir::Fn f, double x) {
  using ir::Fn;
  switch (f) {
    case Fn::abs:
      return std::fabs(x);
    case Fn::round:
      return py::round_half_even(x);
    case Fn::exp:
      return std::exp(x);
    case Fn::expm1:
      return std::expm1(x);
    case Fn::log:
      return std::log(x);
    case Fn::log10:
      return std::log10(x);
    case Fn::log2:
      return std::log2(x);
    case Fn::log1p:
      return std::log1p(x);
    case Fn::sqrt:
      return std::sqrt(x);
    case Fn::sin:
      return std::sin(x);
    case Fn::cos:
      return std::cos(x);
    case Fn::tan:
      return std::tan(x);
    case Fn::asin:
      return std::asin(x);
    case Fn::acos:
      return std::acos(x);
    case Fn::atan:
      return std::atan(x);
    case Fn::sinh:
      return std::sinh(x);
    case Fn::cosh:
      return std::cosh(x);
    case Fn::tanh:
      return std::tanh(x);
    case Fn::asinh:
      return std::asinh(x);
    case Fn::acosh:
      return std::acosh(x);
    case Fn::atanh:
      return std::atanh(x);
    case Fn::floor:
      return std::floor(x);
    case Fn::ceil:
      return std::ceil(x);
    case Fn::trunc:
      return std::trunc(x);
    case Fn::erf:
      return std::erf(x);
    case Fn::erfc:
      return std::erfc(x);
    case Fn::to_int:
      return std::trunc(x);
    case Fn::to_float:
      return x;
    case Fn::to_bool:
      return py::truthy(x);
    default:
      return std::nan("");
  }
}
inline double call2(ir::Fn f, double x, double y) {
  using ir::Fn;
  switch (f) {
    case Fn::atan2:
      return std::atan2(x, y);
    case Fn::hypot:
      return std::hypot(x, y);
    case Fn::copysign:
      return std::copysign(x, y);
    case Fn::pow:
      return std::pow(x, y);
    case Fn::min:
      return py::min2(x, y);
    case Fn::max:
      return py::max2(x, y);
    case Fn::round:
      return std::nan("");  // round(x, nd) is not lowered to a 2-arg call
    default:
      return std::nan("");
  }
}
}  // namespace

double Program::run(std::int32_t pc, const Env& env, double* st, std::int64_t* ls, double* lv) const {
  int sp = 0;  // number of values on the stack
  const Instr* code = code_.data();
  for (;;) {
    const Instr& in = code[pc++];
    switch (in.op) {
      case BC::Const:
        st[sp++] = in.v;
        break;
      case BC::State:
        st[sp++] = env.y[in.a];
        break;
      case BC::Param:
        st[sp++] = env.p[in.a];
        break;
      case BC::Time:
        st[sp++] = env.t;
        break;
      case BC::Lag: {
        const std::int64_t depth = lag_depth_[in.a];
        std::int64_t idx = (env.head[in.a] - in.b + env.shift) % depth;
        if (idx < 0) idx += depth;
        st[sp++] = env.ring[lag_off_[in.a] + idx];
        break;
      }
      case BC::LoopVar:
        st[sp++] = lv[in.a];
        break;
      case BC::Neg:
        st[sp - 1] = -st[sp - 1];
        break;
      case BC::Not:
        st[sp - 1] = st[sp - 1] != 0.0 ? 0.0 : 1.0;
        break;
#define DYN_BIN(OPC, EXPR)       \
  case BC::OPC: {                \
    const double b = st[--sp];   \
    const double a = st[sp - 1]; \
    st[sp - 1] = (EXPR);         \
    break;                       \
  }
        DYN_BIN(Add, a + b)
        DYN_BIN(Sub, a - b)
        DYN_BIN(Mul, a * b)
        DYN_BIN(Div, a / b)
        DYN_BIN(FloorDiv, py::floordiv(a, b))
        DYN_BIN(Mod, py::mod(a, b))
        DYN_BIN(Pow, std::pow(a, b))
        DYN_BIN(Lt, a < b ? 1.0 : 0.0)
        DYN_BIN(Le, a <= b ? 1.0 : 0.0)
        DYN_BIN(Gt, a > b ? 1.0 : 0.0)
        DYN_BIN(Ge, a >= b ? 1.0 : 0.0)
        DYN_BIN(Eq, a == b ? 1.0 : 0.0)
        DYN_BIN(Ne, a != b ? 1.0 : 0.0)
#undef DYN_BIN
      case BC::AndJmp:
        if (st[sp - 1] == 0.0)
          pc = in.a;
        else
          --sp;
        break;
      case BC::OrJmp:
        if (st[sp - 1] != 0.0)
          pc = in.a;
        else
          --sp;
        break;
      case BC::JmpFPop:
        if (st[--sp] == 0.0) pc = in.a;
        break;
      case BC::Jmp:
        pc = in.a;
        break;
      case BC::Call1:
        st[sp - 1] = call1(in.fn, st[sp - 1]);
        break;
      case BC::Call2: {
        const double b = st[--sp];
        st[sp - 1] = call2(in.fn, st[sp - 1], b);
        break;
      }
      case BC::MinN:
      case BC::MaxN: {
        const int na = in.a;
        double cur = st[sp - na];
        for (int k = 1; k < na; ++k)
          cur = in.op == BC::MinN ? py::min2(cur, st[sp - na + k]) : py::max2(cur, st[sp - na + k]);
        sp -= na;
        st[sp++] = cur;
        break;
      }
      case BC::LoopInit: {
        const double step = st[--sp], stop = st[--sp], start = st[--sp];
        std::int64_t* s = ls + 3 * in.a;
        s[0] = static_cast<std::int64_t>(std::trunc(start));
        s[1] = static_cast<std::int64_t>(std::trunc(stop));
        s[2] = static_cast<std::int64_t>(std::trunc(step));
        break;
      }
      case BC::LoopTest: {
        const std::int64_t* s = ls + 3 * in.a;
        const bool go = s[2] > 0 ? s[0] < s[1] : (s[2] < 0 ? s[0] > s[1] : false);
        if (go)
          lv[in.a] = static_cast<double>(s[0]);
        else
          pc = in.b;
        break;
      }
      case BC::LoopInc:
        ls[3 * in.a] += ls[3 * in.a + 2];
        break;
      case BC::AccAdd: {
        const double b = st[--sp];
        st[sp - 1] = st[sp - 1] + b;
        break;
      }
      case BC::AccMul: {
        const double b = st[--sp];
        st[sp - 1] = st[sp - 1] * b;
        break;
      }
      case BC::StoreOut:
        env.out[in.a] = st[--sp];
        break;
      case BC::Halt:
        return sp > 0 ? st[sp - 1] : 0.0;
    }
  }
}

double Program::eval(std::int32_t entry, const Env& env) const {
  constexpr int kStack = 64, kLoops = 8;
  if (max_stack_ <= kStack && n_loop_ <= kLoops) {
    double st[kStack];
    std::int64_t ls[3 * kLoops];
    double lv[kLoops];
    return run(entry, env, st, ls, lv);
  }
  thread_local std::vector<double> st, lv;
  thread_local std::vector<std::int64_t> ls;
  if (st.size() < static_cast<std::size_t>(max_stack_)) st.resize(max_stack_);
  if (lv.size() < static_cast<std::size_t>(n_loop_)) lv.resize(n_loop_);
  if (ls.size() < static_cast<std::size_t>(3 * n_loop_)) ls.resize(3 * n_loop_);
  // Nested use of the thread buffers does not happen: evaluation never calls back into eval().
  return run(entry, env, st.data(), ls.data(), lv.data());
}

}  // namespace dynlib::interp
