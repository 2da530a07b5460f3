// --log-format for a binary, applied before anything prints: with json, every line the process
// writes to stdout or stderr is a JSON object. The binary's own events and notices are JSON by
// themselves (common/event_log.h); this routes the rest the same way:
//   - lines written to std::cout / std::cerr by any code (Abseil's flag errors included) become
//     {"event":"stdout"|"stderr","message":LINE} on their stream;
//   - gRPC's log (gpr_log) becomes {"event":"grpc_log","severity","file","line","message"};
//   - Abseil's internal log becomes {"event":"absl_log",...} likewise.
// --help and --version print before it (common/help_flag.h) and are exempt.
//
//   emar::ExitZeroOnHelp(argc, argv, "worker/main.cc");
//   absl::StatusOr<emar::LogFormat> format = emar::InitLogFormat(argc, argv, "text");
//   absl::ParseCommandLine(argc, argv);
#ifndef EMAR_COMMON_LOG_CAPTURE_H_
#define EMAR_COMMON_LOG_CAPTURE_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/event_log.h"

namespace emar {

// The last --log-format / --log_format value in argv (`fallback` without one), applied with
// SetLogFormat; with json, the streams and library logs are captured as above. An unknown value
// is INVALID_ARGUMENT (nothing applied).
absl::StatusOr<LogFormat> InitLogFormat(int argc, char** argv, absl::string_view fallback);

}  // namespace emar

#endif  // EMAR_COMMON_LOG_CAPTURE_H_
