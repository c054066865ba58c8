// The lowered, checked, canonical model (ModelIR): what both backends execute.
// Produced by the model front end (src/model/); consumed by kernels, interpreter and JIT.
// Expressions are fully lowered: constants folded to literals, macros expanded, user functions and
// aux inlined as subtrees, `x**k` for integer constant k turned into multiplications by repeated
// squaring. Evaluation order of every node is left to right as written (docs/internals/kernels.md).
#pragma once
#include <array>
#include <cstdint>
#include <dynlib/export.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dynlib::ir {

enum class Op : std::uint8_t {
  Const,    // value
  State,    // index = state index (the current y of the evaluation context)
  Param,    // index = param index
  Time,     // t of the evaluation context
  Lag,      // index = lag slot (ModelIR::lags), k = depth >= 1; meaning: see LagSlot
  LoopVar,  // index = loop-variable slot of an enclosing Sum/Prod
  Neg,
  Not,  // args[0]
  Add,
  Sub,
  Mul,
  Div,
  FloorDiv,
  Mod,
  Pow,  // args[0] op args[1]; FloorDiv/Mod are Python-floored
  Lt,
  Le,
  Gt,
  Ge,
  Eq,
  Ne,  // 1.0 / 0.0
  And,
  Or,      // Python value semantics with short circuit: And = a ? b : a, Or = a ? a : b (a truthy = a != 0)
  Select,  // args = {cond, then, else}; only the chosen branch is evaluated
  Call,    // fn, args
  Sum,
  Prod,  // index = loop slot; args = {start, stop, step, body, cond...}; range(int(start), int(stop),
         // int(step))
};

enum class Fn : std::uint8_t {
  abs,
  min,
  max,
  round,  // round: Python banker's rounding (half to even)
  exp,
  expm1,
  log,
  log10,
  log2,
  log1p,
  sqrt,
  sin,
  cos,
  tan,
  asin,
  acos,
  atan,
  atan2,
  sinh,
  cosh,
  tanh,
  asinh,
  acosh,
  atanh,
  floor,
  ceil,
  trunc,
  hypot,
  copysign,
  erf,
  erfc,
  pow,
  to_int,    // int(x): truncation toward zero
  to_float,  // float(x): identity
  to_bool,   // bool(x): x != 0
};
[[nodiscard]] DYNLIB_API const char* fn_name(Fn f) noexcept;
DYNLIB_API int fn_arity(Fn f) noexcept;  // -1 = variadic (min, max take >= 2)

struct Node;
using Expr = std::shared_ptr<const Node>;

struct DYNLIB_API Node {
  Op op = Op::Const;
  Fn fn = Fn::abs;         // for Call
  double value = 0.0;      // for Const
  std::int32_t index = 0;  // State/Param/Lag slot/LoopVar slot/Sum-Prod loop slot
  std::int32_t k = 0;      // Lag depth
  std::vector<Expr> args;
  ~Node();  // iterative: a sum of 100k terms is a chain of 100k nodes
};

// A lag ring for one state: `depth` = max requested k + 1 entries starting at `offset` in the ring.
// Runtime: at run start every entry holds the initial value and head = depth-1; after each committed
// step head = (head+1) % depth and ring[offset+head] = y[state]. So ring[head] is the last committed value.
// Lag(k) reads ring[offset + (head - k + shift) mod depth] where shift = 0 in rhs and start-phase events
// (y = committed y_n, so lag_x(1) = x_{n-1}) and shift = 1 in end-phase events, update_aux, stop and
// recorded aux (y = the new y_{n+1}, so lag_x(1) = x_n, the last committed value; docs/internals/runner.md).
struct LagSlot {
  std::int32_t state = 0;
  std::int32_t depth = 0;   // buffer length = max k + 1
  std::int32_t offset = 0;  // cumulative
};

enum class Phase : std::uint8_t { start = 1, end = 2, both = 3 };

struct Action {
  enum class Target : std::uint8_t { State, Param } target = Target::State;
  std::int32_t index = 0;
  Expr value;  // evaluated after the previous actions of the same event ran (sequential, in place)
};

struct LogItem {
  enum class Kind : std::uint8_t { Time, State, Param, Aux } kind = Kind::Time;
  std::int32_t index = 0;
  std::string name;  // as written in the model ("t", "x", "aux:E", ...)
};

// Which sign changes of a root event's expression fire it: up = from negative to positive.
enum class Direction : std::uint8_t { either = 0, up = 1, down = 2 };

struct Event {
  std::string name;
  Phase phase = Phase::end;
  Expr cond;  // condition events: checked at step boundaries (null for root events)
  // Root events (ODEs only): fire where `root` crosses zero, located on the stepper's dense output
  // (src/kernels/root_events.hpp). null for condition events.
  Expr root;
  Direction direction = Direction::either;
  std::int64_t terminal = 0;      // 0: not terminal; n >= 1: the run ends at the n-th firing
  std::vector<Action> actions;    // run in order, in place
  std::vector<LogItem> log;       // evaluated after the actions; empty log = never recorded
  std::vector<std::string> tags;  // sorted, unique
};

struct Preset {
  std::string name;
  std::vector<std::pair<std::int32_t, double>> params;  // (param index, value) in file order
  std::vector<std::pair<std::int32_t, double>> states;  // (state index, value)
};

// [sim] defaults after coercion. Extras are unknown keys kept for stepper configuration.
struct SimDefaults {
  double t0 = 0.0;
  double t_end = 1.0;
  double dt = 0.01;
  std::string stepper;  // "" = by kind (rk4 for ode, map for map)
  bool record = true;
  double atol = 1e-8;
  double rtol = 1e-5;
  std::int64_t max_steps = 1000000;
  std::vector<std::pair<std::string, double>> extras;  // numeric extras in file order
  std::vector<std::pair<std::string, std::string>> string_extras;
};

enum class Kind : std::uint8_t { ode, map };
enum class DType : std::uint8_t { float64, float32, int64 };
[[nodiscard]] DYNLIB_API const char* dtype_name(DType d) noexcept;

struct DYNLIB_API Hash128 {
  std::uint64_t hi = 0, lo = 0;
  std::string hex() const;  // 32 lower-case hex characters
  friend bool operator==(const Hash128&, const Hash128&) = default;
};

// Structure of a sparse Jacobian and of its LU factors, fixed when the model is lowered
// (src/model/sparsity.hpp; docs/internals/sparse_lu.md): bdf and radau5 factor with it when the system is
// large and the Jacobian sparse but not banded. All index arrays are int64 (the kernels' integer type).
struct SparseLu {
  std::int64_t n = 0;
  // Pattern of J (column-compressed, rows ascending within a column; original state numbering):
  // column j holds rows jrow[jcol_start[j] .. jcol_start[j+1]).
  std::vector<std::int64_t> jcol_start, jrow;
  // Where each J entry goes in the factor's value array (same order as jrow).
  std::vector<std::int64_t> jslot;
  // Columns that share no row, perturbed together by finite differences: group g holds the columns
  // group_cols[group_start[g] .. group_start[g+1]).
  std::vector<std::int64_t> group_start, group_cols;
  // Fill-reducing order: row/column k of the factored matrix is state perm[k].
  std::vector<std::int64_t> perm;
  // Pattern of L+U of the permuted matrix (row-compressed, columns ascending, the diagonal included):
  // row k holds columns col[row_start[k] .. row_start[k+1]); its diagonal is at diag[k].
  std::vector<std::int64_t> row_start, col, diag;
  [[nodiscard]] std::int64_t nnz_jacobian() const { return static_cast<std::int64_t>(jrow.size()); }
  [[nodiscard]] std::int64_t nnz_factors() const { return static_cast<std::int64_t>(col.size()); }
  [[nodiscard]] std::int64_t n_groups() const {
    return group_start.empty() ? 0 : static_cast<std::int64_t>(group_start.size()) - 1;
  }
};

struct ModelIR {
  Kind kind = Kind::ode;
  std::string name;  // [model].name (may be empty)
  DType dtype = DType::float64;
  std::string source;  // where it came from (path, builtin://..., "inline model")

  std::vector<std::string> states, params, aux;
  std::vector<double> state_ic, param_vals;
  std::vector<std::pair<std::string, double>> constants;  // for display; uses are already literals

  std::vector<Expr> rhs;                                   // one per state (dx/dt or x_{n+1})
  std::optional<std::vector<Expr>> inverse;                // maps only
  std::optional<std::vector<std::vector<Expr>>> jacobian;  // [i][j] = d f_i / d x_j, from the model
  // [i][j] = d rhs_i / d x_j derived symbolically from `rhs` (src/model/derive.hpp) when the model has
  // no [equations.jacobian]; nullopt if the model has its own, or some entry is not differentiable
  // symbolically (a state-dependent prod(...)), or dtype is int64. Not hashed: a pure function of rhs.
  // `jacobian` keeps meaning "the model's own" (jacobian_mode=external and the hash depend on it).
  std::optional<std::vector<std::vector<Expr>>> derived_jacobian;
  // Bandwidths of d rhs / d x set by lowering (src/model/derive.hpp jacobian_bandwidth): (i, j) may be
  // nonzero only for -jacobian_mu <= i - j <= jacobian_ml. -1: unknown (hand-built IR; taken as dense).
  // Not hashed: a pure function of rhs and jacobian. bdf factors in band storage when the band is narrow.
  std::int32_t jacobian_ml = -1, jacobian_mu = -1;
  // Sparse structure of d rhs / d x and its LU factors, set by lowering (src/model/sparsity.hpp) for large
  // ODEs whose Jacobian is sparse, not banded, and has no exact form; null otherwise (dense or band).
  // Not hashed: a pure function of rhs.
  std::shared_ptr<const SparseLu> jacobian_sparse;
  // [i] = d rhs_i / dt (explicit time dependence, states held fixed) derived symbolically for ODEs whose
  // rhs refers to t (Rosenbrock steppers need it); nullopt if none does or it is not differentiable.
  // rhs_refers_to_time says which: lowering sets it; hand-built IR keeps the safe default (true: the
  // steppers then difference in t). Neither is hashed: both are pure functions of rhs.
  std::optional<std::vector<Expr>> derived_time_derivative;
  bool rhs_refers_to_time = true;
  std::vector<Expr> aux_exprs;     // one per aux, fully inlined
  std::vector<Event> events;       // declaration order = priority
  Expr stop;                       // may be null; evaluated in the end phase
  std::vector<LagSlot> lags;       // in state declaration order
  std::int32_t lag_ring_size = 0;  // sum of depths
  std::int32_t n_loop_slots = 0;   // Sum/Prod loop-variable slots used
  SimDefaults sim;
  std::vector<Preset> presets;

  Hash128 hash;  // XXH3-128 of the canonical form (see src/model/hash.cpp)

  [[nodiscard]] std::size_t n_states() const { return states.size(); }
  [[nodiscard]] std::size_t n_params() const { return params.size(); }
  [[nodiscard]] std::size_t n_aux() const { return aux.size(); }
  // The exact Jacobian: the model's own if present, else the derived one; nullptr if neither.
  [[nodiscard]] const std::vector<std::vector<Expr>>* exact_jacobian() const {
    return jacobian ? &*jacobian : derived_jacobian ? &*derived_jacobian : nullptr;
  }
  [[nodiscard]] std::string default_stepper() const {
    return !sim.stepper.empty() ? sim.stepper : (kind == Kind::ode ? "rk4" : "map");
  }
};

// Readable form of an expression (Python-like, fully parenthesised where needed).
[[nodiscard]] DYNLIB_API std::string to_string(const Expr& e, const ModelIR& m);

}  // namespace dynlib::ir
