// Shared text helpers: trim, join, quoted lists, shortest round-trip doubles, did-you-mean suggestions.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "util/suggest.hpp"
#include "util/text.hpp"

using namespace dynlib::util;

TEST_CASE("trim, join and quoted_list", "[util][text]") {
  CHECK(trim("  a b \t\r\n") == "a b");
  CHECK(trim(" \t ").empty());
  CHECK(join({"a", "b", "c"}, ", ") == "a, b, c");
  CHECK(join({}, ", ").empty());
  CHECK(quoted_list({"a", "b"}) == "['a', 'b']");
  CHECK(quoted_list({}) == "[]");
}

TEST_CASE("shortest_double prints the shortest text that reads back exactly", "[util][text]") {
  CHECK(shortest_double(0.1 + 0.2) == "0.30000000000000004");
  CHECK(shortest_double(0.3) == "0.3");
  CHECK(shortest_double(2.0) == "2");
  CHECK(shortest_double(-1.5) == "-1.5");
  CHECK(shortest_double(1e-6) == "1e-06");
  CHECK(shortest_double(1.0 / 0.0) == "inf");
  CHECK(shortest_double(-1.0 / 0.0) == "-inf");
  for (double v : {0.1, 1.0 / 3.0, 2.5e-300, 6.02214076e23, -7.0})
    CHECK(std::strtod(shortest_double(v).c_str(), nullptr) == v);
}

TEST_CASE("closest_name and did_you_mean", "[util][suggest]") {
  const std::vector<std::string> keys = {"t0", "t_end", "dt", "stepper"};
  CHECK(closest_name("tend", keys) == "t_end");
  CHECK(closest_name("stepr", keys) == "stepper");
  CHECK(closest_name("zzzz", keys).empty());
  CHECK(did_you_mean("tend", keys) == " (did you mean 't_end'?)");
  CHECK(did_you_mean("zzzz", keys).empty());
}
