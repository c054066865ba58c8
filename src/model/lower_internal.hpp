// Internal state shared by the check_*.cpp and lower_*.cpp files (not a public header).
#pragma once
#include <dynlib/ir.hpp>
#include <exception>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/expr_parser.hpp"
#include "model/spec.hpp"

namespace dynlib::model::detail {

inline constexpr double kPi = 3.141592653589793;
inline constexpr double kE = 2.718281828459045;
// Most IR nodes all expressions of a model may have, counted as trees (shared aux subtrees once per use).
inline constexpr std::int64_t kMaxExpandedNodes = 5'000'000;
// Most iterations one evaluation of a sum/prod over constant ranges may run (nested loops multiply).
inline constexpr std::int64_t kMaxLoopIterations = 10'000'000;

// One parsed expression with the label used in messages ("[aux.E]", "[events.reset].cond", ...).
struct Site {
  const ParsedExpr* expr = nullptr;
  std::string where;
};

struct Model {
  const ModelSpec* spec = nullptr;
  ir::Kind kind = ir::Kind::ode;
  ir::DType dtype = ir::DType::float64;
  std::unordered_map<std::string, int> state_idx, param_idx, aux_idx, fn_idx;
  std::unordered_map<std::string, double> const_val;  // constants, pi, e (cast to dtype)

  std::vector<ParsedExpr> aux_expr;  // by aux index
  std::vector<ParsedExpr> fn_body;   // by function index
  // Every other expression, parsed once (stable addresses: std::map nodes / reserved vectors).
  std::vector<ParsedExpr> eq_expr, inv_expr;  // in spec line order
  std::vector<std::vector<ParsedExpr>> jac_expr;
  std::vector<ParsedExpr> ev_cond;
  std::vector<std::vector<ParsedExpr>> ev_action;
  std::vector<ParsedExpr> stop_expr;  // 0 or 1
  std::vector<Site> sites;  // everything to check, in file order (by line when known, else model order)
  // Expressions that failed to parse (root == nullptr): their error, thrown in file order.
  std::map<const ParsedExpr*, std::exception_ptr> parse_errors;

  std::vector<int> lag_depth;  // per state: max k requested (0 = none)
  std::vector<int> lag_slot;   // per state: lag slot or -1

  // Lowering state: aux subtrees are shared per (aux index, loop depth); loop slots used so far.
  std::map<std::pair<int, int>, ir::Expr> aux_cache;
  std::int32_t n_loop_slots = 0;
  std::int64_t lowered_nodes = 0;  // work done by inlining (bounded, see lower_expr.cpp)
  std::int64_t expanded_nodes =
      0;  // IR nodes of all expressions counted as trees (bounded, see lower_expr.cpp)
  std::unordered_map<const ir::Node*, std::int64_t> expanded_size;  // per lowered node, for expanded_nodes

  double cast(double v) const;  // constant value cast to the model dtype
};

enum class CallKind { ScalarMacro, EventMacro, Range, Lag, User, Math, BuiltinPow, Unknown };
struct CallInfo {
  CallKind kind = CallKind::Unknown;
  int arity = 0;  // exact count; -1 = at least 2 (min/max); -2 = 1 or 2 (log)
  int index = 0;  // user function index / lag state index
  ir::Fn fn = ir::Fn::abs;
  std::string name;  // macro / function name without "math."
};
CallInfo classify_call(const Model& m, const std::string& callee);

// Label for messages: the toml_path of the location if known, else the fallback.
std::string where_of(const SourceLocation& loc, const std::string& fallback);

// check_decls.cpp: declarations (reserved/unique names, equation targets, event targets, presets, shapes).
void check_declarations(const ModelSpec& spec);
// check_exprs.cpp: parse every expression (fills m), cycles, identifiers, arity, lag scan.
void parse_all(Model& m);
void check_cycles(const Model& m);
void check_expressions(Model& m);
// lower_expr.cpp
ir::Expr lower_site(Model& m, const ParsedExpr& e);
ir::Expr lower_aux(Model& m, int aux_index);

}  // namespace dynlib::model::detail
