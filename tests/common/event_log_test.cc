// The lifecycle event log: JSON lines whose values are escaped, text lines, nothing when off.
#include "common/event_log.h"

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

}  // namespace
}  // namespace emar
