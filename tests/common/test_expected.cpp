#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "common/expected.h"

using scout::Expected;
using scout::Result;

TEST_CASE("an Expected holds either its value or its error", "[common]") {
  Result<int> ok = 7;
  REQUIRE(ok.has_value());
  CHECK(*ok == 7);
  Result<int> bad = scout::make_error("disk on fire");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "disk on fire");
}

TEST_CASE("an Expected of a move-only type moves its value out", "[common]") {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(3);
  auto p = std::move(r).value();
  CHECK(*p == 3);
}

TEST_CASE("Expected<void> reports success or carries the error", "[common]") {
  Result<void> ok;
  CHECK(ok);
  Result<void> bad = scout::make_error("no");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "no");
}
