// Recursive-descent parser for model expressions producing a small AST.
// Python semantics: `^` == `**` (right-assoc, binds tighter than unary minus on its left:
// -x**2 == -(x**2), 2**-1 ok), chained comparisons, and/or/not, ternary, True/False,
// sum/prod generators over range(...).
#pragma once
#include <dynlib/errors.hpp>
#include <dynlib/export.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dynlib::model::ast {

enum class K : unsigned char {
  Num,      // value, is_int
  Bool,     // value 1/0 (True/False)
  Name,     // name (may be dotted: "math.pi")
  Unary,    // name = "-" or "+"; kids[0]
  Binary,   // name = "+","-","*","/","//","%","**"; kids[0], kids[1]
  Compare,  // ops[i] between kids[i] and kids[i+1]
  BoolOp,   // name = "and"/"or"; kids (>= 2)
  Not,      // kids[0]
  Ternary,  // kids = {cond, then, else}   (source: then if cond else else)
  Call,     // name = callee (maybe "math.sin"); kids = args
  Gen,      // name = "sum"/"prod"; var; kids = {elt, range args (n_range of them), conds...}
};

struct DYNLIB_INTERNAL_API Node {
  K kind = K::Num;
  int pos = 0;          // byte offset in the expression text
  double value = 0.0;   // Num/Bool
  bool is_int = false;  // Num
  std::string name;
  std::string var;  // Gen loop variable
  int var_pos = 0;
  int n_range = 0;               // Gen
  std::vector<std::string> ops;  // Compare
  std::vector<std::unique_ptr<Node>> kids;
  ~Node();  // iterative: a sum of 100k terms is a chain of 100k nodes
};

}  // namespace dynlib::model::ast

namespace dynlib::model {

// Deepest nesting an expression may have, counted in syntax tree levels (a chain `a + b + c` is one
// level per operator) and again after aux and functions are inlined. Deeper ones are reported, not walked.
inline constexpr int kMaxExprNesting = 100000;

struct ParsedExpr {
  std::unique_ptr<ast::Node> root;
  std::string text;
  SourceLocation loc;                // location of text[0]
  SourceLocation at(int pos) const;  // location of a byte offset in text
};

// Parses one expression; throws ExpressionSyntaxError also when it is nested more than kMaxExprNesting
// levels deep. Throws ExpressionSyntaxError ("Invalid expression syntax: ...") with the
// file line/column of the offending token (loc.line/column are those of text[0]).
DYNLIB_INTERNAL_API ParsedExpr parse_expression(std::string_view text, const SourceLocation& loc);

}  // namespace dynlib::model
