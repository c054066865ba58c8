// Symbolic differentiation of lowered expressions (ir::Expr) with respect to one state (or the time), the
// derived Jacobian of a model's right-hand sides (ModelIR::derived_jacobian, for models without one) and
// their derivative in t (ModelIR::derived_time_derivative).
//
// Rules (d = d/dx_j; a' = d a):
//   Const, Param, Time, Lag, LoopVar -> 0   (Lag: the Jacobian is w.r.t. the current state only)
//   State(i) -> 1 if i == j else 0        (d/dt: Time -> 1, every State -> 0)
//   Neg, Add, Sub, Mul, Div           -> the usual sum/product/quotient rules
//   Pow / pow(a, b)                   -> b*a**(b-1)*a' when b does not depend on x_j,
//                                        a**b*(b'*log(a) + b*a'/a) otherwise
//   Mod (Python floored)              -> a' - (a // b)*b'
//   FloorDiv, comparisons, Not, floor, ceil, trunc, round, to_int, to_bool -> 0 (almost everywhere)
//   Select(c, t, e)                   -> Select(c, t', e')
//   And(a, b) = a ? b : a             -> Select(a, b', a');  Or(a, b) = a ? a : b -> Select(a, a', b')
//   min/max(a0, ..., an)              -> the derivative of the selected argument, as a chain of Selects
//                                        on the same comparisons the evaluation makes (ties: the earlier);
//                                        with more than 1000 arguments NOT differentiated (nullptr): the
//                                        chain compares with every prefix min/max, quadratic in n
//   abs(a)                            -> Select(a > 0, a', Select(a < 0, -a', 0)): sign(a)*a' with 0 at 0
//                                        (and 0 for NaN a)
//   copysign(a, b)                    -> copysign(1, a)*copysign(1, b)*a'  (b' contributes 0 a.e.)
//   hypot(a, b)                       -> (a*a' + b*b') / hypot(a, b)
//   atan2(y, x)                       -> (x*y' - y*x') / (x*x + y*y)
//   exp, expm1, log, log10, log2, log1p, sqrt, sin, cos, tan, asin, acos, atan, sinh, cosh, tanh,
//   asinh, acosh, atanh, erf, erfc    -> the standard formulas (chain rule)
//   to_float                          -> a'
//   Sum(start, stop, step, body, conds...) -> Sum(start, stop, step, body', conds...) (same loop slot;
//                                        bounds and conditions are integer/boolean: 0 a.e.)
//   Prod whose body depends on x_j    -> NOT differentiable symbolically: the result is nullptr.
//     (prod*sum(f'/f) cannot be guarded against a zero factor inside the IR, and the exact
//     sum-of-products form needs a nested loop with an extra loop slot that ModelIR::n_loop_slots,
//     which is hashed, does not provide.) Consumers fall back to finite differences.
//
// Shared subtrees (inlined aux, x*x from x**k) are differentiated once (memoised by node), and the
// results reuse the original subtrees by pointer, so derivatives stay DAGs of linear size.
//
// Simplification happens only in the nodes the differentiator builds (the original subtrees are never
// rewritten): x*0 -> 0, 0*x -> 0, x*1 -> x, x*(-1) -> -x, x+0 -> x, 0-x -> -x, x-0 -> x, 0/x -> 0,
// x/1 -> x, --x -> x, Select with identical branches or a constant condition, and constant folding of
// Neg/Add/Sub/Mul/Div on two constants (in double). Decision: x*0 -> 0 is not IEEE-exact when x is
// inf or NaN; we accept that for derivatives — a term whose derivative is structurally zero contributes
// exactly zero, which is the mathematically right answer and what a hand-written Jacobian would say.
#pragma once
#include <dynlib/export.hpp>
#include <dynlib/ir.hpp>
#include <optional>
#include <utility>
#include <vector>

namespace dynlib::model {

// d e / d x_{state_index}, simplified. nullptr if e is not symbolically differentiable (see Prod above).
DYNLIB_INTERNAL_API ir::Expr differentiate(const ir::Expr& e, int state_index);

// The Jacobian J[i][j] = d rhs_i / d x_j of m.rhs, or nullopt if some entry is not differentiable
// symbolically, the model's dtype is int64 (integer models have no meaningful Jacobian), or the model
// is too large (more than 256 states: the dense n x n Jacobian would cost more than it saves; or
// distinct rhs nodes x states > 5e7; each column walks the rhs DAG once).
// Ignores m.jacobian (the model's own); shares memoised derivatives across rows.
DYNLIB_INTERNAL_API std::optional<std::vector<std::vector<ir::Expr>>> derive_jacobian(const ir::ModelIR& m);

// Lower and upper bandwidths (ml, mu) of d rhs / d x: entry (i, j) may be nonzero only for
// -mu <= i - j <= ml: from the states each rhs refers to (directly, not through lags), widened by the
// model's own [equations.jacobian] (entries that are not a literal zero).
std::pair<int, int> jacobian_bandwidth(const ir::ModelIR& m);

// True if e (structurally) refers to State(state_index). Lag nodes do not count.
bool depends_on_state(const ir::Expr& e, int state_index);

// True if e (structurally) refers to the time t.
DYNLIB_INTERNAL_API bool depends_on_time(const ir::Expr& e);

// d rhs_i / dt for the explicit time dependence (states held fixed; the same rules with Time as the
// variable), for Rosenbrock steppers on non-autonomous ODEs (ModelIR::derived_time_derivative).
// nullopt if no rhs refers to t, some entry is not differentiable symbolically, or dtype is int64.
DYNLIB_INTERNAL_API std::optional<std::vector<ir::Expr>> derive_time_derivative(const ir::ModelIR& m);

}  // namespace dynlib::model
