// What emarctl's commands share: the common flags (--format, --server and the connection flags,
// --label, --timeout, --progress), failing with the right exit code, connecting to a
// coordinator, printing a report, and the progress display.
#ifndef EMAR_CLIENT_COMMANDS_CLI_H_
#define EMAR_CLIENT_COMMANDS_CLI_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/evaluation_client.h"
#include "client/progress_display.h"
#include "emar/v1/report.pb.h"

namespace emar {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitGateFailed = 3;

// --format json.
bool Json();

// The --format value: text, json, markdown or html (Main refuses any other).
std::string Format();

// --label K=V, in the order given (later ones win for the same key). Main fills it from argv
// before Abseil parses the rest (Abseil keeps only a flag's last value; labels repeat).
std::vector<std::pair<std::string, std::string>>& Labels();

// --input-root DIR, every occurrence (run: file:// inputs the embedded coordinator may read).
// Main fills it from argv like Labels().
std::vector<std::string>& InputRoots();

// When waiting gives up: now + --timeout, or never; InfinitePast for an invalid --timeout (Main
// refuses it before any command runs). Computed once, at the first call.
absl::Time WaitDeadline();

// Checks --progress, --progress-every and --timeout: the usage error's message, or "".
std::string CheckCommonFlags();

// Prints "emarctl: MESSAGE" (on one line) to stderr; returns kExitError.
int Fail(const absl::Status& s);

// Prints "emarctl: WHY" and the usage text to stderr; returns kExitUsage.
int Usage(const std::string& why);

// A client of a remote coordinator, or of the embedded one, and how it connects: what
// ConnectionHint needs to explain a failed call.
struct Session {
  EvaluationClient client;
  bool remote = false;  // false: the embedded coordinator, where no hint applies
  bool has_token = false;
  bool uses_tls = false;
  bool has_client_cert = false;
  std::shared_ptr<grpc::Channel> channel;  // for the services beside EvaluationService
};

// Fail(s), then a hint on its own line when the failure looks like a TLS or token problem.
int FailCall(const Session& session, const absl::Status& s);

// The remote coordinator per --server ($EMAR_SERVER), --tls-* and --token-file / $EMAR_TOKEN.
absl::StatusOr<Session> Connect();

// Prints the report in --format, with the flips --flips asks for (ListReportFlips); returns 0,
// or kExitGateFailed (naming the gates on stderr).
int PrintReport(Session& session, emar::v1::Report report);

// Fills the first --flips N flips of each kind into the report (flips_commands.cc).
absl::Status ListReportFlips(Session& session, emar::v1::Report* report);

// The progress display --progress asks for (null: off).
std::unique_ptr<ProgressDisplay> MakeProgress();

}  // namespace emar

#endif  // EMAR_CLIENT_COMMANDS_CLI_H_
