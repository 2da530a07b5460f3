#include "client/commands/cli.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "client/commands/command.h"
#include "client/report_document.h"
#include "client/report_format.h"
#include "common/client_channel.h"

ABSL_FLAG(std::string, server, "",
          "coordinator HOST:PORT (default $EMAR_SERVER, else 127.0.0.1:50051)");
ABSL_FLAG(std::string, tls_ca, "",
          "TLS: the CA certificate (PEM) that signed the coordinator's certificate");
ABSL_FLAG(std::string, tls_cert, "", "mutual TLS: this client's certificate (PEM), with --tls-key");
ABSL_FLAG(std::string, tls_key, "", "mutual TLS: the private key (PEM) of --tls-cert");
ABSL_FLAG(std::string, token_file, "",
          "file holding the bearer token for the coordinator (default $EMAR_TOKEN)");
ABSL_FLAG(std::string, format, "text",
          "output format: text, json, or for reports also markdown or html");
ABSL_FLAG(std::string, progress, "auto",
          "run, submit, watch: progress on stderr: live (one line redrawn in place), plain (a line "
          "at each phase change and every --progress-every), off, or auto (live on a terminal, "
          "else plain)");
ABSL_FLAG(double, progress_every, 5, "plain progress: seconds between lines within a phase");
// Declared for --help only: every --label is taken out of argv before Abseil parses it (Abseil
// keeps only a flag's last value; labels repeat), see Main.
ABSL_FLAG(std::vector<std::string>, label, {},
          "run/submit: add label KEY=VALUE to the job (repeatable); list/series: only jobs "
          "carrying it");
ABSL_FLAG(std::string, timeout, "",
          "run, submit --wait, watch: stop waiting after this long (e.g. 90s, 10m, 2h; a bare "
          "number is seconds) and exit 1; the job goes on");

namespace emar {

bool Json() { return absl::GetFlag(FLAGS_format) == "json"; }

std::string Format() { return absl::GetFlag(FLAGS_format); }

std::vector<std::pair<std::string, std::string>>& Labels() {
  static auto* labels = new std::vector<std::pair<std::string, std::string>>();
  return *labels;
}

std::vector<std::string>& InputRoots() {
  static auto* roots = new std::vector<std::string>();
  return *roots;
}

absl::Time WaitDeadline() {
  static const absl::Time deadline = [] {
    const std::string t = absl::GetFlag(FLAGS_timeout);
    if (t.empty()) return absl::InfiniteFuture();
    absl::Duration d;
    double seconds;
    if (absl::SimpleAtod(t, &seconds)) {
      d = absl::Seconds(seconds);
    } else if (!absl::ParseDuration(t, &d)) {
      return absl::InfinitePast();  // refused by CheckCommonFlags before any command runs
    }
    if (d <= absl::ZeroDuration()) return absl::InfinitePast();
    return absl::Now() + d;
  }();
  return deadline;
}

std::string CheckCommonFlags() {
  const std::string progress = absl::GetFlag(FLAGS_progress);
  if (progress != "auto" && progress != "live" && progress != "plain" && progress != "off") {
    return "--progress must be auto, live, plain or off";
  }
  if (!(absl::GetFlag(FLAGS_progress_every) > 0)) return "--progress-every must be positive";
  if (WaitDeadline() == absl::InfinitePast()) {
    return "--timeout takes a positive duration such as 30s, 10m or 2h, not '" +
           absl::GetFlag(FLAGS_timeout) + "'";
  }
  return "";
}

int Fail(const absl::Status& s) {
  std::string msg(s.message());
  absl::StrReplaceAll({{"\n", " "}}, &msg);
  std::cerr << "emarctl: " << msg << std::endl;
  return kExitError;
}

int Usage(const std::string& why) {
  std::cerr << "emarctl: " << why << "\n" << UsageText() << std::endl;
  return kExitUsage;
}

int FailCall(const Session& session, const absl::Status& s) {
  const int code = Fail(s);
  if (session.remote) {
    const std::string hint =
        ConnectionHint(s, session.has_token, session.uses_tls, session.has_client_cert);
    if (!hint.empty()) std::cerr << "emarctl: hint: " << hint << std::endl;
  }
  return code;
}

namespace {

std::string ServerAddress() {
  std::string s = absl::GetFlag(FLAGS_server);
  if (!s.empty()) return s;
  // On emarctl's main thread, before any other thread starts.
  const char* env = std::getenv("EMAR_SERVER");  // NOLINT(concurrency-mt-unsafe)
  return env && *env ? env : "127.0.0.1:50051";
}

}  // namespace

absl::StatusOr<Session> Connect() {
  ClientConnectionOptions options;
  options.target = ServerAddress();
  options.tls = {.ca = absl::GetFlag(FLAGS_tls_ca),
                 .cert = absl::GetFlag(FLAGS_tls_cert),
                 .key = absl::GetFlag(FLAGS_tls_key)};
  absl::StatusOr<std::string> token = ResolveToken(absl::GetFlag(FLAGS_token_file));
  if (!token.ok()) return token.status();
  options.token = *token;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = OpenChannel(options, args);
  if (!channel.ok()) return channel.status();
  return Session{.client = EvaluationClient(*channel),
                 .remote = true,
                 .has_token = !options.token.empty(),
                 .uses_tls = options.tls.enabled(),
                 .has_client_cert = !options.tls.cert.empty(),
                 .channel = *channel};
}

int PrintReport(Session& session, emar::v1::Report report) {
  if (absl::Status listed = ListReportFlips(session, &report); !listed.ok()) {
    return FailCall(session, listed);
  }
  const std::string format = absl::GetFlag(FLAGS_format);
  std::cout << (format == "json"       ? ReportToJson(report)
                : format == "markdown" ? ReportToMarkdown(report)
                : format == "html"     ? ReportToHtml(report)
                                       : ReportToText(report));
  std::cout.flush();
  if (report.gates_passed()) return 0;
  std::string failed;
  for (const auto& c : report.candidates()) {
    for (const auto& g : c.gates()) {
      if (!g.passed())
        absl::StrAppend(&failed, failed.empty() ? "" : ", ", c.name(), ":", g.gate());
    }
  }
  std::cerr << "emarctl: gate failed: " << failed << std::endl;
  return kExitGateFailed;
}

std::unique_ptr<ProgressDisplay> MakeProgress() {
  const std::string mode = absl::GetFlag(FLAGS_progress);
  if (mode == "off") return nullptr;
  ProgressOptions options;
  options.terminal = mode == "live" || (mode == "auto" && ::isatty(2));
  options.plain_every = absl::Seconds(absl::GetFlag(FLAGS_progress_every));
  return std::make_unique<ProgressDisplay>(stderr, options);
}

}  // namespace emar
