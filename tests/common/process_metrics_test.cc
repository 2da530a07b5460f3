#include "common/process_metrics.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::testing::HasSubstr;

TEST(ParseProcStat, ReadsFieldsAfterTheCommandEvenWithSpacesAndParentheses) {
  // Fields 1-24 of /proc/PID/stat: pid (comm) state ppid ... utime(14) stime(15) ... starttime(22)
  // vsize(23) rss(24). The command holds ") (" to trip a naive parser.
  const std::string stat =
      "4242 (a) (b c) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 1000 "
      "123456789 2048 18446744073709551615";
  const ProcessStats s = ParseProcStat(stat, /*ticks_per_second=*/100, /*page_size=*/4096,
                                       /*boot_time_seconds=*/1700000000);
  ASSERT_TRUE(s.cpu_seconds.has_value());
  EXPECT_DOUBLE_EQ(*s.cpu_seconds, 3.0);  // (250 + 50) / 100
  ASSERT_TRUE(s.start_time_seconds.has_value());
  EXPECT_DOUBLE_EQ(*s.start_time_seconds, 1700000010.0);  // boot + 1000 / 100
  EXPECT_EQ(s.virtual_bytes, 123456789);
  EXPECT_EQ(s.resident_bytes, 2048 * 4096);
}

TEST(ParseProcStat, GarbageGivesNoValuesRatherThanZeros) {
  const ProcessStats s = ParseProcStat("no parenthesis here", 100, 4096, 1);
  EXPECT_FALSE(s.cpu_seconds.has_value());
  EXPECT_FALSE(s.resident_bytes.has_value());
  const ProcessStats t = ParseProcStat("1 (x) S 1 2", 100, 4096, 1);  // truncated
  EXPECT_FALSE(t.cpu_seconds.has_value());
  EXPECT_FALSE(t.start_time_seconds.has_value());
}

TEST(ReadProcessStats, FollowsThisProcess) {
  const ProcessStats before = ReadProcessStats();
  ASSERT_TRUE(before.open_fds.has_value());
  ASSERT_TRUE(before.cpu_seconds.has_value());
  ASSERT_TRUE(before.resident_bytes.has_value());
  EXPECT_GT(*before.resident_bytes, 0);
  ASSERT_TRUE(before.start_time_seconds.has_value());
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(*before.start_time_seconds, now + 1);
  EXPECT_GT(*before.start_time_seconds, now - 24 * 3600);  // this test started today

  std::vector<int> fds;
  for (int i = 0; i < 5; ++i) fds.push_back(open("/dev/null", O_RDONLY));
  volatile double sink = 0;  // burn some CPU so the counter moves
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  while (std::chrono::steady_clock::now() < until) sink = sink + 1;
  const ProcessStats after = ReadProcessStats();
  EXPECT_EQ(*after.open_fds, *before.open_fds + 5);
  EXPECT_GT(*after.cpu_seconds, *before.cpu_seconds);
  for (int fd : fds) close(fd);
}

TEST(ProcessMetricsText, IsPrometheusTextWithBuildInfo) {
  const std::string text = ProcessMetricsText();
  EXPECT_THAT(text, HasSubstr("# TYPE process_cpu_seconds_total counter\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE process_open_fds gauge\nprocess_open_fds "));
  EXPECT_THAT(text, HasSubstr("process_max_fds "));
  EXPECT_THAT(text, HasSubstr("process_start_time_seconds "));
  EXPECT_THAT(text, HasSubstr("emar_build_info{version=\""));
  EXPECT_THAT(text, HasSubstr("\"} 1\n"));
}

}  // namespace
}  // namespace emar
