// gMock matchers for absl::Status and absl::StatusOr<T>, for tests only.
//
//   EXPECT_THAT(store.Get("x"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("x")));
//   EXPECT_OK(store.Put("x", "y"));
//   ASSERT_OK_AND_ASSIGN(auto blob, store.Get("x"));
#ifndef EMAR_COMMON_STATUS_MATCHERS_H_
#define EMAR_COMMON_STATUS_MATCHERS_H_

#include <ostream>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER_P2(StatusIs, code, message_matcher, "has status code " + ::testing::PrintToString(code)) {
  const absl::Status& s = ::emar::testing::GetStatus(arg);
  *result_listener << "whose status is " << s;
  return s.code() == code &&
         ::testing::ExplainMatchResult(message_matcher, std::string(s.message()), result_listener);
}

MATCHER_P(StatusIs, code, "has status code " + ::testing::PrintToString(code)) {
  const absl::Status& s = ::emar::testing::GetStatus(arg);
  *result_listener << "whose status is " << s;
  return s.code() == code;
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = ::emar::testing::GetStatus(arg);
  *result_listener << "whose status is " << s;
  return s.ok();
}

}  // namespace emar::testing

#define EXPECT_OK(expr) EXPECT_THAT((expr), ::emar::testing::IsOk())
#define ASSERT_OK(expr) ASSERT_THAT((expr), ::emar::testing::IsOk())
#define ASSERT_OK_AND_ASSIGN(lhs, expr)                                   \
  auto EMAR_STATUS_CONCAT_(emar_test_statusor_, __LINE__) = (expr);       \
  ASSERT_OK(EMAR_STATUS_CONCAT_(emar_test_statusor_, __LINE__).status()); \
  lhs = std::move(EMAR_STATUS_CONCAT_(emar_test_statusor_, __LINE__)).value()

#endif  // EMAR_COMMON_STATUS_MATCHERS_H_
