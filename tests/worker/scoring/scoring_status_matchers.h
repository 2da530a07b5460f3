// common/status_matchers.h for the scoring tests. That header writes `testing::PrintToString`
// inside namespace emar::testing, which resolves to emar::testing; declaring the name there
// first makes it compile. Drop this file once common/status_matchers.h says ::testing.
#ifndef EMAR_TESTS_WORKER_SCORING_SCORING_STATUS_MATCHERS_H_
#define EMAR_TESTS_WORKER_SCORING_SCORING_STATUS_MATCHERS_H_

#include "gtest/gtest.h"

namespace emar::testing {
using ::testing::PrintToString;
}  // namespace emar::testing

#include "common/status_matchers.h"  // IWYU pragma: export

#endif  // EMAR_TESTS_WORKER_SCORING_SCORING_STATUS_MATCHERS_H_
