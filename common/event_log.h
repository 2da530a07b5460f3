// One line per lifecycle event (job created, shard leased, shard completed or failed, lease
// expired, job finished) on stderr, as text or as JSON lines (--log-format json), through spdlog
// (Debian libspdlog-dev: thread-safe sinks, timestamps and levels), kept out of every header.
//
//   SetLogFormat(LogFormat::kJson);
//   LogEvent("shard_leased", {{"job", id}, {"shard", "3"}, {"duration_ms", DurationMs(d)}});
//   // {"ts":"2026-11-28T14:03:55.123Z","level":"info","event":"shard_leased","job":"...",
//   //  "shard":"3","duration_ms":12.5}
//
// String values are JSON strings, numbers (durations, counts) JSON numbers. The binaries' other
// output goes through Notice (stderr) and Announce (stdout): in JSON mode an event like the
// others, otherwise the plain line it always was. common/log_capture.h routes what libraries
// print (gRPC, Abseil, stray std::cerr lines) the same way.
#ifndef EMAR_COMMON_EVENT_LOG_H_
#define EMAR_COMMON_EVENT_LOG_H_

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace emar {

enum class LogFormat { kText, kJson, kOff };
enum class LogLevel { kInfo, kWarning, kError };

// "text", "json" or "off" (the flag's values); INVALID_ARGUMENT otherwise.
absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view name);
// Process-wide; kOff until called (libraries and tests log nothing unless a binary asks).
void SetLogFormat(LogFormat format);
LogFormat CurrentLogFormat();

// A field of an event: a string, or a number (written bare in JSON; NaN and infinities as null).
class LogField {
 public:
  LogField(absl::string_view key, std::string value) : key_(key), value_(std::move(value)) {}
  LogField(absl::string_view key, const char* value) : key_(key), value_(value) {}
  template <typename T,
            std::enable_if_t<std::is_arithmetic_v<T> && !std::is_same_v<T, bool>, int> = 0>
  LogField(absl::string_view key, T number) : key_(key), value_(Number(number)), number_(true) {}

  absl::string_view key() const { return key_; }
  const std::string& value() const { return value_; }
  bool number() const { return number_; }

 private:
  template <typename T>
  static std::string Number(T n) {
    if constexpr (std::is_floating_point_v<T>) {
      if (!std::isfinite(n)) return "null";
    }
    return absl::StrCat(n);
  }
  absl::string_view key_;
  std::string value_;
  bool number_ = false;
};

// Milliseconds as a number with microsecond resolution (the "duration_ms" fields).
double DurationMs(absl::Duration d);

void LogEvent(absl::string_view event, std::initializer_list<LogField> fields);
void LogEventAt(LogLevel level, absl::string_view event, std::initializer_list<LogField> fields);

// A diagnostic line of a binary (a warning, a refused flag, a retry): with --log-format json the
// event `event` with the fields and "message": `text`; otherwise `text` itself on stderr, as with
// text or off it always was printed.
void Notice(LogLevel level, absl::string_view event, absl::string_view text,
            std::initializer_list<LogField> fields = {});
// The same on stdout, for what a binary announces ("listening on ...", "worker stopped ...").
void Announce(absl::string_view event, absl::string_view text,
              std::initializer_list<LogField> fields = {});

// The JSON line of an event without the spdlog prefix, for the capture of library output:
// writes `"event":...,fields` to the logger of `to_stdout` or stderr at `level`.
void LogEventTo(bool to_stdout, LogLevel level, absl::string_view event,
                std::initializer_list<LogField> fields);

}  // namespace emar

#endif  // EMAR_COMMON_EVENT_LOG_H_
