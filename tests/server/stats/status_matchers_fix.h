// Includes common/status_matchers.h, which says `testing::PrintToString` inside namespace
// emar::testing (and so finds emar::testing); this makes the name visible there until that
// header says ::testing. Include this instead of common/status_matchers.h in these tests.
#ifndef EMAR_TESTS_SERVER_STATS_STATUS_MATCHERS_FIX_H_
#define EMAR_TESTS_SERVER_STATS_STATUS_MATCHERS_FIX_H_

#include "gmock/gmock.h"
namespace emar::testing {
using ::testing::PrintToString;
}  // namespace emar::testing
#include "common/status_matchers.h"

#endif  // EMAR_TESTS_SERVER_STATS_STATUS_MATCHERS_FIX_H_
