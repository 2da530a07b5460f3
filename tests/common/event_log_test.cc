// The lifecycle event log: JSON lines whose values are escaped, text lines, nothing when off.
#include "common/event_log.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

std::string Logged(LogFormat format, absl::string_view event,
                   std::initializer_list<LogField> fields) {
  SetLogFormat(format);
  ::testing::internal::CaptureStderr();
  LogEvent(event, fields);
  std::string out = ::testing::internal::GetCapturedStderr();
  SetLogFormat(LogFormat::kOff);
  return out;
}

TEST(EventLogTest, JsonLinesEscapeValuesAndCarryTimeAndLevel) {
  const std::string line =
      Logged(LogFormat::kJson, "shard_failed", {{"job", "job-1"}, {"error", "bad \"id\"\n\tx\\"}});
  EXPECT_THAT(line, MatchesRegex(R"(\{"ts":"[0-9-]+T[0-9:.]+Z","level":"info",.*\}.)"));
  EXPECT_THAT(line, ::testing::EndsWith("}\n"));
  EXPECT_THAT(line, HasSubstr(R"("event":"shard_failed","job":"job-1")"));
  EXPECT_THAT(line, HasSubstr(R"("error":"bad \"id\"\u000a\u0009x\\")"));
}

TEST(EventLogTest, TextLinesQuoteValuesWithSpacesAndOffPrintsNothing) {
  const std::string line =
      Logged(LogFormat::kText, "job_finished", {{"job", "job-1"}, {"error", "two words"}});
  EXPECT_THAT(line, HasSubstr("info job_finished job=job-1 error=\"two words\""));
  EXPECT_EQ(Logged(LogFormat::kOff, "job_finished", {{"job", "job-1"}}), "");
  EXPECT_THAT(ParseLogFormat("yaml").status().message(), HasSubstr("--log-format 'yaml'"));
}

TEST(EventLogTest, NumbersAreBareInJsonAndUnknownDurationsNull) {
  const std::string line = Logged(LogFormat::kJson, "job_finished",
                                  {{"job", "job-1"},
                                   {"shards", 4},
                                   {"duration_ms", DurationMs(absl::Microseconds(1500))},
                                   {"queued_ms", std::nan("")}});
  EXPECT_THAT(line, HasSubstr(R"("shards":4,"duration_ms":1.5,"queued_ms":null})"));
  EXPECT_THAT(Logged(LogFormat::kText, "job_finished", {{"duration_ms", 2.25}}),
              HasSubstr("job_finished duration_ms=2.25"));
}

TEST(EventLogTest, NoticesArePlainLinesUnlessJson) {
  ::testing::internal::CaptureStderr();
  Notice(LogLevel::kWarning, "lease_failed", "emar-worker: lease failed: 14", {{"code", 14}});
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "emar-worker: lease failed: 14\n");
  SetLogFormat(LogFormat::kJson);
  ::testing::internal::CaptureStderr();
  Notice(LogLevel::kWarning, "lease_failed", "emar-worker: lease failed: 14", {{"code", 14}});
  const std::string line = ::testing::internal::GetCapturedStderr();
  SetLogFormat(LogFormat::kOff);
  EXPECT_THAT(line, HasSubstr(R"("level":"warning","event":"lease_failed","code":14,)"
                              R"("message":"emar-worker: lease failed: 14"})"));
}

}  // namespace
}  // namespace emar
