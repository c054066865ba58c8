// Lowered ir::Expr compiled once into a flat register-machine program (no tree walk at run time).
// One Program per model holds every expression of the model; each expression or block of equations
// has an entry point. An instruction reads and writes slots of a flat frame of doubles: the time, the
// states and params the entry reads (copied in when it starts), its constants (copied from the entry's
// pool), loop variables and temporaries. A block's equation ending in + - * / writes out[k] with its
// last instruction. Common two-operation trees such as (a - b) * c run as one instruction that still
// rounds after each operation. Evaluation is double precision, Python semantics (ir.hpp), and allocates
// nothing (the frame lives on the C++ stack for usual sizes, else in a per-thread buffer grown once).
// docs/internals/interpreter.md describes the design.
#pragma once
#include <cstdint>
#include <dynlib/export.hpp>
#include <unordered_map>
#include <vector>

#include "dynlib/ir.hpp"

namespace dynlib::interp {

// clang-format off
// The four arithmetic operations in the order the fused opcodes enumerate them.
#define DYNLIB_BC_ARITH(M) M(Add, +) M(Sub, -) M(Mul, *) M(Div, /)
// Every (inner, outer) pair of them, inner-major.
#define DYNLIB_BC_PAIRS(M)                                                              \
  M(Add, +, Add, +) M(Add, +, Sub, -) M(Add, +, Mul, *) M(Add, +, Div, /)               \
  M(Sub, -, Add, +) M(Sub, -, Sub, -) M(Sub, -, Mul, *) M(Sub, -, Div, /)               \
  M(Mul, *, Add, +) M(Mul, *, Sub, -) M(Mul, *, Mul, *) M(Mul, *, Div, /)               \
  M(Div, /, Add, +) M(Div, /, Sub, -) M(Div, /, Mul, *) M(Div, /, Div, /)

// Operands d (destination), a, b, c are frame slots unless noted.
enum class BC : std::uint8_t {
  Mov,  // d = a
  Neg,
  Not,
#define DYNLIB_BC_ENUM2(N, S) N,
  DYNLIB_BC_ARITH(DYNLIB_BC_ENUM2)  // d = a op b
#undef DYNLIB_BC_ENUM2
  FloorDiv,
  Mod,
  Pow,
  Lt,
  Le,
  Gt,
  Ge,
  Eq,
  Ne,
  Min2,      // d = py::min2(a, b)
  Max2,      // d = py::max2(a, b)
  Call1,     // d = fn(a)
  Call2,     // d = fn(a, b)
  Lag,       // d = lag slot a read at depth b (numbers, not slots)
  JmpZ,      // a == 0: jump to b
  JmpNZ,     // a != 0: jump to b
  Jmp,       // jump to b
  LoopInit,  // loop number d: start a, stop b, step c (as int())
  LoopTest,  // loop number a: done -> jump to b, else d = loop variable
  LoopInc,   // loop number a
#define DYNLIB_BC_ENUM_L(I, IS, O, OS) L_##I##_##O,
  DYNLIB_BC_PAIRS(DYNLIB_BC_ENUM_L)  // d = (a I b) O c
#undef DYNLIB_BC_ENUM_L
#define DYNLIB_BC_ENUM_R(I, IS, O, OS) R_##O##_##I,
  DYNLIB_BC_PAIRS(DYNLIB_BC_ENUM_R)  // d = a O (b I c)
#undef DYNLIB_BC_ENUM_R
  // The same 36 arithmetic opcodes writing a block's output out[d] instead of a frame slot (the last
  // instruction of an equation), in the same order.
#define DYNLIB_BC_ENUM2(N, S) O_##N,
  DYNLIB_BC_ARITH(DYNLIB_BC_ENUM2)
#undef DYNLIB_BC_ENUM2
#define DYNLIB_BC_ENUM_L(I, IS, O, OS) O_L_##I##_##O,
  DYNLIB_BC_PAIRS(DYNLIB_BC_ENUM_L)
#undef DYNLIB_BC_ENUM_L
#define DYNLIB_BC_ENUM_R(I, IS, O, OS) O_R_##O##_##I,
  DYNLIB_BC_PAIRS(DYNLIB_BC_ENUM_R)
#undef DYNLIB_BC_ENUM_R
  Halt,
};
// clang-format on

struct Instr {
  const void* handler = nullptr;  // where run() executes op (set when the entry is complete)
  BC op = BC::Halt;
  ir::Fn fn = ir::Fn::abs;
  std::int32_t d = 0, a = 0, b = 0, c = 0;
};

// Evaluation environment: the time, state, params and lag view one expression is evaluated in.
struct Env {
  double t = 0.0;
  const double* y = nullptr;
  const double* p = nullptr;
  const double* ring = nullptr;
  const std::int64_t* head = nullptr;
  int shift = 0;
  double* out = nullptr;  // for blocks
};

#if defined(__clang__)
#define DYNLIB_BC_RUN_ATTRS __attribute__((visibility("hidden"), noinline))
#else
#define DYNLIB_BC_RUN_ATTRS __attribute__((visibility("hidden"), noinline, noclone))
#endif

class DYNLIB_INTERNAL_API Program {
 public:
  explicit Program(const ir::ModelIR& m);
  // Compile an expression; returns its entry. Compiling the same node twice returns the same entry.
  std::int32_t add_expr(const ir::Expr& e);
  // Compile a block: evaluates es[k] and stores it into out[k] (all from the same inputs, so out may
  // alias the states).
  std::int32_t add_block(const std::vector<ir::Expr>& es);
  // Entry of a previously added expression, -1 if unknown.
  std::int32_t entry_of(const ir::Node* n) const {
    auto it = entries_.find(n);
    return it == entries_.end() ? -1 : it->second;
  }
  double eval(std::int32_t entry, const Env& env) const;  // the expression's value (0 for blocks)
  std::size_t size() const { return code_.size(); }
  int frame_size() const { return max_frame_; }

 private:
  // Where an entry's inputs go in its frame, and where its outputs come from.
  struct Entry {
    std::int32_t pc = 0;
    std::int32_t y_lo = 0, n_y = 0, y_base = 0;   // states y[y_lo, y_lo + n_y) -> frame[y_base...]
    std::int32_t p_lo = 0, n_p = 0, p_base = 0;   // params likewise
    std::int32_t k_off = 0, n_k = 0, k_base = 0;  // consts_[k_off...] -> frame[k_base...]
    // Blocks: outputs not written by their equation's last instruction (a leaf such as x' = y, or an
    // equation ending in a call, select, ...): out[late_[2i]] = frame[late_[2i + 1]] at the end.
    std::int32_t late_off = 0, n_late = 0;
    std::int32_t result = 0;  // expressions: the value's slot
    std::int32_t frame = 1;   // frame size (doubles)
    bool block = false;
  };
  class Compiler;

  // Runs entry e; with e == nullptr, only stores the addresses of its handlers into labels_. Hidden:
  // called only from eval(), directly rather than through the PLT. Never inlined or cloned, so that the
  // handler addresses stored in the instructions stay those of the one copy that runs them.
  DYNLIB_BC_RUN_ATTRS double run(const Entry* e, const Env& env, double* frame, std::int64_t* loops) const;

  std::vector<Instr> code_;
  const void* const* labels_ = nullptr;  // handler address of each opcode, from run()
  std::vector<Entry> entry_info_;
  std::vector<double> consts_;
  std::vector<std::int32_t> late_;
  std::unordered_map<const ir::Node*, std::int32_t> entries_;
  std::vector<ir::Expr> keep_;  // keeps keyed nodes alive (pointer keys must not be reused)
  std::vector<std::int32_t> lag_off_, lag_depth_;
  int n_loop_ = 0;
  int max_frame_ = 1;
};

}  // namespace dynlib::interp
