// ModelSpec: a model document after TOML parsing and shape checks, before expression checks and lowering.
// Produced by parse (src/model/parse_*.cpp) and mods (src/model/mods.cpp); consumed by check/lower.
// Every expression string keeps where it came from so later stages can report file:line:col.
#pragma once
#include <dynlib/errors.hpp>
#include <dynlib/ir.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dynlib::model {

// An expression string with its origin. `loc.line/column` point at the first character of `text`
// inside the file when known (for block lines: the line within the block, made absolute).
struct Located {
  std::string text;
  SourceLocation loc;  // toml_path like "[equations.rhs].x", "[events.reset].cond", "[aux].E"
};

struct NumberValue {  // a state/param/constant value after numeric-expression evaluation
  double value = 0.0;
  bool is_int = false;  // TOML integer (kept for display; the IR hash is on the double value)
  SourceLocation loc;
};

struct EquationLine {       // one line of a block form ([equations].expr, action blocks)
  std::string target;       // name on the left of the first '=' (after d(x)/dx handling for equations)
  bool derivative = false;  // written as dx / d(x)
  Located rhs;
};

struct FunctionSpec {
  std::string name;
  std::vector<std::string> args;
  Located body;
  SourceLocation loc;  // of the [functions.NAME] table (its header line), for problems with the name
};

struct EventSpec {
  std::string name;
  ir::Phase phase = ir::Phase::end;
  Located cond;  // the condition, or for a root event (root_form) the root expression
  bool root_form = false;
  ir::Direction direction = ir::Direction::either;
  std::int64_t terminal = 0;          // root events: 0 = not terminal, n = stop at the n-th firing
  std::vector<EquationLine> actions;  // keyed (action.x = "...") and block forms, in order; target unchecked
  std::vector<Located> log;           // "t", "x", "state:x", "param:a", "aux:E"
  std::vector<std::string> tags;      // sorted, unique
  SourceLocation loc;                 // of the [events.NAME] table
};

struct PresetSpec {
  std::string name;
  std::vector<std::pair<std::string, NumberValue>> params, states;
  SourceLocation loc;
};

struct SimSpec {
  ir::SimDefaults defaults;
  std::optional<Located> stop;
  SourceLocation loc;
};

struct ModelSpec {
  ir::Kind kind = ir::Kind::ode;
  std::string name;
  std::string dtype = "float64";  // after aliasing (float->float64, double->float64, single->float32)
  std::string source;             // file path / "inline model" / builtin URI, for messages
  std::vector<std::pair<std::string, NumberValue>> states, params, constants;  // declaration order
  std::vector<EquationLine> equations;  // table form first (file order), then block lines
  std::optional<std::vector<EquationLine>> inverse;
  std::optional<std::vector<std::vector<Located>>> jacobian;
  std::vector<std::pair<std::string, Located>> aux;
  std::vector<FunctionSpec> functions;
  std::vector<EventSpec> events;
  SimSpec sim;
  std::vector<PresetSpec> presets;
};

}  // namespace dynlib::model
