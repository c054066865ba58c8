// A tiny JSON reader for the test fixtures (objects, arrays, numbers, strings, true/false/null).
#pragma once
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace jsonmini {

struct Value {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  bool b = false;
  double num = 0.0;
  std::string str;
  std::vector<Value> arr;
  std::map<std::string, Value> obj;

  bool is_null() const { return kind == Null; }
  const Value& operator[](const std::string& k) const {
    auto it = obj.find(k);
    if (it == obj.end()) throw std::runtime_error("json: no key '" + k + "'");
    return it->second;
  }
  const Value& operator[](std::size_t i) const { return arr.at(i); }
  bool has(const std::string& k) const { return obj.count(k) != 0; }
  std::size_t size() const { return kind == Array ? arr.size() : obj.size(); }
};

class Parser {
 public:
  explicit Parser(const std::string& s) : s_(s) {}
  Value parse() {
    Value v = value();
    ws();
    if (p_ != s_.size()) fail("trailing text");
    return v;
  }

 private:
  const std::string& s_;
  std::size_t p_ = 0;
  [[noreturn]] void fail(const char* what) {
    throw std::runtime_error(std::string("json: ") + what + " at " + std::to_string(p_));
  }
  void ws() {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\n' || s_[p_] == '\r' || s_[p_] == '\t')) ++p_;
  }
  bool eat(const char* lit) {
    std::string l(lit);
    if (s_.compare(p_, l.size(), l) == 0) {
      p_ += l.size();
      return true;
    }
    return false;
  }
  std::string string() {
    if (s_[p_] != '"') fail("expected string");
    ++p_;
    std::string out;
    while (p_ < s_.size() && s_[p_] != '"') {
      char c = s_[p_++];
      if (c == '\\') {
        char e = s_[p_++];
        switch (e) {
          case 'n':
            out += '\n';
            break;
          case 't':
            out += '\t';
            break;
          case 'u':
            out += '?';
            p_ += 4;
            break;
          default:
            out += e;
        }
      } else {
        out += c;
      }
    }
    ++p_;
    return out;
  }
  Value value() {
    ws();
    if (p_ >= s_.size()) fail("unexpected end");
    Value v;
    char c = s_[p_];
    if (c == '{') {
      v.kind = Value::Object;
      ++p_;
      ws();
      if (s_[p_] == '}') {
        ++p_;
        return v;
      }
      for (;;) {
        ws();
        std::string k = string();
        ws();
        if (s_[p_++] != ':') fail("expected ':'");
        v.obj[k] = value();
        ws();
        if (s_[p_] == ',') {
          ++p_;
          continue;
        }
        if (s_[p_] == '}') {
          ++p_;
          return v;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      v.kind = Value::Array;
      ++p_;
      ws();
      if (s_[p_] == ']') {
        ++p_;
        return v;
      }
      for (;;) {
        v.arr.push_back(value());
        ws();
        if (s_[p_] == ',') {
          ++p_;
          continue;
        }
        if (s_[p_] == ']') {
          ++p_;
          return v;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c == '"') {
      v.kind = Value::String;
      v.str = string();
      return v;
    }
    if (eat("true")) {
      v.kind = Value::Bool;
      v.b = true;
      return v;
    }
    if (eat("false")) {
      v.kind = Value::Bool;
      return v;
    }
    if (eat("null")) return v;
    if (eat("NaN")) {
      v.kind = Value::Number;
      v.num = std::numeric_limits<double>::quiet_NaN();
      return v;
    }
    if (eat("Infinity")) {
      v.kind = Value::Number;
      v.num = std::numeric_limits<double>::infinity();
      return v;
    }
    if (eat("-Infinity")) {
      v.kind = Value::Number;
      v.num = -std::numeric_limits<double>::infinity();
      return v;
    }
    const char* b = s_.c_str() + p_;
    char* e = nullptr;
    v.num = std::strtod(b, &e);
    if (e == b) fail("bad value");
    v.kind = Value::Number;
    p_ += static_cast<std::size_t>(e - b);
    return v;
  }
};

inline Value parse(const std::string& text) { return Parser(text).parse(); }

}  // namespace jsonmini
