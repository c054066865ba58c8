#include "interp/bytecode.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "kernels/pymath.hpp"
#include "util/deep_stack.hpp"

namespace dynlib::interp {

namespace py = dynlib::kernels::py;

namespace {

// While an entry is compiled, operands name a slot by kind and index; the entry's frame layout is
// known only at its end (how many states, params, constants and temporaries it uses), when every
// operand is relocated to its frame index.
enum SlotKind : std::uint32_t { kTime = 0, kState, kParam, kLoopVar, kConst, kResult, kTemp, kOut };
constexpr int kKindShift = 28;
constexpr std::int32_t kIndexMask = (std::int32_t{1} << kKindShift) - 1;

std::int32_t sym(SlotKind k, std::int64_t index) {
  if (index < 0 || index > kIndexMask) throw std::logic_error("bytecode: slot index out of range");
  return static_cast<std::int32_t>((static_cast<std::uint32_t>(k) << kKindShift) |
                                   static_cast<std::uint32_t>(index));
}
SlotKind kind_of(std::int32_t s) {
  return static_cast<SlotKind>(static_cast<std::uint32_t>(s) >> kKindShift);
}
std::int32_t index_of(std::int32_t s) { return s & kIndexMask; }

// Which operand fields of an instruction are frame slots: bits d = 1, a = 2, b = 4, c = 8.
unsigned slot_fields(BC op) {
  switch (op) {
    case BC::Mov:
    case BC::Neg:
    case BC::Not:
    case BC::Call1:
      return 1 | 2;
    case BC::Lag:
    case BC::LoopTest:
      return 1;
    case BC::JmpZ:
    case BC::JmpNZ:
      return 2;
    case BC::Jmp:
    case BC::LoopInc:
    case BC::Halt:
      return 0;
    case BC::LoopInit:
      return 2 | 4 | 8;
    default:
      return (op >= BC::L_Add_Add && op < BC::O_Add) || op >= BC::O_L_Add_Add ? 1 | 2 | 4 | 8 : 1 | 2 | 4;
  }
}

// The variant of an arithmetic opcode that writes out[d].
BC out_variant(BC op) {
  const int k = static_cast<int>(op);
  if (op >= BC::Add && op <= BC::Div)
    return static_cast<BC>(static_cast<int>(BC::O_Add) + k - static_cast<int>(BC::Add));
  if (op >= BC::L_Add_Add && op < BC::O_Add)
    return static_cast<BC>(static_cast<int>(BC::O_L_Add_Add) + k - static_cast<int>(BC::L_Add_Add));
  throw std::logic_error("bytecode: no output variant");
}

int arith_index(ir::Op op) {
  switch (op) {
    case ir::Op::Add:
      return 0;
    case ir::Op::Sub:
      return 1;
    case ir::Op::Mul:
      return 2;
    case ir::Op::Div:
      return 3;
    default:
      return -1;
  }
}

bool is_leaf(const ir::Node& n) {
  return n.op == ir::Op::Const || n.op == ir::Op::State || n.op == ir::Op::Param || n.op == ir::Op::Time ||
         n.op == ir::Op::LoopVar;
}

// A binary + - * / node: the candidates for fusing with their parent.
bool is_arith(const ir::Node& n) { return arith_index(n.op) >= 0 && n.args.size() == 2; }

}  // namespace

// Compiles one entry: a register allocation that follows the tree (temporaries are a stack: a node's
// value lives in the first free temporary, its operands' temporaries are freed when it is computed).
class Program::Compiler {
 public:
  Compiler(Program& p, Entry& e) : P_(p), E_(e), first_(static_cast<std::int32_t>(p.code_.size())) {}

  // Returns the slot that holds the node's value: `want` if given (>= 0), else a leaf's own slot or the
  // first free temporary. On return the temporaries above the entry's free mark are free again, except
  // the one holding the value.
  std::int32_t gen(const ir::Node& n, std::int32_t want) {
    using ir::Op;
    if (util::stack_low()) throw std::runtime_error("bytecode: expression nested too deeply");
    const std::int32_t start = nt_;
    switch (n.op) {
      case Op::Const:
        return leaf(const_slot(n.value), want);
      case Op::State:
        use(y_lo_, y_hi_, n.index);
        return leaf(sym(kState, n.index), want);
      case Op::Param:
        use(p_lo_, p_hi_, n.index);
        return leaf(sym(kParam, n.index), want);
      case Op::Time:
        return leaf(sym(kTime, 0), want);
      case Op::LoopVar:
        if (n.index < 0 || n.index >= P_.n_loop_) throw std::logic_error("bytecode: bad loop slot");
        return leaf(sym(kLoopVar, n.index), want);
      case Op::Lag: {
        if (n.index < 0 || n.index >= static_cast<int>(P_.lag_off_.size()))
          throw std::logic_error("bytecode: bad lag slot");
        const auto d = dest(want, start);
        emit(BC::Lag, d, n.index, n.k);
        return d;
      }
      case Op::Neg:
      case Op::Not: {
        const auto a = gen(arg(n, 0), -1);
        const auto d = dest(want, start);
        emit(n.op == Op::Neg ? BC::Neg : BC::Not, d, a);
        return d;
      }
      case Op::Add:
      case Op::Sub:
      case Op::Mul:
      case Op::Div:
        return arith(n, want);
      case Op::FloorDiv:
        return binary(n, BC::FloorDiv, want);
      case Op::Mod:
        return binary(n, BC::Mod, want);
      case Op::Pow:
        return binary(n, BC::Pow, want);
      case Op::Lt:
        return binary(n, BC::Lt, want);
      case Op::Le:
        return binary(n, BC::Le, want);
      case Op::Gt:
        return binary(n, BC::Gt, want);
      case Op::Ge:
        return binary(n, BC::Ge, want);
      case Op::Eq:
        return binary(n, BC::Eq, want);
      case Op::Ne:
        return binary(n, BC::Ne, want);
      case Op::And:
      case Op::Or: {
        // a and b = a if a is falsy else b; a or b = a if a is truthy else b. The value goes to d first.
        const auto d = want >= 0 ? want : alloc();
        gen(arg(n, 0), d);
        const auto j = here();
        emit(n.op == Op::And ? BC::JmpZ : BC::JmpNZ, 0, d);
        gen(arg(n, 1), d);
        P_.code_[j].b = here();
        return d;
      }
      case Op::Select: {
        const auto cond = gen(arg(n, 0), -1);
        const auto jf = here();
        emit(BC::JmpZ, 0, cond);
        nt_ = start;
        const auto d = want >= 0 ? want : alloc();  // keeps d out of the branches' temporaries
        gen(arg(n, 1), d);
        const auto je = here();
        emit(BC::Jmp);
        P_.code_[jf].b = here();
        gen(arg(n, 2), d);
        P_.code_[je].b = here();
        return d;
      }
      case Op::Call:
        return call(n, want);
      case Op::Sum:
      case Op::Prod:
        return loop(n, want);
    }
    throw std::logic_error("bytecode: unknown op");
  }

  // The value of a block's equation k: written straight to out[k] by the last instruction when that is
  // an arithmetic one, else left in result slot k (or in a leaf's own slot) and copied at the end.
  std::int32_t gen_result(const ir::Node& n, std::int32_t k) {
    if (is_leaf(n)) return gen(n, -1);
    if (is_arith(n)) return gen(n, sym(kOut, k));  // arith() ends with one instruction writing `want`
    return gen(n, sym(kResult, k));
  }

  // Ends the entry: lays out its frame and relocates every operand.
  void finish(int n_results, std::vector<std::int32_t>& slots) {
    emit(BC::Halt);
    E_.pc = first_;
    E_.y_lo = y_hi_ > y_lo_ ? y_lo_ : 0;
    E_.n_y = std::max(0, y_hi_ - y_lo_);
    E_.p_lo = p_hi_ > p_lo_ ? p_lo_ : 0;
    E_.n_p = std::max(0, p_hi_ - p_lo_);
    E_.y_base = 1;
    E_.p_base = E_.y_base + E_.n_y;
    const std::int64_t lv_base = E_.p_base + E_.n_p;
    E_.k_base = static_cast<std::int32_t>(lv_base + P_.n_loop_);
    E_.k_off = static_cast<std::int32_t>(P_.consts_.size());
    E_.n_k = static_cast<std::int32_t>(consts_.size());
    P_.consts_.insert(P_.consts_.end(), consts_.begin(), consts_.end());
    const std::int64_t r_base = std::int64_t{E_.k_base} + E_.n_k;
    const std::int64_t t_base = r_base + n_results;
    const std::int64_t frame = t_base + max_nt_;
    if (frame > kIndexMask) throw std::runtime_error("bytecode: expression too large");
    auto reloc = [&](std::int32_t s) -> std::int32_t {
      const std::int64_t i = index_of(s);
      switch (kind_of(s)) {
        case kTime:
          return 0;
        case kState:
          return static_cast<std::int32_t>(E_.y_base + i - E_.y_lo);
        case kParam:
          return static_cast<std::int32_t>(E_.p_base + i - E_.p_lo);
        case kLoopVar:
          return static_cast<std::int32_t>(lv_base + i);
        case kConst:
          return static_cast<std::int32_t>(E_.k_base + i);
        case kResult:
          return static_cast<std::int32_t>(r_base + i);
        case kTemp:
          return static_cast<std::int32_t>(t_base + i);
        case kOut:
          return -1;  // written by the instruction itself
      }
      throw std::logic_error("bytecode: bad slot kind");
    };
    for (std::size_t pc = static_cast<std::size_t>(first_); pc < P_.code_.size(); ++pc) {
      Instr& in = P_.code_[pc];
      const unsigned f = slot_fields(in.op);
      if ((f & 1) && kind_of(in.d) == kOut) {
        in.op = out_variant(in.op);
        in.d = index_of(in.d);
      } else if (f & 1) {
        in.d = reloc(in.d);
      }
      if (f & 2) in.a = reloc(in.a);
      if (f & 4) in.b = reloc(in.b);
      if (f & 8) in.c = reloc(in.c);
      in.handler = P_.labels_[static_cast<int>(in.op)];
    }
    for (auto& s : slots) s = reloc(s);
    E_.frame = static_cast<std::int32_t>(frame);
    P_.max_frame_ = std::max(P_.max_frame_, static_cast<int>(frame));
  }

 private:
  Program& P_;
  Entry& E_;
  std::int32_t first_;
  std::int32_t nt_ = 0, max_nt_ = 0;  // temporaries in use / most ever in use
  std::int32_t y_lo_ = 0, y_hi_ = 0, p_lo_ = 0, p_hi_ = 0;
  std::vector<double> consts_;
  std::unordered_map<std::uint64_t, std::size_t> const_index_;  // by bit pattern: 0.0 and -0.0 differ

  static const ir::Node& arg(const ir::Node& n, std::size_t i) {
    if (i >= n.args.size() || !n.args[i]) throw std::logic_error("bytecode: malformed expression node");
    return *n.args[i];
  }
  std::int32_t here() const { return static_cast<std::int32_t>(P_.code_.size()); }
  void emit(BC op, std::int32_t d = 0, std::int32_t a = 0, std::int32_t b = 0, std::int32_t c = 0,
            ir::Fn fn = ir::Fn::abs) {
    Instr in;
    in.op = op;
    in.fn = fn;
    in.d = d;
    in.a = a;
    in.b = b;
    in.c = c;
    P_.code_.push_back(in);
  }
  std::int32_t alloc() {
    const auto s = sym(kTemp, nt_++);
    max_nt_ = std::max(max_nt_, nt_);
    return s;
  }
  // The destination of a node whose operands are computed: `want`, or the first temporary at or above
  // the node's own free mark (operand temporaries are read before the result is written).
  std::int32_t dest(std::int32_t want, std::int32_t start) {
    nt_ = start;
    return want >= 0 ? want : alloc();
  }
  std::int32_t leaf(std::int32_t slot, std::int32_t want) {
    if (want < 0) return slot;
    emit(BC::Mov, want, slot);
    return want;
  }
  static void use(std::int32_t& lo, std::int32_t& hi, std::int32_t i) {
    if (i < 0) throw std::logic_error("bytecode: negative state or param index");
    if (hi == lo) {
      lo = i;
      hi = i + 1;
    } else {
      lo = std::min(lo, i);
      hi = std::max(hi, i + 1);
    }
  }
  std::int32_t const_slot(double v) {
    const auto [it, added] = const_index_.try_emplace(std::bit_cast<std::uint64_t>(v), consts_.size());
    if (added) consts_.push_back(v);
    return sym(kConst, static_cast<std::int64_t>(it->second));
  }
  // Both operands; a node used twice (x*x from x**2) is computed once.
  std::pair<std::int32_t, std::int32_t> operands(const ir::Node& n) {
    const auto a = gen(arg(n, 0), -1);
    const auto b = n.args.at(1) == n.args.at(0) ? a : gen(arg(n, 1), -1);
    return {a, b};
  }
  std::int32_t binary(const ir::Node& n, BC op, std::int32_t want) {
    const std::int32_t start = nt_;
    const auto [a, b] = operands(n);
    const auto d = dest(want, start);
    emit(op, d, a, b);
    return d;
  }
  // + - * /: fused with an arithmetic operand into one instruction when there is one (left preferred,
  // unless only the right one has leaf operands and so cannot fuse further down).
  std::int32_t arith(const ir::Node& n, std::int32_t want) {
    const std::int32_t start = nt_;
    const int o = arith_index(n.op);
    if (n.args.size() != 2) throw std::logic_error("bytecode: malformed expression node");
    const ir::Node& l = arg(n, 0);
    const ir::Node& r = arg(n, 1);
    auto leafy = [](const ir::Node& x) { return is_leaf(arg(x, 0)) && is_leaf(arg(x, 1)); };
    const bool fl = is_arith(l) && &l != &r;
    const bool fr = is_arith(r) && &l != &r;
    if (fl && (!fr || leafy(r) <= leafy(l))) {
      const auto [a, b] = operands(l);
      const auto c = gen(r, -1);
      const auto d = dest(want, start);
      emit(static_cast<BC>(static_cast<int>(BC::L_Add_Add) + 4 * arith_index(l.op) + o), d, a, b, c);
      return d;
    }
    if (fr) {
      const auto a = gen(l, -1);
      const auto [b, c] = operands(r);
      const auto d = dest(want, start);
      emit(static_cast<BC>(static_cast<int>(BC::R_Add_Add) + 4 * arith_index(r.op) + o), d, a, b, c);
      return d;
    }
    static constexpr BC kPlain[] = {BC::Add, BC::Sub, BC::Mul, BC::Div};
    return binary(n, kPlain[o], want);
  }
  std::int32_t call(const ir::Node& n, std::int32_t want) {
    const std::int32_t start = nt_;
    const int na = static_cast<int>(n.args.size());
    if (n.fn == ir::Fn::min || n.fn == ir::Fn::max) {
      if (na < 1) throw std::logic_error("bytecode: bad arity for a math call");
      std::vector<std::int32_t> s;
      for (int k = 0; k < na; ++k) s.push_back(gen(arg(n, static_cast<std::size_t>(k)), -1));
      if (na == 1) {
        const auto d = dest(want, start);
        emit(BC::Mov, d, s[0]);
        return d;
      }
      // Folded left to right: cur = min2(cur, next). With more than two operands d must not be the slot
      // of a later one, so it goes above them all (their temporaries are freed by the parent).
      const auto d = na == 2 ? dest(want, start) : (want >= 0 ? want : alloc());
      const BC op = n.fn == ir::Fn::min ? BC::Min2 : BC::Max2;
      emit(op, d, s[0], s[1]);
      for (int k = 2; k < na; ++k) emit(op, d, d, s[static_cast<std::size_t>(k)]);
      return d;
    }
    if (na == 1) {
      const auto a = gen(arg(n, 0), -1);
      const auto d = dest(want, start);
      emit(BC::Call1, d, a, 0, 0, n.fn);
      return d;
    }
    if (na == 2) {
      const auto [a, b] = operands(n);
      const auto d = dest(want, start);
      emit(BC::Call2, d, a, b, 0, n.fn);
      return d;
    }
    throw std::logic_error("bytecode: bad arity for a math call");
  }
  // sum/prod over range(int(start), int(stop), int(step)) with optional conditions.
  std::int32_t loop(const ir::Node& n, std::int32_t want) {
    const std::int32_t start = nt_;
    const int slot = n.index;
    if (slot < 0 || slot >= P_.n_loop_) throw std::logic_error("bytecode: bad loop slot");
    const auto a = gen(arg(n, 0), -1);
    const auto b = gen(arg(n, 1), -1);
    const auto c = gen(arg(n, 2), -1);
    emit(BC::LoopInit, slot, a, b, c);
    const auto acc = dest(want, start);  // `want` is never a temporary the body can use
    emit(BC::Mov, acc, const_slot(n.op == ir::Op::Sum ? 0.0 : 1.0));
    const std::int32_t body_start = nt_;
    const auto top = here();
    emit(BC::LoopTest, sym(kLoopVar, slot), slot);
    std::vector<std::int32_t> skips;
    for (std::size_t k = 4; k < n.args.size(); ++k) {
      const auto cond = gen(arg(n, k), -1);
      nt_ = body_start;
      skips.push_back(here());
      emit(BC::JmpZ, 0, cond);
    }
    const auto v = gen(arg(n, 3), -1);
    nt_ = body_start;
    emit(n.op == ir::Op::Sum ? BC::Add : BC::Mul, acc, acc, v);
    const auto inc = here();
    for (auto s : skips) P_.code_[static_cast<std::size_t>(s)].b = inc;
    emit(BC::LoopInc, 0, slot);
    emit(BC::Jmp, 0, 0, top);
    P_.code_[static_cast<std::size_t>(top)].b = here();
    return acc;
  }
};

Program::Program(const ir::ModelIR& m) {
  for (const auto& L : m.lags) {
    lag_off_.push_back(L.offset);
    lag_depth_.push_back(L.depth);
  }
  n_loop_ = m.n_loop_slots;
  run(nullptr, Env{}, nullptr, nullptr);
}

std::int32_t Program::add_expr(const ir::Expr& e) {
  if (!e) throw std::logic_error("bytecode: null expression");
  if (auto it = entries_.find(e.get()); it != entries_.end()) return it->second;
  Entry E;
  Compiler c(*this, E);
  std::vector<std::int32_t> result{c.gen(*e, -1)};
  c.finish(0, result);
  E.result = result[0];
  const auto id = static_cast<std::int32_t>(entry_info_.size());
  entry_info_.push_back(E);
  entries_.emplace(e.get(), id);
  keep_.push_back(e);
  return id;
}

std::int32_t Program::add_block(const std::vector<ir::Expr>& es) {
  Entry E;
  E.block = true;
  Compiler c(*this, E);
  std::vector<std::int32_t> slots;
  for (std::size_t k = 0; k < es.size(); ++k) {
    if (!es[k]) throw std::logic_error("bytecode: null expression");
    slots.push_back(c.gen_result(*es[k], static_cast<std::int32_t>(k)));
  }
  c.finish(static_cast<int>(es.size()), slots);
  E.late_off = static_cast<std::int32_t>(late_.size());
  for (std::size_t k = 0; k < slots.size(); ++k)
    if (slots[k] >= 0) {
      late_.push_back(static_cast<std::int32_t>(k));
      late_.push_back(slots[k]);
      ++E.n_late;
    }
  const auto id = static_cast<std::int32_t>(entry_info_.size());
  entry_info_.push_back(E);
  return id;
}

namespace {
using Fn1 = double (*)(double);

double call1_nan(double) { return std::nan(""); }

// One function per one-argument Fn (indexed by the enum), the same libm calls as the JIT's.
struct Fn1Table {
  Fn1 f[64];
  constexpr Fn1Table() : f{} {
    using ir::Fn;
    for (auto& x : f) x = call1_nan;
    auto set = [&](Fn k, Fn1 g) { f[static_cast<int>(k)] = g; };
    set(Fn::abs, [](double x) { return std::fabs(x); });
    set(Fn::round, [](double x) { return py::round_half_even(x); });
    set(Fn::exp, [](double x) { return std::exp(x); });
    set(Fn::expm1, [](double x) { return std::expm1(x); });
    set(Fn::log, [](double x) { return std::log(x); });
    set(Fn::log10, [](double x) { return std::log10(x); });
    set(Fn::log2, [](double x) { return std::log2(x); });
    set(Fn::log1p, [](double x) { return std::log1p(x); });
    set(Fn::sqrt, [](double x) { return std::sqrt(x); });
    set(Fn::sin, [](double x) { return std::sin(x); });
    set(Fn::cos, [](double x) { return std::cos(x); });
    set(Fn::tan, [](double x) { return std::tan(x); });
    set(Fn::asin, [](double x) { return std::asin(x); });
    set(Fn::acos, [](double x) { return std::acos(x); });
    set(Fn::atan, [](double x) { return std::atan(x); });
    set(Fn::sinh, [](double x) { return std::sinh(x); });
    set(Fn::cosh, [](double x) { return std::cosh(x); });
    set(Fn::tanh, [](double x) { return std::tanh(x); });
    set(Fn::asinh, [](double x) { return std::asinh(x); });
    set(Fn::acosh, [](double x) { return std::acosh(x); });
    set(Fn::atanh, [](double x) { return std::atanh(x); });
    set(Fn::floor, [](double x) { return std::floor(x); });
    set(Fn::ceil, [](double x) { return std::ceil(x); });
    set(Fn::trunc, [](double x) { return std::trunc(x); });
    set(Fn::erf, [](double x) { return std::erf(x); });
    set(Fn::erfc, [](double x) { return std::erfc(x); });
    set(Fn::to_int, [](double x) { return std::trunc(x); });
    set(Fn::to_float, [](double x) { return x; });
    set(Fn::to_bool, [](double x) { return py::truthy(x); });
  }
};
const Fn1Table kFn1;

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
// Copies the few inputs of an entry into its frame (and a block's results out), one double at a time.
// The values were just written by scalar stores (the stepper's stage vector, the handlers' results): a
// 16-byte load over two of them would miss store forwarding and stall, and a memcpy call costs more than
// the copy for the handful of doubles of a small model. The empty asm keeps GCC from vectorising the
// loop or turning it back into a call.
inline void copy_doubles(double* dst, const double* src, std::int32_t n) {
  std::int32_t k = 0;
  for (; k + 2 <= n; k += 2) {
    const double a = src[k];
    __asm__ __volatile__("" ::: "memory");
    const double b = src[k + 1];
    dst[k] = a;
    __asm__ __volatile__("" ::: "memory");
    dst[k + 1] = b;
  }
  if (k < n) dst[k] = src[k];
}
}  // namespace

// Threaded dispatch: every handler ends with its own indirect jump to the next instruction's handler,
// whose address the instruction holds (GNU computed goto). The branch predictor learns the sequence
// handler by handler, and no opcode-to-address table lookup sits between two instructions.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
double Program::run(const Entry* ep, const Env& env, double* F, std::int64_t* ls) const {
#define DYN_LABEL2(N, S) &&op_##N,
#define DYN_LABEL_L(I, IS, O, OS) &&op_L_##I##_##O,
#define DYN_LABEL_R(I, IS, O, OS) &&op_R_##O##_##I,
#define DYN_LABEL_O2(N, S) &&op_O_##N,
#define DYN_LABEL_OL(I, IS, O, OS) &&op_O_L_##I##_##O,
#define DYN_LABEL_OR(I, IS, O, OS) &&op_O_R_##O##_##I,
  // clang-format off
  static const void* const kLabels[] = {
      &&op_Mov, &&op_Neg, &&op_Not, DYNLIB_BC_ARITH(DYN_LABEL2) &&op_FloorDiv, &&op_Mod, &&op_Pow, &&op_Lt,
      &&op_Le, &&op_Gt, &&op_Ge, &&op_Eq, &&op_Ne, &&op_Min2, &&op_Max2, &&op_Call1, &&op_Call2, &&op_Lag,
      &&op_JmpZ, &&op_JmpNZ, &&op_Jmp, &&op_LoopInit, &&op_LoopTest, &&op_LoopInc,
      DYNLIB_BC_PAIRS(DYN_LABEL_L) DYNLIB_BC_PAIRS(DYN_LABEL_R)
      DYNLIB_BC_ARITH(DYN_LABEL_O2) DYNLIB_BC_PAIRS(DYN_LABEL_OL) DYNLIB_BC_PAIRS(DYN_LABEL_OR) &&op_Halt};
  // clang-format on
#undef DYN_LABEL2
#undef DYN_LABEL_L
#undef DYN_LABEL_R
#undef DYN_LABEL_O2
#undef DYN_LABEL_OL
#undef DYN_LABEL_OR
  static_assert(sizeof kLabels / sizeof kLabels[0] == static_cast<std::size_t>(BC::Halt) + 1);
  if (!ep) {
    const_cast<Program*>(this)->labels_ = kLabels;  // from the constructor, before any entry exists
    return 0.0;
  }
  const Entry& e = *ep;

  F[0] = env.t;
  copy_doubles(F + e.y_base, env.y + e.y_lo, e.n_y);
  copy_doubles(F + e.p_base, env.p + e.p_lo, e.n_p);
  copy_doubles(F + e.k_base, consts_.data() + e.k_off, e.n_k);
  double* const out = env.out;
  const Instr* const code = code_.data();
  const Instr* ip = code + e.pc;
  const Instr* in;
#define DYN_NEXT                          \
  do {                                    \
    in = ip++;                            \
    goto* const_cast<void*>(in->handler); \
  } while (0)
  DYN_NEXT;
op_Mov:
  F[in->d] = F[in->a];
  DYN_NEXT;
op_Neg:
  F[in->d] = -F[in->a];
  DYN_NEXT;
op_Not:
  F[in->d] = F[in->a] != 0.0 ? 0.0 : 1.0;
  DYN_NEXT;
#define DYN_BIN(OPC, EXPR)     \
  op_##OPC : {                 \
    const double a = F[in->a]; \
    const double b = F[in->b]; \
    F[in->d] = (EXPR);         \
    DYN_NEXT;                  \
  }
#define DYN_ARITH_CASE(N, S) DYN_BIN(N, a S b)
  DYNLIB_BC_ARITH(DYN_ARITH_CASE)
#undef DYN_ARITH_CASE
  DYN_BIN(FloorDiv, py::floordiv(a, b))
  DYN_BIN(Mod, py::mod(a, b))
  DYN_BIN(Pow, std::pow(a, b))
  DYN_BIN(Lt, a < b ? 1.0 : 0.0)
  DYN_BIN(Le, a <= b ? 1.0 : 0.0)
  DYN_BIN(Gt, a > b ? 1.0 : 0.0)
  DYN_BIN(Ge, a >= b ? 1.0 : 0.0)
  DYN_BIN(Eq, a == b ? 1.0 : 0.0)
  DYN_BIN(Ne, a != b ? 1.0 : 0.0)
  DYN_BIN(Min2, py::min2(a, b))
  DYN_BIN(Max2, py::max2(a, b))
  DYN_BIN(Call2, call2(in->fn, a, b))
#undef DYN_BIN
  // Each operation rounds on its own (no contraction: numeric code is built with -ffp-contract=off).
#define DYN_FUSED_L(I, IS, O, OS)          \
  op_L_##I##_##O : {                       \
    const double t = F[in->a] IS F[in->b]; \
    F[in->d] = t OS F[in->c];              \
    DYN_NEXT;                              \
  }
  DYNLIB_BC_PAIRS(DYN_FUSED_L)
#undef DYN_FUSED_L
#define DYN_FUSED_R(I, IS, O, OS)          \
  op_R_##O##_##I : {                       \
    const double t = F[in->b] IS F[in->c]; \
    F[in->d] = F[in->a] OS t;              \
    DYN_NEXT;                              \
  }
  DYNLIB_BC_PAIRS(DYN_FUSED_R)
#undef DYN_FUSED_R
#define DYN_OUT2(N, S)         \
  op_O_##N : {                 \
    const double a = F[in->a]; \
    out[in->d] = a S F[in->b]; \
    DYN_NEXT;                  \
  }
  DYNLIB_BC_ARITH(DYN_OUT2)
#undef DYN_OUT2
#define DYN_OUT_L(I, IS, O, OS)            \
  op_O_L_##I##_##O : {                     \
    const double t = F[in->a] IS F[in->b]; \
    out[in->d] = t OS F[in->c];            \
    DYN_NEXT;                              \
  }
  DYNLIB_BC_PAIRS(DYN_OUT_L)
#undef DYN_OUT_L
#define DYN_OUT_R(I, IS, O, OS)            \
  op_O_R_##O##_##I : {                     \
    const double t = F[in->b] IS F[in->c]; \
    out[in->d] = F[in->a] OS t;            \
    DYN_NEXT;                              \
  }
  DYNLIB_BC_PAIRS(DYN_OUT_R)
#undef DYN_OUT_R
op_Call1:
  F[in->d] = kFn1.f[static_cast<int>(in->fn)](F[in->a]);
  DYN_NEXT;
op_Lag : {
  const std::int64_t depth = lag_depth_[static_cast<std::size_t>(in->a)];
  std::int64_t idx = (env.head[in->a] - in->b + env.shift) % depth;
  if (idx < 0) idx += depth;
  F[in->d] = env.ring[lag_off_[static_cast<std::size_t>(in->a)] + idx];
  DYN_NEXT;
}
op_JmpZ:
  if (F[in->a] == 0.0) ip = code + in->b;
  DYN_NEXT;
op_JmpNZ:
  if (F[in->a] != 0.0) ip = code + in->b;
  DYN_NEXT;
op_Jmp:
  ip = code + in->b;
  DYN_NEXT;
op_LoopInit : {
  std::int64_t* s = ls + 3 * in->d;
  s[0] = static_cast<std::int64_t>(std::trunc(F[in->a]));
  s[1] = static_cast<std::int64_t>(std::trunc(F[in->b]));
  s[2] = static_cast<std::int64_t>(std::trunc(F[in->c]));
  DYN_NEXT;
}
op_LoopTest : {
  const std::int64_t* s = ls + 3 * in->a;
  const bool go = s[2] > 0 ? s[0] < s[1] : (s[2] < 0 ? s[0] > s[1] : false);
  if (go)
    F[in->d] = static_cast<double>(s[0]);
  else
    ip = code + in->b;
  DYN_NEXT;
}
op_LoopInc:
  ls[3 * in->a] += ls[3 * in->a + 2];
  DYN_NEXT;
op_Halt:
  if (!e.block) return F[e.result];
  for (std::int32_t k = 0; k < e.n_late; ++k) {
    const std::int32_t* l = late_.data() + e.late_off + 2 * k;
    out[l[0]] = F[l[1]];
  }
  return 0.0;
#undef DYN_NEXT
}
#pragma GCC diagnostic pop

double Program::eval(std::int32_t entry, const Env& env) const {
  const Entry& e = entry_info_[static_cast<std::size_t>(entry)];
  constexpr int kFrame = 512, kLoops = 8;
  if (e.frame <= kFrame && n_loop_ <= kLoops) {
    double frame[kFrame];
    std::int64_t ls[3 * kLoops];
    return run(&e, env, frame, ls);
  }
  thread_local std::vector<double> frame;
  thread_local std::vector<std::int64_t> ls;
  if (frame.size() < static_cast<std::size_t>(e.frame)) frame.resize(static_cast<std::size_t>(e.frame));
  if (ls.size() < static_cast<std::size_t>(3 * n_loop_)) ls.resize(static_cast<std::size_t>(3 * n_loop_));
  // Nested use of the thread buffers does not happen: evaluation never calls back into eval().
  return run(&e, env, frame.data(), ls.data());
}

}  // namespace dynlib::interp
