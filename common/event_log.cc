#include "common/event_log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/json_string.h"

namespace emar {
namespace {

std::atomic<LogFormat> format{LogFormat::kOff};

spdlog::logger& Logger() {
  static spdlog::logger* logger = [] {
    auto* l = new spdlog::logger("emar", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->flush_on(spdlog::level::info);
    return l;
  }();
  return *logger;
}

}  // namespace

absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  if (name == "off") return LogFormat::kOff;
  return absl::InvalidArgumentError(
      absl::StrCat("--log-format '", name, "' is not text, json or off"));
}

void SetLogFormat(LogFormat f) {
  format = f;
  spdlog::logger& l = Logger();
  // Timestamps in UTC with milliseconds; JSON lines are objects whose first fields spdlog fills.
  l.set_pattern(f == LogFormat::kJson ? R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})"
                                      : "%Y-%m-%dT%H:%M:%S.%eZ %l %v",
                spdlog::pattern_time_type::utc);
}

void LogEvent(absl::string_view event, std::initializer_list<LogField> fields) {
  const LogFormat f = format.load();
  if (f == LogFormat::kOff) return;
  std::string line;
  if (f == LogFormat::kJson) {
    line = "\"event\":";
    AppendJsonString(line, event);
    for (const auto& [key, value] : fields) {
      line += ',';
      AppendJsonString(line, key);
      line += ':';
      AppendJsonString(line, value);
    }
  } else {
    line = std::string(event);
    for (const auto& [key, value] : fields) {
      absl::StrAppend(&line, " ", key, "=",
                      value.find(' ') == std::string::npos ? value : "\"" + value + "\"");
    }
  }
  Logger().info(line);
}

}  // namespace emar
