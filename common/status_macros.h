// Early-return helpers for absl::Status / absl::StatusOr (Abseil 20220623 ships none).
//
//   RETURN_IF_ERROR(store.Put(key, value));
//   ASSIGN_OR_RETURN(Blob blob, store.Get(digest));
//
// Both evaluate their argument once. ASSIGN_OR_RETURN moves the value out of the StatusOr.
#ifndef EMAR_COMMON_STATUS_MACROS_H_
#define EMAR_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// clang-tidy: `lhs` is a declaration and `statusor` a pasted name; neither can be parenthesized.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define EMAR_STATUS_CONCAT_INNER_(a, b) a##b
#define EMAR_STATUS_CONCAT_(a, b) EMAR_STATUS_CONCAT_INNER_(a, b)

// A copy, not a reference: a reference would dangle on a temporary's accessor, and copying an
// OK Status copies one word.
// NOLINTBEGIN(performance-unnecessary-copy-initialization)
#define RETURN_IF_ERROR(expr)                    \
  do {                                           \
    const ::absl::Status emar_status_ = (expr);  \
    if (!emar_status_.ok()) return emar_status_; \
  } while (0)
// NOLINTEND(performance-unnecessary-copy-initialization)

#define ASSIGN_OR_RETURN(lhs, expr) \
  EMAR_ASSIGN_OR_RETURN_IMPL_(EMAR_STATUS_CONCAT_(emar_statusor_, __LINE__), lhs, expr)

#define EMAR_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                \
  if (!statusor.ok()) return statusor.status();          \
  lhs = std::move(statusor).value()
// NOLINTEND(bugprone-macro-parentheses)

#endif  // EMAR_COMMON_STATUS_MACROS_H_
