// One line per lifecycle event (job created, shard leased, shard completed or failed, lease
// expired, job finished) on stderr, as text or as JSON lines (--log-format json), through spdlog
// (Debian libspdlog-dev: thread-safe sinks, timestamps and levels), kept out of every header.
//
//   SetLogFormat(LogFormat::kJson);
//   LogEvent("shard_leased", {{"job", id}, {"shard", "3"}, {"worker", "w1/0"}});
//   // {"ts":"2026-11-28T14:03:55.123Z","level":"info","event":"shard_leased","job":"...",...}
#ifndef EMAR_COMMON_EVENT_LOG_H_
#define EMAR_COMMON_EVENT_LOG_H_

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace emar {

enum class LogFormat { kText, kJson, kOff };

// "text", "json" or "off" (the flag's values); INVALID_ARGUMENT otherwise.
absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view name);
// Process-wide; kOff until called (libraries and tests log nothing unless a binary asks).
void SetLogFormat(LogFormat format);

using LogField = std::pair<absl::string_view, std::string>;
void LogEvent(absl::string_view event, std::initializer_list<LogField> fields);

}  // namespace emar

#endif  // EMAR_COMMON_EVENT_LOG_H_
