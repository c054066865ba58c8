// message_of<E>(f): runs f, which must throw E, and returns the message, so a test can check what the
// user reads. A call that throws nothing fails the test.
#pragma once
#include <catch2/catch.hpp>
#include <string>

namespace test_support {

template <class E, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  FAIL("expected exception not thrown");
  return {};
}

}  // namespace test_support
