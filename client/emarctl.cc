// emarctl: the command-line client. `emarctl help` lists the commands; README.md documents them.
//
// Exit codes: 0 success, 1 error (bad input, failed job, unreachable server), 2 usage error,
// 3 a gate failed (the report is still printed in full).
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/marshalling.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "client/evaluation_client.h"
#include "client/job_file.h"
#include "client/lm_eval_import.h"
#include "client/local_scorer.h"
#include "client/plan_command.h"
#include "client/progress_display.h"
#include "client/report_document.h"
#include "client/report_format.h"
#include "client/series_format.h"
#include "common/client_channel.h"
#include "common/flag_names.h"
#include "common/help_flag.h"
#include "common/json_string.h"
#include "common/mutex_checks.h"
#include "embedded/embedded_coordinator.h"
#include "eval/formula/emar_formula.h"
#include "eval/job/job_defaults.h"

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
ABSL_FLAG(bool, wait, false, "submit: wait for the job and print its report");
ABSL_FLAG(std::string, progress, "auto",
          "run, submit, watch: progress on stderr: live (one line redrawn in place), plain (a line "
          "at each phase change and every --progress-every), off, or auto (live on a terminal, "
          "else plain)");
ABSL_FLAG(double, progress_every, 5, "plain progress: seconds between lines within a phase");
ABSL_FLAG(std::string, request_id, "", "submit: idempotency key (same key, same job)");
ABSL_FLAG(int32_t, workers, 2, "run: worker threads of the embedded coordinator");
ABSL_FLAG(int64_t, rows_per_shard, emar::kDefaultRowsPerShard,
          "run: rows per shard in the embedded coordinator");
ABSL_FLAG(std::string, data_dir, "",
          "run: keep the embedded coordinator's state here (default: a temp dir)");
ABSL_FLAG(int32_t, limit, 50, "list: how many jobs, newest first (a page; at most 1000)");
ABSL_FLAG(std::string, page_token, "", "list: the page after the one that printed this token");
// Declared for --help only: every --label is taken out of argv before Abseil parses it (Abseil
// keeps only a flag's last value; labels repeat), see Main.
ABSL_FLAG(std::vector<std::string>, label, {},
          "run/submit: add label KEY=VALUE to the job (repeatable); list/series: only jobs "
          "carrying it");
ABSL_FLAG(std::string, by, "", "series: the label whose value orders the points, e.g. step");
ABSL_FLAG(std::string, dataset, "",
          "series: follow this dataset's primary scores (a suite's target or benchmark) instead "
          "of the target and benchmark aggregates");
ABSL_FLAG(std::string, timeout, "",
          "run, submit --wait, watch: stop waiting after this long (e.g. 90s, 10m, 2h; a bare "
          "number is seconds) and exit 1; the job goes on");
ABSL_FLAG(std::string, metric, "", "score, plan: metric name");
ABSL_FLAG(std::string, predictions, "", "score: predictions JSONL");
ABSL_FLAG(std::string, references, "", "score: references JSONL");
ABSL_FLAG(std::string, id_field, "", "score: id field (default id)");
ABSL_FLAG(std::string, prediction_field, "", "score: prediction field (default prediction)");
ABSL_FLAG(std::string, reference_field, "",
          "score: reference field (default reference/references)");
ABSL_FLAG(std::optional<double>, min_emar, std::nullopt,
          "run/submit: gate: lower CI bound of EMAR >= x");
ABSL_FLAG(std::optional<double>, max_benchmark_regression, std::nullopt,
          "run/submit: gate: lower CI bound of the benchmark delta >= -x");
ABSL_FLAG(std::optional<double>, min_target_gain, std::nullopt,
          "run/submit: gate: lower CI bound of the target delta >= x");
ABSL_FLAG(std::string, formula, "relative_gain", "emar: preset name or expression");
ABSL_FLAG(double, t0, NAN, "emar: base model on target");
ABSL_FLAG(double, t1, NAN, "emar: candidate on target");
ABSL_FLAG(double, b0, NAN, "emar: base model on benchmark");
ABSL_FLAG(double, b1, NAN, "emar: candidate on benchmark");

namespace emar {
namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitGateFailed = 3;

constexpr char kUsage[] = R"(emarctl COMMAND [flags]

  run JOB.yaml                 evaluate a job file in this process (embedded coordinator) and print the report
  submit JOB.yaml [--wait]     send a job to a coordinator; prints the job id, or the report with --wait
  status JOB_ID                one job's state and progress
  watch JOB_ID                 follow a job until it ends
  list                         recent jobs
  cancel JOB_ID                cancel a job
  report JOB_ID                the report of a finished job
  delete JOB_ID                delete a finished job, its results and the inputs no other job reads
  series --label K=V --by L    a run's finished jobs (those with every --label) side by side,
                               one point per job ordered by label L (e.g. --label run=exp-42 --by step);
                               --dataset NAME follows one dataset of a suite instead of the aggregates
  score --metric M --predictions P --references R    score one pair of files locally
  emar --formula F --t0 X --t1 X --b0 X --b1 X        evaluate an EMAR formula
  plan --metric M --baseline P --margin D             items needed to detect D (--items N: the MDE of N)
  job from-lm-eval --base DIR --candidate NAME=DIR --target T --benchmarks T1,T2
                               a suite job file from lm-evaluation-harness outputs (job --help)

Common flags: --server HOST:PORT (default $EMAR_SERVER, else 127.0.0.1:50051), --format text|json
(reports and series also markdown|html; other output is text for those).
  --label K=V (repeatable)   run/submit: add labels to the job's; list/series: only jobs with them
  --timeout DURATION         run, submit --wait, watch: give up waiting (exit 1), e.g. 30s, 10m
  --limit N --page-token T   list: page size, and the page after the one that printed T
Connecting to a coordinator (submit, status, watch, list, cancel, report, delete; run needs none):
  --tls-ca FILE                    TLS, trusting the CA (PEM) that signed the coordinator's certificate
  --tls-cert FILE --tls-key FILE   a client certificate, for a coordinator requiring mutual TLS
  --token-file FILE                the bearer token (default $EMAR_TOKEN)
Exit codes: 0 ok, 1 error, 2 usage error, 3 a gate failed.)";

bool Json() { return absl::GetFlag(FLAGS_format) == "json"; }

// --label K=V, in the order given (later ones win for the same key).
std::vector<std::pair<std::string, std::string>>& Labels() {
  static auto* labels = new std::vector<std::pair<std::string, std::string>>();
  return *labels;
}

// When waiting gives up: now + --timeout, or never.
absl::Time WaitDeadline() {
  static const absl::Time deadline = [] {
    const std::string t = absl::GetFlag(FLAGS_timeout);
    if (t.empty()) return absl::InfiniteFuture();
    absl::Duration d;
    double seconds;
    if (absl::SimpleAtod(t, &seconds)) {
      d = absl::Seconds(seconds);
    } else if (!absl::ParseDuration(t, &d)) {
      return absl::InfinitePast();  // refused by Main before any command runs
    }
    if (d <= absl::ZeroDuration()) return absl::InfinitePast();
    return absl::Now() + d;
  }();
  return deadline;
}

int Fail(const absl::Status& s) {
  std::string msg(s.message());
  absl::StrReplaceAll({{"\n", " "}}, &msg);
  std::cerr << "emarctl: " << msg << std::endl;
  return kExitError;
}

int Usage(const std::string& why) {
  std::cerr << "emarctl: " << why << "\n" << kUsage << std::endl;
  return kExitUsage;
}

std::string ServerAddress() {
  std::string s = absl::GetFlag(FLAGS_server);
  if (!s.empty()) return s;
  const char* env = std::getenv("EMAR_SERVER");
  return env && *env ? env : "127.0.0.1:50051";
}

// A client of a remote coordinator, or of the embedded one, and how it connects: what
// ConnectionHint needs to explain a failed call.
struct Session {
  EvaluationClient client;
  bool remote = false;  // false: the embedded coordinator, where no hint applies
  bool has_token = false;
  bool uses_tls = false;
  bool has_client_cert = false;
};

// Fail(s), then a hint on its own line when the failure looks like a TLS or token problem.
int FailCall(const Session& session, const absl::Status& s) {
  const int code = Fail(s);
  if (session.remote) {
    const std::string hint =
        ConnectionHint(s, session.has_token, session.uses_tls, session.has_client_cert);
    if (!hint.empty()) std::cerr << "emarctl: hint: " << hint << std::endl;
  }
  return code;
}

// The remote coordinator per --server, --tls-* and --token-file / $EMAR_TOKEN.
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
                 .has_client_cert = !options.tls.cert.empty()};
}

std::string JsonNumber(double v) { return absl::StrFormat("%.17g", v); }

int PrintReport(const emar::v1::Report& report) {
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

// The progress display --progress asks for (null: off).
std::unique_ptr<ProgressDisplay> MakeProgress() {
  const std::string mode = absl::GetFlag(FLAGS_progress);
  if (mode == "off") return nullptr;
  ProgressOptions options;
  options.terminal = mode == "live" || (mode == "auto" && ::isatty(2));
  options.plain_every = absl::Seconds(absl::GetFlag(FLAGS_progress_every));
  return std::make_unique<ProgressDisplay>(stderr, options);
}

// Submit's hashing and upload progress, for the display (if any).
EvaluationClient::TransferCallback TransferTo(ProgressDisplay* progress) {
  if (progress == nullptr) return nullptr;
  return [progress](const std::string& phase, int64_t done, int64_t total) {
    progress->Transfer(phase, done, total);
  };
}

// Waits for the job, then prints its report (or fails with the job's error).
int FollowAndReport(Session& session, const std::string& job_id, ProgressDisplay* progress) {
  auto done = session.client.Watch(
      job_id,
      [&](const emar::v1::Job& j) {
        if (progress) progress->Update(j);
      },
      WaitDeadline());
  if (progress) progress->Finish();
  if (!done.ok()) return FailCall(session, done.status());
  if (done->state() != emar::v1::JOB_STATE_SUCCEEDED) {
    std::string state = absl::AsciiStrToLower(emar::v1::JobState_Name(done->state()));
    absl::StrReplaceAll({{"job_state_", ""}}, &state);
    return Fail(absl::FailedPreconditionError(absl::StrCat(
        "job ", job_id, " ", state, done->error().empty() ? "" : ": ", done->error())));
  }
  auto report = session.client.GetReport(job_id);
  if (!report.ok()) return FailCall(session, report.status());
  return PrintReport(*report);
}

// Loads a job file and applies the gate flags over its `gates`.
absl::StatusOr<JobFile> LoadJob(const std::string& path) {
  auto job = LoadJobFile(path);
  if (!job.ok()) return job.status();
  emar::v1::GateSpec* g = job->spec.mutable_gates();
  if (auto v = absl::GetFlag(FLAGS_min_emar)) g->set_min_emar(*v);
  if (auto v = absl::GetFlag(FLAGS_max_benchmark_regression)) g->set_max_benchmark_regression(*v);
  if (auto v = absl::GetFlag(FLAGS_min_target_gain)) g->set_min_target_gain(*v);
  for (const auto& [key, value] : Labels()) (*job->spec.mutable_labels())[key] = value;
  return job;
}

int Run(const std::vector<std::string>& args) {
  if (args.size() != 1) return Usage("run takes one job file");
  auto job = LoadJob(args[0]);
  if (!job.ok()) return Fail(job.status());
  EmbeddedOptions opts;
  opts.worker_threads = absl::GetFlag(FLAGS_workers);
  opts.rows_per_shard = absl::GetFlag(FLAGS_rows_per_shard);
  opts.data_dir = absl::GetFlag(FLAGS_data_dir);
  auto embedded = EmbeddedCoordinator::Start(opts);
  if (!embedded.ok()) return Fail(embedded.status());
  Session session{.client = EvaluationClient((*embedded)->channel())};
  std::unique_ptr<ProgressDisplay> progress = MakeProgress();
  auto created =
      session.client.Submit(*job, absl::GetFlag(FLAGS_request_id), TransferTo(progress.get()));
  if (!created.ok()) {
    progress.reset();
    return Fail(created.status());
  }
  return FollowAndReport(session, created->job_id(), progress.get());
}

int Submit(const std::vector<std::string>& args) {
  if (args.size() != 1) return Usage("submit takes one job file");
  auto job = LoadJob(args[0]);
  if (!job.ok()) return Fail(job.status());
  auto session = Connect();
  if (!session.ok()) return Fail(session.status());
  std::unique_ptr<ProgressDisplay> progress = MakeProgress();
  auto created =
      session->client.Submit(*job, absl::GetFlag(FLAGS_request_id), TransferTo(progress.get()));
  if (!created.ok()) {
    progress.reset();
    return FailCall(*session, created.status());
  }
  if (absl::GetFlag(FLAGS_wait))
    return FollowAndReport(*session, created->job_id(), progress.get());
  progress.reset();
  if (Json()) {
    std::cout << "{\"job_id\": " << JsonString(created->job_id()) << "}" << std::endl;
  } else {
    std::cout << created->job_id() << std::endl;
  }
  return 0;
}

int PrintJob(const Session& session, const absl::StatusOr<emar::v1::Job>& job) {
  if (!job.ok()) return FailCall(session, job.status());
  std::cout << (Json() ? JobToJson(*job) : JobToText(*job) + "\n");
  return 0;
}

int Score() {
  if (absl::GetFlag(FLAGS_metric).empty() || absl::GetFlag(FLAGS_predictions).empty() ||
      absl::GetFlag(FLAGS_references).empty()) {
    return Usage("score needs --metric, --predictions and --references");
  }
  emar::v1::FieldNames fields;
  fields.set_id_field(absl::GetFlag(FLAGS_id_field));
  fields.set_prediction_field(absl::GetFlag(FLAGS_prediction_field));
  fields.set_reference_field(absl::GetFlag(FLAGS_reference_field));
  auto s = ScoreFiles(absl::GetFlag(FLAGS_metric), absl::GetFlag(FLAGS_predictions),
                      absl::GetFlag(FLAGS_references), fields);
  if (!s.ok()) return Fail(s.status());
  if (Json()) {
    std::cout << "{\"metric\": " << JsonString(s->metric)
              << ", \"value\": " << (s->value.value ? JsonNumber(*s->value.value) : "null")
              << ", \"undefined_reason\": "
              << (s->value.value ? "null" : JsonString(s->value.undefined_reason))
              << ", \"n\": " << s->n << ", \"direction\": " << JsonString(s->direction)
              << ", \"signature\": " << JsonString(s->signature) << "}" << std::endl;
  } else {
    std::cout << s->metric << " = "
              << (s->value.value ? absl::StrFormat("%.6f", *s->value.value)
                                 : "undefined (" + s->value.undefined_reason + ")")
              << "  (n=" << s->n << ", " << s->direction << ")\n"
              << s->signature << std::endl;
  }
  return 0;
}

int Emar() {
  const double t0 = absl::GetFlag(FLAGS_t0), t1 = absl::GetFlag(FLAGS_t1);
  const double b0 = absl::GetFlag(FLAGS_b0), b1 = absl::GetFlag(FLAGS_b1);
  if (std::isnan(t0) || std::isnan(t1) || std::isnan(b0) || std::isnan(b1)) {
    return Usage("emar needs --t0, --t1, --b0 and --b1 (finite numbers)");
  }
  auto formula = EmarFormula::Parse(absl::GetFlag(FLAGS_formula));
  if (!formula.ok()) return Fail(formula.status());
  const EmarValue v = formula->Evaluate({t0, t1, b0, b1});
  if (Json()) {
    std::cout << "{\"formula\": " << JsonString(formula->name())
              << ", \"expression\": " << JsonString(formula->expression())
              << ", \"value\": " << (v.value ? JsonNumber(*v.value) : "null")
              << ", \"undefined_reason\": " << (v.value ? "null" : JsonString(v.undefined_reason))
              << "}" << std::endl;
  } else {
    std::cout << "EMAR (" << formula->name() << ": " << formula->expression() << ") = "
              << (v.value ? absl::StrFormat("%.6g", *v.value) : "undefined: " + v.undefined_reason)
              << std::endl;
  }
  return 0;
}

int Main(int argc, char** argv) {
  // `job` parses its own flags (client/lm_eval_import.h), so it goes before Abseil's parser.
  if (argc > 1 && std::string(argv[1]) == "job") {
    return LmEvalImportCommand({argv + 2, argv + argc}, std::cout, std::cerr);
  }
  absl::SetProgramUsageMessage(kUsage);
  NormalizedArgs flags(argc, argv);
  ExitZeroOnHelp(argc, argv, "client/emarctl.cc");
  for (const std::string& label : flags.TakeRepeated("label")) {
    const size_t eq = label.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Usage("--label takes KEY=VALUE, not '" + label + "'");
    }
    Labels().emplace_back(label.substr(0, eq), label.substr(eq + 1));
  }
  std::vector<char*> rest = absl::ParseCommandLine(flags.argc(), flags.argv());
  const std::string progress = absl::GetFlag(FLAGS_progress);
  if (progress != "auto" && progress != "live" && progress != "plain" && progress != "off") {
    return Usage("--progress must be auto, live, plain or off");
  }
  if (!(absl::GetFlag(FLAGS_progress_every) > 0)) return Usage("--progress-every must be positive");
  if (WaitDeadline() == absl::InfinitePast()) {
    return Usage("--timeout takes a positive duration such as 30s, 10m or 2h, not '" +
                 absl::GetFlag(FLAGS_timeout) + "'");
  }
  if (rest.size() < 2) return Usage("no command given");
  const std::string cmd = rest[1];
  std::vector<std::string> args(rest.begin() + 2, rest.end());
  const std::string format = absl::GetFlag(FLAGS_format);
  if (format != "text" && format != "json" && format != "markdown" && format != "html") {
    return Usage("--format must be text, json, markdown or html");
  }
  if (cmd == "run") return Run(args);
  if (cmd == "submit") return Submit(args);
  if (cmd == "score") return args.empty() ? Score() : Usage("score takes flags only");
  if (cmd == "emar") return args.empty() ? Emar() : Usage("emar takes flags only");
  if (cmd == "plan") {
    return args.empty() ? RunPlanCommand(absl::GetFlag(FLAGS_metric), Json(), std::cout, std::cerr)
                        : Usage("plan takes flags only");
  }
  if (cmd == "list") {
    if (!args.empty()) return Usage("list takes no arguments");
    auto session = Connect();
    if (!session.ok()) return Fail(session.status());
    emar::v1::ListJobsRequest req;
    req.set_limit(absl::GetFlag(FLAGS_limit));
    req.set_page_token(absl::GetFlag(FLAGS_page_token));
    for (const auto& [key, value] : Labels()) (*req.mutable_labels())[key] = value;
    auto page = session->client.ListJobs(req);
    if (!page.ok()) return FailCall(*session, page.status());
    if (Json()) {
      std::cout << MessageToJson(*page);
    } else {
      for (auto& j : page->jobs()) std::cout << JobToText(j) << "\n";
      if (!page->next_page_token().empty()) {
        std::cerr << "emarctl: more jobs: --page-token " << page->next_page_token() << std::endl;
      }
    }
    return 0;
  }
  if (cmd == "series") {
    if (!args.empty()) return Usage("series takes flags only");
    if (Labels().empty()) return Usage("series needs --label K=V (e.g. --label run=exp-42)");
    if (absl::GetFlag(FLAGS_by).empty()) return Usage("series needs --by LABEL (e.g. --by step)");
    auto session = Connect();
    if (!session.ok()) return Fail(session.status());
    emar::v1::GetSeriesRequest req;
    req.set_by(absl::GetFlag(FLAGS_by));
    req.set_dataset(absl::GetFlag(FLAGS_dataset));
    for (const auto& [key, value] : Labels()) (*req.mutable_labels())[key] = value;
    auto series = session->client.GetSeries(req);
    if (!series.ok()) return FailCall(*session, series.status());
    const std::string f = absl::GetFlag(FLAGS_format), dataset = absl::GetFlag(FLAGS_dataset);
    std::cout << (f == "json"       ? SeriesToJson(*series)
                  : f == "markdown" ? SeriesToMarkdown(*series, dataset)
                  : f == "html"     ? SeriesToHtml(*series, dataset)
                                    : SeriesToText(*series, dataset));
    return 0;
  }
  if (cmd == "status" || cmd == "watch" || cmd == "cancel" || cmd == "report" || cmd == "delete") {
    if (args.size() != 1) return Usage(cmd + " takes one job id");
    auto connected = Connect();
    if (!connected.ok()) return Fail(connected.status());
    Session& session = *connected;
    if (cmd == "status") return PrintJob(session, session.client.GetJob(args[0]));
    if (cmd == "cancel") return PrintJob(session, session.client.CancelJob(args[0]));
    if (cmd == "delete") {
      auto deleted = session.client.DeleteJob(args[0]);
      if (!deleted.ok()) return FailCall(session, deleted.status());
      if (Json()) {
        std::cout << MessageToJson(*deleted);
      } else {
        std::cout << "deleted " << deleted->job_id() << ": " << deleted->blobs_removed()
                  << " input blob(s) no other job reads removed, " << deleted->bytes_freed()
                  << " bytes freed\n";
      }
      return 0;
    }
    if (cmd == "report") {
      auto report = session.client.GetReport(args[0]);
      if (!report.ok()) return FailCall(session, report.status());
      return PrintReport(*report);
    }
    // Text on a terminal: the live line is the output, then the final state. Otherwise one
    // record per change on stdout (for a log or a program) and the progress on stderr.
    const bool live_only = !Json() && ::isatty(1);
    std::unique_ptr<ProgressDisplay> progress = MakeProgress();
    auto done = session.client.Watch(
        args[0],
        [&](const emar::v1::Job& j) {
          if (progress) progress->Update(j);
          if (live_only && progress) return;
          std::cout << (Json() ? JobToJson(j, /*one_line=*/true) : JobToText(j) + "\n")
                    << std::flush;
        },
        WaitDeadline());
    const bool shown_live = live_only && progress != nullptr;
    progress.reset();
    if (!done.ok()) return FailCall(session, done.status());
    if (shown_live) std::cout << JobToText(*done) << "\n";
    return done->state() == emar::v1::JOB_STATE_SUCCEEDED ? 0 : kExitError;
  }
  if (cmd == "help") {
    std::cout << kUsage << std::endl;
    return 0;
  }
  return Usage("unknown command '" + cmd + "'");
}

}  // namespace
}  // namespace emar

int main(int argc, char** argv) {
  emar::UseReleaseMutexChecks();
  return emar::Main(argc, argv);
}
