// Lowered ir::Expr compiled once into a flat stack-machine program (no tree walk at run time).
// One Program per model holds every expression of the model; each expression or block of
// equations has an entry point. Evaluation is double precision, Python semantics (ir.hpp), and
// allocates nothing (the value/loop stacks live on the C++ stack for usual sizes, else in a
// per-thread buffer grown once).
#pragma once
#include <cstdint>
#include <dynlib/export.hpp>
#include <unordered_map>
#include <vector>

#include "dynlib/ir.hpp"

namespace dynlib::interp {

enum class BC : std::uint8_t {
  Const,
  State,
  Param,
  Time,
  Lag,
  LoopVar,
  Neg,
  Not,
  Add,
  Sub,
  Mul,
  Div,
  FloorDiv,
  Mod,
  Pow,
  Lt,
  Le,
  Gt,
  Ge,
  Eq,
  Ne,
  AndJmp,   // top falsy: keep it, jump a; else pop
  OrJmp,    // top truthy: keep it, jump a; else pop
  JmpFPop,  // pop; falsy: jump a
  Jmp,      // jump a
  Call1,
  Call2,  // fn
  MinN,
  MaxN,      // a = number of operands
  LoopInit,  // a = slot: pops step, stop, start (as int())
  LoopTest,  // a = slot, b = exit target
  LoopInc,   // a = slot
  AccAdd,
  AccMul,
  StoreOut,  // pop into out[a]
  Halt,
};

struct Instr {
  BC op = BC::Halt;
  ir::Fn fn = ir::Fn::abs;
  std::int32_t a = 0;
  std::int32_t b = 0;
  double v = 0.0;
};

// Evaluation environment: the time, state, params and lag view one expression is evaluated in.
struct Env {
  double t = 0.0;
  const double* y = nullptr;
  const double* p = nullptr;
  const double* ring = nullptr;
  const std::int64_t* head = nullptr;
  int shift = 0;
  double* out = nullptr;  // for blocks (StoreOut)
};

class DYNLIB_INTERNAL_API Program {
 public:
  explicit Program(const ir::ModelIR& m);
  // Compile an expression; returns its entry. Compiling the same node twice returns the same entry.
  std::int32_t add_expr(const ir::Expr& e);
  // Compile a block: evaluates es[k] and stores it into out[k] (all from the same inputs).
  std::int32_t add_block(const std::vector<ir::Expr>& es);
  // Entry of a previously added expression, -1 if unknown.
  std::int32_t entry_of(const ir::Node* n) const {
    auto it = entries_.find(n);
    return it == entries_.end() ? -1 : it->second;
  }
  double eval(std::int32_t entry, const Env& env) const;  // returns the top of stack (0 for blocks)
  std::size_t size() const { return code_.size(); }
  int max_stack() const { return max_stack_; }

 private:
  void emit_node(const ir::Node& n);
  void push(int d);
  double run(std::int32_t pc, const Env& env, double* st, std::int64_t* ls, double* lv) const;

  std::vector<Instr> code_;
  std::unordered_map<const ir::Node*, std::int32_t> entries_;
  std::vector<ir::Expr> keep_;  // keeps keyed nodes alive (pointer keys must not be reused)
  std::vector<std::int32_t> lag_off_, lag_depth_;
  int n_loop_ = 0;
  int depth_ = 0, max_stack_ = 0;
};

}  // namespace dynlib::interp
