// Small helpers of the TOML front end: Python float repr, difflib-style close matches, quoted lists.
#include <catch2/catch.hpp>

#include "model/parse_internal.hpp"
#include "util/suggest.hpp"
#include "util/text.hpp"

using namespace dynlib::model;
using namespace dynlib::model::detail;

TEST_CASE("py_float renders like Python repr", "[parse][helpers]") {
  CHECK(py_float(1.0) == "1.0");
  CHECK(py_float(-2.0) == "-2.0");
  CHECK(py_float(0.5) == "0.5");
  CHECK(py_float(0.01) == "0.01");
  CHECK(py_float(1e-05) == "1e-05");
  CHECK(py_float(0.0001) == "0.0001");
  CHECK(py_float(1e16) == "1e+16");
  CHECK(py_float(1e15) == "1000000000000000.0");
  CHECK(py_float(8.0 / 3.0) == "2.6666666666666665");
  CHECK(py_float(1.2345678901234568e+17) == "1.2345678901234568e+17");
  CHECK(py_float(0.0) == "0.0");
}

TEST_CASE("closest_name follows difflib (cutoff 0.6)", "[parse][helpers]") {
  const std::vector<std::string> keys = {"rhs", "expr", "jacobian"};
  CHECK(dynlib::util::closest_name("exprs", keys) == "expr");
  CHECK(dynlib::util::closest_name("jacobain", keys) == "jacobian");
  CHECK(dynlib::util::closest_name("zzz", keys).empty());
  CHECK(dynlib::util::quoted_list({"a", "b"}) == "['a', 'b']");
  CHECK(dynlib::util::quoted_list({}) == "[]");
}
