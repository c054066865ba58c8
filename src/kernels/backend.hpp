// The backend concept (docs/internals/kernels.md): how each numeric algorithm is written once.
//
// Every stepper, the runner loop, the event/aux kernels and the guards are function templates over a
// backend `B`. The interpreter instantiates them with `DirectBackend` (src/interp/direct_backend.hpp):
// values are doubles and the code simply executes. The JIT instantiates them with an LLVM backend
// (src/jit/): the same calls emit LLVM IR. So there is exactly one RK4, one runner loop, one guard.
//
// Rules for kernel authors (keep both interpretations valid):
//  * Scalars are `typename B::Val` (double / IR value). Write arithmetic with + - * / and unary -,
//    exactly in the order the algorithm states it: both backends evaluate left to right, no FMA.
//    Literals go through `b.c(0.5)`.
//  * Comparisons of Val produce `typename B::Bool`; combine with b.land / b.lor / b.lnot.
//  * Integers are `typename B::Int` (int64); `b.ci(3)` makes a literal.
//  * Buffers are `typename B::Arr` (double elements) and `typename B::IArr` (int64). Index with a plain
//    C++ int (`a[i]`, unrolled at code-generation time because n is known) or with a `B::Int` (a runtime
//    loop index). Indexing yields an lvalue: `a[i] = v;` stores, using it as a value loads.
//  * Mutable scalars that change inside control flow are `typename B::Var` / `typename B::IVar`, made
//    with b.var(init) / b.ivar(init); assign with `=`, read with `v.get()` (or implicit conversion).
//  * Loops over state components are `for_states(b, n, [&](auto i) { ... })` (stepper_common.hpp):
//    unrolled with a C++ int i when b.unroll(n) (DirectBackend: always; JIT: small n), otherwise a
//    runtime loop with a B::Int i, so the body must accept both. Values carried across iterations
//    live in a Var (`acc = acc.get() + x`). Plain C++ loops remain fine where n is tiny or the
//    kernel is only used for small systems (implicit steppers, observers). Data-dependent control
//    flow uses b.if_(cond, then[, else]), b.while_(cond_fn, body) and b.for_(lo, hi, body(Int)).
//    Lambdas passed to them take no arguments (for_ passes the index) and return void.
//  * There is no early return: a kernel that can fail keeps its status in an IVar and shapes its
//    loops so they end; the function's result is read at the end.
//  * Math: b.sqrt, b.fabs, b.fmin, b.fmax, b.pow, b.isfinite (-> Bool), b.select(cond, a, b),
//    b.to_val(Int), b.to_int(Val) (truncation).
//  * Model functions come from the backend, bound to one model: b.eval(expr, ctx) evaluates a lowered
//    ir::Expr in an EvalCtx; b.rhs(t, y, out) evaluates every equation; b.jacobian(t, y, J) the exact
//    Jacobian, ModelIR::exact_jacobian(): the model's own, else the symbolic one (only if
//    b.has_model_jacobian()).
//
// Complete list of what the kernels use (DirectBackend in src/interp/direct_backend.hpp is the reference):
//  types   Val, Bool, Int, Arr, IArr, Var, IVar
//  consts  b.c(double) -> Val, b.ci(int64) -> Int, b.ctrue()/b.cfalse() -> Bool
//  Val     + - * / unary-, < <= > >= == != -> Bool          (mixed Val/double operands not used: wrap with
//  b.c) Int     + - * / %, < <= > >= == != -> Bool  (/ and % only on non-negative operands) Bool    b.land,
//  b.lor, b.lnot Var     b.var(Val) -> Var, v = Val, v.get(); IVar b.ivar(Int) -> IVar, v = Int, v.get() Arr
//  a[int] / a[Int] lvalues (load/store); b.offset(a, int) -> Arr (a + k); same for IArr size    b.unroll(int
//  n) -> C++ bool (unroll state loops of length n at code generation?) -- optional:
//          without it every state loop is unrolled (kernels::unroll_states)
//  math    b.sqrt b.fabs b.fmin b.fmax b.pow b.isfinite(Val)->Bool b.select(Bool,Val,Val)
//  b.iselect(Bool,Int,Int)
//          b.log (libm log; used only by the observers of kernels/lyapunov.hpp, the ANALYSIS runner)
//          b.to_val(Int) b.to_int(Val) (truncation)
//  flow    b.if_(Bool, f) / b.if_(Bool, f, g), b.while_(cond_fn, body), b.for_(Int lo, Int hi, body(Int))
//  model   b.model() -> const ir::ModelIR&  (code-generation time data)
//          b.eval(const ir::Expr&, const EvalCtx<B>&) -> Val
//          b.rhs(t, y, out, params, lag_ring, lag_head)      (all equations, lag_shift 0)
//          b.has_model_jacobian() -> bool (C++ bool); b.jacobian(t, y, J(row-major n*n), params, lag_ring,
//          lag_head)
//  tables  b.const_iarr(const std::vector<int64>&) -> IArr: a read-only table of code-generation-time
//          integers (the sparse LU's index lists); the interpreter points at the vector, the JIT emits a
//          private constant. Never written, and never filled from a workspace (snapshots are untrusted).
//  misc    b.user_break() -> Bool  (relaxed atomic load of *RunnerArgs::user_break_flag != 0; false if null)
//  Element lvalues must be explicitly convertible to a value: `typename B::Val v = a[i];`, `Int(ia[k])`.
//  Val, Int, Arr, IArr must be default-constructible (kernel structs such as StepCtx/RunnerView).
//  Runner kernels see RunnerArgs through RunnerView<B> (runner_view.hpp): in/out cursors live in two
//  small arrays dio/iio that the backend loads before the kernel and stores back after it.
//  Python arithmetic helpers the bytecode/JIT must share for bit-identity live in kernels/pymath.hpp.
//  dtype   b.to_storage(Val) -> Val: rounds a STORED value to the model dtype (docs/simulation.md "dtype"):
//          float32 (double)(float)v, int64 trunc(v)+0.0 (= (double)(int64_t)v for |v| < 2^63; NaN/Inf kept
//          for the guards). Kernels call it only if b.model().dtype != float64 (float64: no code at all).
#pragma once
#include <cmath>
#include <cstdint>

#include "dynlib/ir.hpp"

namespace dynlib::kernels {

// The host/interpreter form of b.to_storage (the JIT emits fptrunc+fpext / llvm.trunc+fadd 0.0).
inline double storage_round(ir::DType d, double v) {
  switch (d) {
    case ir::DType::float32:
      return static_cast<double>(static_cast<float>(v));
    case ir::DType::int64:
      return std::trunc(v) + 0.0;
    default:
      return v;
  }
}

// Evaluation context of a lowered expression (see ir::LagSlot for lag_shift).
template <class B>
struct EvalCtx {
  typename B::Val t;
  typename B::Arr y;
  typename B::Arr params;
  typename B::Arr lag_ring;   // may be a null/unused Arr if the model has no lags
  typename B::IArr lag_head;  // one head per lag slot
  int lag_shift = 0;          // 0 in rhs and start-phase events; 1 in end-phase events, aux, stop
};

}  // namespace dynlib::kernels
