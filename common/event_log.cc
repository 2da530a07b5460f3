#include "common/event_log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

#include "common/json_string.h"

namespace emar {
namespace {

std::atomic<LogFormat> format{LogFormat::kOff};

constexpr const char* kJsonPattern = R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})";
constexpr const char* kTextPattern = "%Y-%m-%dT%H:%M:%S.%eZ %l %v";

spdlog::logger* NewLogger(const char* name, spdlog::sink_ptr sink) {
  auto* l = new spdlog::logger(name, std::move(sink));
  l->flush_on(spdlog::level::info);
  // spdlog's own failures (a formatting error) would print "[*** LOG ERROR ***]" lines: in JSON
  // mode they stay JSON.
  l->set_error_handler([](const std::string& message) {
    std::string line = R"({"level":"error","event":"log_error","message":)";
    AppendJsonString(line, message);
    line += "}\n";
    std::fputs(line.c_str(), stderr);
  });
  return l;
}

spdlog::logger& ErrLogger() {
  static spdlog::logger* logger =
      NewLogger("emar", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  return *logger;
}

spdlog::logger& OutLogger() {
  static spdlog::logger* logger =
      NewLogger("emar-stdout", std::make_shared<spdlog::sinks::stdout_sink_mt>());
  return *logger;
}

spdlog::level::level_enum SpdLevel(LogLevel level) {
  switch (level) {
    case LogLevel::kWarning:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
    case LogLevel::kInfo:
      break;
  }
  return spdlog::level::info;
}

std::string Line(LogFormat f, absl::string_view event, std::initializer_list<LogField> fields,
                 absl::string_view message = {}) {
  std::string line;
  if (f == LogFormat::kJson) {
    line = "\"event\":";
    AppendJsonString(line, event);
    for (const LogField& field : fields) {
      line += ',';
      AppendJsonString(line, field.key());
      line += ':';
      if (field.number()) {
        line += field.value();
      } else {
        AppendJsonString(line, field.value());
      }
    }
    if (!message.empty()) {
      line += ",\"message\":";
      AppendJsonString(line, message);
    }
  } else {
    line = std::string(event);
    for (const LogField& field : fields) {
      const std::string& v = field.value();
      absl::StrAppend(&line, " ", field.key(), "=",
                      v.find(' ') == std::string::npos ? v : "\"" + v + "\"");
    }
  }
  return line;
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
  // Timestamps in UTC with milliseconds; JSON lines are objects whose first fields spdlog fills.
  for (spdlog::logger* l : {&ErrLogger(), &OutLogger()}) {
    l->set_pattern(f == LogFormat::kJson ? kJsonPattern : kTextPattern,
                   spdlog::pattern_time_type::utc);
  }
}

LogFormat CurrentLogFormat() { return format.load(); }

double DurationMs(absl::Duration d) {
  return std::round(absl::ToDoubleMilliseconds(d) * 1000) / 1000;
}

void LogEventAt(LogLevel level, absl::string_view event, std::initializer_list<LogField> fields) {
  const LogFormat f = format.load();
  if (f == LogFormat::kOff) return;
  ErrLogger().log(SpdLevel(level), Line(f, event, fields));
}

void LogEvent(absl::string_view event, std::initializer_list<LogField> fields) {
  LogEventAt(LogLevel::kInfo, event, fields);
}

void LogEventTo(bool to_stdout, LogLevel level, absl::string_view event,
                std::initializer_list<LogField> fields) {
  (to_stdout ? OutLogger() : ErrLogger())
      .log(SpdLevel(level), Line(LogFormat::kJson, event, fields));
}

void Notice(LogLevel level, absl::string_view event, absl::string_view text,
            std::initializer_list<LogField> fields) {
  if (format.load() == LogFormat::kJson) {
    ErrLogger().log(SpdLevel(level), Line(LogFormat::kJson, event, fields, text));
  } else {
    std::cerr << text << std::endl;
  }
}

void Announce(absl::string_view event, absl::string_view text,
              std::initializer_list<LogField> fields) {
  if (format.load() == LogFormat::kJson) {
    OutLogger().info(Line(LogFormat::kJson, event, fields, text));
  } else {
    std::cout << text << std::endl;
  }
}

}  // namespace emar
