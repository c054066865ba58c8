#include "model/expr_lexer.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace dynlib::model {

SourceLocation locate_in_text(std::string_view text, const SourceLocation& base, int pos) {
  SourceLocation loc = base;
  if (pos < 0) pos = 0;
  if (static_cast<std::size_t>(pos) > text.size()) pos = static_cast<int>(text.size());
  int line_idx = 0;
  std::size_t line_start = 0;
  for (int i = 0; i < pos; ++i) {
    if (text[static_cast<std::size_t>(i)] == '\n') {
      ++line_idx;
      line_start = static_cast<std::size_t>(i) + 1;
    }
  }
  std::size_t line_end = text.find('\n', line_start);
  if (line_end == std::string_view::npos) line_end = text.size();
  const int col_in_line = pos - static_cast<int>(line_start);
  if (line_idx == 0) {
    if (base.line > 0)
      loc.column = (base.column > 0 ? base.column : 1) + col_in_line;
    else
      loc.column = col_in_line + 1;
    if (base.line_text.empty()) loc.line_text = std::string(text.substr(0, line_end));
  } else {
    if (base.line > 0) loc.line = base.line + line_idx;
    loc.column = col_in_line + 1;
    loc.line_text = std::string(text.substr(line_start, line_end - line_start));
  }
  return loc;
}

namespace {

[[noreturn]] void fail(std::string_view text, const SourceLocation& base, int pos, const std::string& msg) {
  throw ExpressionSyntaxError("Invalid expression syntax: " + msg, locate_in_text(text, base, pos));
}

bool is_ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Reads a run of digits (for the given base) allowing single '_' separators between digits.
// Returns false on a misplaced underscore.
bool read_digits(std::string_view s, std::size_t& i, std::string& out, int base_) {
  auto ok = [&](char c) {
    if (base_ == 16) return std::isxdigit(static_cast<unsigned char>(c)) != 0;
    if (base_ == 8) return c >= '0' && c <= '7';
    if (base_ == 2) return c == '0' || c == '1';
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
  };
  bool last_digit = false;
  while (i < s.size()) {
    const char c = s[i];
    if (ok(c)) {
      out += c;
      last_digit = true;
      ++i;
    } else if (c == '_') {
      if (!last_digit || i + 1 >= s.size() || !ok(s[i + 1])) return false;
      last_digit = false;
      ++i;
    } else {
      break;
    }
  }
  return true;
}

}  // namespace

std::vector<Token> tokenize_expression(std::string_view text, const SourceLocation& base) {
  std::vector<Token> out;
  std::size_t i = 0;
  int depth = 0;
  bool pending_newline = false;  // a newline at bracket depth 0 after some token
  int newline_pos = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '#') {  // comment to end of line
      while (i < text.size() && text[i] != '\n') ++i;
      continue;
    }
    if (c == '\n' || c == '\r') {
      if (depth == 0 && !out.empty() && !pending_newline) {
        pending_newline = true;
        newline_pos = static_cast<int>(i);
      }
      ++i;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\f' || c == '\v') {
      ++i;
      continue;
    }
    if (c == '\\' && i + 1 < text.size() && (text[i + 1] == '\n' || text[i + 1] == '\r')) {
      i += 2;  // explicit line continuation
      continue;
    }
    if (pending_newline)
      fail(text, base, newline_pos, "unexpected line break (wrap multi-line expressions in parentheses)");
    Token tok;
    tok.pos = static_cast<int>(i);
    if (is_ident_start(c)) {
      std::size_t j = i;
      while (j < text.size() && is_ident_char(text[j])) ++j;
      tok.kind = Tok::Name;
      tok.text = std::string(text.substr(i, j - i));
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[i + 1])))) {
      const std::size_t start = i;
      std::string clean;
      tok.kind = Tok::Number;
      if (c == '0' && i + 1 < text.size() && std::strchr("xXoObB", text[i + 1]) != nullptr) {
        const char b = static_cast<char>(std::tolower(static_cast<unsigned char>(text[i + 1])));
        const int radix = b == 'x' ? 16 : b == 'o' ? 8 : 2;
        i += 2;
        if (i < text.size() && text[i] == '_') ++i;
        if (!read_digits(text, i, clean, radix) || clean.empty())
          fail(text, base, tok.pos, "invalid number literal");
        tok.value = static_cast<double>(std::strtoull(clean.c_str(), nullptr, radix));
        tok.is_int = true;
      } else {
        bool is_int = true;
        if (!read_digits(text, i, clean, 10)) fail(text, base, tok.pos, "invalid decimal literal");
        if (i < text.size() && text[i] == '.') {
          is_int = false;
          clean += '.';
          ++i;
          if (i < text.size() && text[i] == '_') fail(text, base, tok.pos, "invalid decimal literal");
          if (!read_digits(text, i, clean, 10)) fail(text, base, tok.pos, "invalid decimal literal");
        }
        if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
          std::size_t j = i + 1;
          std::string exp = "e";
          if (j < text.size() && (text[j] == '+' || text[j] == '-')) exp += text[j++];
          if (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) {
            std::string digits;
            if (!read_digits(text, j, digits, 10)) fail(text, base, tok.pos, "invalid decimal literal");
            clean += exp + digits;
            is_int = false;
            i = j;
          } else {
            fail(text, base, tok.pos, "invalid decimal literal");
          }
        }
        if (i < text.size() && (text[i] == 'j' || text[i] == 'J'))
          fail(text, base, tok.pos, "complex literals are not supported");
        if (i < text.size() && is_ident_char(text[i])) fail(text, base, tok.pos, "invalid decimal literal");
        if (is_int && clean.size() > 1 && clean[0] == '0' &&
            clean.find_first_not_of('0') != std::string::npos)
          fail(text, base, tok.pos, "leading zeros in decimal integer literals are not permitted");
        tok.value = std::strtod(clean.c_str(), nullptr);
        tok.is_int = is_int;
      }
      tok.text = std::string(text.substr(start, i - start));
    } else {
      tok.kind = Tok::Op;
      auto two = text.substr(i, 2);
      if (two == "**" || two == "//" || two == "<=" || two == ">=" || two == "==" || two == "!=") {
        tok.text = std::string(two);
        i += 2;
      } else if (c == '^') {
        tok.text = "**";
        ++i;
      } else if (std::strchr("+-*/%<>(),=.", c) != nullptr) {
        tok.text = std::string(1, c);
        ++i;
        if (c == '(') ++depth;
        if (c == ')' && depth > 0) --depth;
      } else {
        fail(text, base, tok.pos, std::string("unexpected character '") + c + "'");
      }
    }
    out.push_back(std::move(tok));
  }
  Token end;
  end.kind = Tok::End;
  // Just after the last token (better carets for "unexpected end of expression").
  end.pos = out.empty() ? 0
                        : out.back().pos + (out.back().text == "**" &&
                                                    text[static_cast<std::size_t>(out.back().pos)] == '^'
                                                ? 1
                                                : static_cast<int>(out.back().text.size()));
  out.push_back(end);
  return out;
}

}  // namespace dynlib::model
