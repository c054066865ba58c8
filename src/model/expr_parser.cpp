#include "model/expr_parser.hpp"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "model/expr_lexer.hpp"

namespace dynlib::model {

using ast::K;
using ast::Node;
using NodeP = std::unique_ptr<Node>;

namespace ast {
Node::~Node() {
  // Take over the subtrees one by one so that destroying a long chain does not recurse once per level.
  std::vector<std::unique_ptr<Node>> pending;
  for (auto& k : kids)
    if (k && !k->kids.empty()) pending.push_back(std::move(k));
  while (!pending.empty()) {
    std::unique_ptr<Node> n = std::move(pending.back());
    pending.pop_back();
    for (auto& k : n->kids)
      if (k && !k->kids.empty()) pending.push_back(std::move(k));
  }
}
}  // namespace ast

SourceLocation ParsedExpr::at(int pos) const { return locate_in_text(text, loc, pos); }

namespace {

// Python keywords that are not part of the DSL subset: using them is a syntax error.
const std::set<std::string, std::less<>> kUnsupportedKeywords = {
    "None",   "is",    "lambda", "def",    "class",   "return",   "import", "from",   "as",
    "while",  "with",  "yield",  "pass",   "break",   "continue", "del",    "global", "nonlocal",
    "assert", "raise", "try",    "except", "finally", "elif",     "async",  "await"};

class Parser {
 public:
  Parser(std::string_view text, const SourceLocation& loc)
      : text_(text), loc_(loc), toks_(tokenize_expression(text, loc)) {}

  NodeP parse_all() {
    if (peek().kind == Tok::End) fail(peek().pos, "empty expression");
    NodeP e = ternary();
    if (peek().kind != Tok::End) {
      if (is_op("=")) fail(peek().pos, "'=' is not allowed in an expression (did you mean '=='?)");
      fail(peek().pos, "unexpected '" + peek().text + "'");
    }
    return e;
  }

 private:
  std::string_view text_;
  SourceLocation loc_;
  std::vector<Token> toks_;
  std::size_t i_ = 0;
  int depth_ = 0;

  // Bounds recursion (nested parentheses, unary chains, `not not ...`) like CPython's parser does
  // (one parenthesis level costs 3: ternary, not_expr, factor; so about 200 nested parentheses).
  static constexpr int kMaxDepth = 600;
  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& parser) : p(parser) {
      if (++p.depth_ > kMaxDepth) p.fail(p.peek().pos, "expression is nested too deeply");
    }
    ~DepthGuard() { --p.depth_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;
  };

  [[noreturn]] void fail(int pos, const std::string& msg) const {
    throw ExpressionSyntaxError("Invalid expression syntax: " + msg, locate_in_text(text_, loc_, pos));
  }
  const Token& peek(std::size_t ahead = 0) const {
    const std::size_t j = i_ + ahead;
    return j < toks_.size() ? toks_[j] : toks_.back();
  }
  const Token& next() { return toks_[i_ < toks_.size() - 1 ? i_++ : i_]; }
  bool is_op(std::string_view op, std::size_t ahead = 0) const {
    return peek(ahead).kind == Tok::Op && peek(ahead).text == op;
  }
  bool is_kw(std::string_view kw) const { return peek().kind == Tok::Name && peek().text == kw; }
  void expect_op(std::string_view op, const char* what) {
    if (!is_op(op)) {
      if (peek().kind == Tok::End)
        fail(peek().pos, std::string("unexpected end of expression, expected ") + what);
      fail(peek().pos, "unexpected '" + peek().text + "', expected " + what);
    }
    next();
  }
  static NodeP make(K k, int pos) {
    auto n = std::make_unique<Node>();
    n->kind = k;
    n->pos = pos;
    return n;
  }

  // ternary := or_expr [ "if" or_expr "else" ternary ]
  NodeP ternary() {
    DepthGuard guard(*this);
    NodeP body = or_expr();
    if (is_kw("if")) {
      const int pos = peek().pos;
      next();
      NodeP cond = or_expr();
      if (!is_kw("else")) fail(peek().pos, "expected 'else' after 'if' condition");
      next();
      NodeP other = ternary();
      NodeP n = make(K::Ternary, pos);
      n->pos = body->pos;
      n->kids.push_back(std::move(cond));
      n->kids.push_back(std::move(body));
      n->kids.push_back(std::move(other));
      return n;
    }
    return body;
  }
  NodeP bool_chain(const char* kw, NodeP (Parser::*sub)()) {
    NodeP first = (this->*sub)();
    if (!is_kw(kw)) return first;
    NodeP n = make(K::BoolOp, first->pos);
    n->name = kw;
    n->kids.push_back(std::move(first));
    while (is_kw(kw)) {
      next();
      n->kids.push_back((this->*sub)());
    }
    return n;
  }
  NodeP or_expr() { return bool_chain("or", &Parser::and_expr); }
  NodeP and_expr() { return bool_chain("and", &Parser::not_expr); }
  NodeP not_expr() {
    DepthGuard guard(*this);
    if (is_kw("not")) {
      const int pos = next().pos;
      NodeP n = make(K::Not, pos);
      n->kids.push_back(not_expr());
      return n;
    }
    return compare();
  }
  static bool is_cmp(const Token& t) {
    return t.kind == Tok::Op && (t.text == "<" || t.text == "<=" || t.text == ">" || t.text == ">=" ||
                                 t.text == "==" || t.text == "!=");
  }
  NodeP compare() {
    NodeP first = arith();
    if (!is_cmp(peek())) {
      if (is_kw("in") || is_kw("is")) fail(peek().pos, "'" + peek().text + "' comparisons are not supported");
      return first;
    }
    NodeP n = make(K::Compare, first->pos);
    n->kids.push_back(std::move(first));
    while (is_cmp(peek())) {
      n->ops.push_back(next().text);
      n->kids.push_back(arith());
    }
    return n;
  }
  NodeP binary_chain(std::initializer_list<std::string_view> ops, NodeP (Parser::*sub)()) {
    NodeP left = (this->*sub)();
    for (;;) {
      bool matched = false;
      for (auto op : ops) {
        if (is_op(op)) {
          const Token& t = next();
          NodeP n = make(K::Binary, left->pos);
          n->name = t.text;
          n->kids.push_back(std::move(left));
          n->kids.push_back((this->*sub)());
          left = std::move(n);
          matched = true;
          break;
        }
      }
      if (!matched) return left;
    }
  }
  NodeP arith() { return binary_chain({"+", "-"}, &Parser::term); }
  NodeP term() { return binary_chain({"*", "/", "//", "%"}, &Parser::factor); }
  NodeP factor() {
    DepthGuard guard(*this);
    if (is_op("+") || is_op("-")) {
      const Token& t = next();
      NodeP n = make(K::Unary, t.pos);
      n->name = t.text;
      n->kids.push_back(factor());
      return n;
    }
    return power();
  }
  NodeP power() {
    NodeP base = primary();
    if (is_op("**")) {
      next();
      NodeP n = make(K::Binary, base->pos);
      n->name = "**";
      n->kids.push_back(std::move(base));
      n->kids.push_back(factor());
      return n;
    }
    return base;
  }
  NodeP primary() {
    const Token& t = peek();
    if (t.kind == Tok::Number) {
      next();
      NodeP n = make(K::Num, t.pos);
      n->value = t.value;
      n->is_int = t.is_int;
      return n;
    }
    if (t.kind == Tok::Op && t.text == "(") {
      next();
      if (is_op(")")) fail(peek().pos, "empty parentheses (tuples are not supported)");
      NodeP inner = ternary();
      if (is_op(",")) fail(peek().pos, "tuples are not supported");
      expect_op(")", "')'");
      return inner;
    }
    if (t.kind == Tok::Name) {
      static const std::set<std::string, std::less<>> kw = {"and", "or", "not", "if", "else", "for", "in"};
      if (kw.count(t.text) || kUnsupportedKeywords.count(t.text))
        fail(t.pos, "unexpected keyword '" + t.text + "'");
      next();
      if (t.text == "True" || t.text == "False") {
        NodeP n = make(K::Bool, t.pos);
        n->value = t.text == "True" ? 1.0 : 0.0;
        return n;
      }
      std::string name = t.text;
      while (is_op(".")) {  // dotted names (math.pi, math.sin)
        next();
        if (peek().kind != Tok::Name) fail(peek().pos, "expected a name after '.'");
        name += "." + next().text;
      }
      if (is_op("(")) return call(std::move(name), t.pos);
      NodeP n = make(K::Name, t.pos);
      n->name = std::move(name);
      return n;
    }
    if (t.kind == Tok::End) fail(t.pos, "unexpected end of expression");
    fail(t.pos, "unexpected '" + t.text + "'");
  }
  void reject_keyword_arg(const std::string& callee) {
    if (peek().kind == Tok::Name && is_op("=", 1))
      fail(peek().pos, callee + "() does not support keyword arguments");
  }
  NodeP call(std::string callee, int pos) {
    next();  // '('
    NodeP n = make(K::Call, pos);
    n->name = std::move(callee);
    if (is_op(")")) {
      next();
      return n;
    }
    reject_keyword_arg(n->name);
    n->kids.push_back(ternary());
    if (is_kw("for")) return generator(std::move(n));
    while (is_op(",")) {
      next();
      if (is_op(")")) break;  // trailing comma
      reject_keyword_arg(n->name);
      n->kids.push_back(ternary());
      if (is_kw("for")) fail(peek().pos, "generator expression must be the only argument");
    }
    expect_op(")", "')' or ','");
    return n;
  }
  NodeP generator(NodeP call_node) {
    const std::string& fn = call_node->name;
    if (fn != "sum" && fn != "prod")
      fail(peek().pos, "generator expressions are only supported in sum(...) and prod(...)");
    next();  // 'for'
    if (peek().kind != Tok::Name)
      fail(peek().pos, fn + "(generator) requires a simple loop variable (e.g. 'for i in ...')");
    const Token& var = next();
    if (is_op(","))
      fail(peek().pos, fn + "(generator) requires a simple loop variable (e.g. 'for i in ...')");
    if (!is_kw("in")) fail(peek().pos, "expected 'in' after the loop variable");
    next();
    const int it_pos = peek().pos;
    if (!(peek().kind == Tok::Name && peek().text == "range" && is_op("(", 1)))
      fail(it_pos, fn + "(generator) is only supported for ranges: " + fn + "(expr for i in range(...))");
    next();
    next();  // 'range' '('
    NodeP g = make(K::Gen, call_node->pos);
    g->name = fn;
    g->var = var.text;
    g->var_pos = var.pos;
    g->kids.push_back(std::move(call_node->kids[0]));
    if (!is_op(")")) {
      reject_keyword_arg("range");
      g->kids.push_back(ternary());
      while (is_op(",")) {
        next();
        if (is_op(")")) break;
        reject_keyword_arg("range");
        g->kids.push_back(ternary());
      }
    }
    expect_op(")", "')' closing range(...)");
    g->n_range = static_cast<int>(g->kids.size()) - 1;
    if (g->n_range < 1 || g->n_range > 3)
      throw ArityError("range() expects 1, 2, or 3 positional arguments",
                       locate_in_text(text_, loc_, it_pos));
    while (is_kw("if")) {
      next();
      g->kids.push_back(or_expr());
    }
    if (is_kw("for")) fail(peek().pos, "Only a single generator is supported inside " + fn + "(...)");
    expect_op(")", "')' closing the generator");
    return g;
  }
};

}  // namespace

ParsedExpr parse_expression(std::string_view text, const SourceLocation& loc) {
  ParsedExpr out;
  out.text = std::string(text);
  out.loc = loc;
  Parser p(out.text, loc);
  out.root = p.parse_all();
  // The parser builds left-leaning chains without recursion; every later pass recurses per level.
  std::vector<std::pair<const Node*, int>> todo{{out.root.get(), 1}};
  while (!todo.empty()) {
    const auto [n, level] = todo.back();
    todo.pop_back();
    if (level > kMaxExprNesting)
      throw ExpressionSyntaxError("Invalid expression syntax: expression is nested too deeply (more than " +
                                      std::to_string(kMaxExprNesting) + " levels)",
                                  out.at(n->pos));
    for (const auto& k : n->kids) todo.emplace_back(k.get(), level + 1);
  }
  return out;
}

}  // namespace dynlib::model
