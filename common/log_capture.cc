#include "common/log_capture.h"

#include <grpc/support/log.h>

#include <iostream>
#include <mutex>
#include <streambuf>
#include <string>

#include "absl/base/internal/raw_logging.h"
#include "absl/base/log_severity.h"
#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"

namespace emar {
namespace {

// A stream buffer that turns each complete line into a JSON event on the same stream. Lines are
// gathered per thread, so two threads' output never mixes within a line.
class JsonLineBuf : public std::streambuf {
 public:
  JsonLineBuf(bool to_stdout, int index) : to_stdout_(to_stdout), index_(index) {}

 protected:
  int overflow(int c) override {
    if (c == traits_type::eof()) return 0;
    Put(static_cast<char>(c));
    return c;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    for (std::streamsize i = 0; i < n; ++i) Put(s[i]);
    return n;
  }
  // std::endl and flush: a partial line waits for its newline.
  int sync() override { return 0; }

 private:
  std::string& Pending() {
    thread_local std::string pending[2];
    return pending[index_];
  }
  void Put(char c) {
    std::string& line = Pending();
    if (c != '\n') {
      line += c;
      return;
    }
    if (!line.empty()) {
      // Abseil's flag errors start "ERROR: "; anything else on stderr is at least a warning.
      const LogLevel level = to_stdout_                        ? LogLevel::kInfo
                             : absl::StartsWith(line, "ERROR") ? LogLevel::kError
                                                               : LogLevel::kWarning;
      LogEventTo(to_stdout_, level, to_stdout_ ? "stdout" : "stderr", {{"message", line}});
    }
    line.clear();
  }

  const bool to_stdout_;
  const int index_;
};

void GrpcLog(gpr_log_func_args* args) {
  // Debug lines too are kInfo: there is no lower level.
  const LogLevel level =
      args->severity == GPR_LOG_SEVERITY_ERROR ? LogLevel::kError : LogLevel::kInfo;
  LogEventTo(false, level, "grpc_log",
             {{"severity", gpr_log_severity_string(args->severity)},
              {"file", args->file != nullptr ? args->file : ""},
              {"line", args->line},
              {"message", args->message != nullptr ? args->message : ""}});
}

void AbslLog(absl::LogSeverity severity, const char* file, int line, const std::string& message) {
  const LogLevel level = severity == absl::LogSeverity::kInfo      ? LogLevel::kInfo
                         : severity == absl::LogSeverity::kWarning ? LogLevel::kWarning
                                                                   : LogLevel::kError;
  LogEventTo(false, level, "absl_log",
             {{"severity", absl::LogSeverityName(severity)},
              {"file", file != nullptr ? file : ""},
              {"line", line},
              {"message", message}});
}

void CaptureForJson() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Never destroyed: the standard streams are flushed at exit, after function statics go.
    auto* out = new JsonLineBuf(true, 0);
    auto* err = new JsonLineBuf(false, 1);
    std::cout.flush();
    std::cerr.flush();
    std::cout.rdbuf(out);
    std::cerr.rdbuf(err);
    std::clog.rdbuf(err);
    gpr_set_log_function(GrpcLog);
    absl::raw_logging_internal::RegisterInternalLogFunction(AbslLog);
  });
}

}  // namespace

absl::StatusOr<LogFormat> InitLogFormat(int argc, char** argv, absl::string_view fallback) {
  std::string value(fallback);
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (!absl::ConsumePrefix(&arg, "--")) {
      if (!absl::ConsumePrefix(&arg, "-")) continue;
    }
    const size_t eq = arg.find('=');
    const std::string name = absl::StrReplaceAll(arg.substr(0, eq), {{"-", "_"}});
    if (name != "log_format") continue;
    if (eq != absl::string_view::npos) {
      value = std::string(arg.substr(eq + 1));
    } else if (i + 1 < argc) {
      value = argv[++i];
    }
  }
  absl::StatusOr<LogFormat> format = ParseLogFormat(value);
  if (!format.ok()) return format.status();
  SetLogFormat(*format);
  if (*format == LogFormat::kJson) CaptureForJson();
  return *format;
}

}  // namespace emar
