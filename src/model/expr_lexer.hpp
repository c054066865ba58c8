// Tokenizer for model expressions: Python expression tokens, `^` read as `**`,
// trailing `# comment` dropped. Positions are byte offsets into the expression text.
#pragma once
#include <dynlib/errors.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace dynlib::model {

enum class Tok : unsigned char { Number, Name, Op, End };

struct Token {
  Tok kind = Tok::End;
  std::string text;     // Name: identifier; Op: operator spelling ("**" also for '^'); Number: as written
  double value = 0.0;   // Number
  bool is_int = false;  // Number written as an integer literal (no '.', no exponent)
  int pos = 0;          // byte offset of the first character in the text
};

// Maps a byte offset inside an expression text to a file location (line/column/line_text),
// given the location of the text's first character.
SourceLocation locate_in_text(std::string_view text, const SourceLocation& base, int pos);

// Tokenizes `text`; throws ExpressionSyntaxError("Invalid expression syntax: ...") located via `base`.
// Python keywords that the DSL does not support are returned as names (the parser rejects them).
std::vector<Token> tokenize_expression(std::string_view text, const SourceLocation& base);

}  // namespace dynlib::model
