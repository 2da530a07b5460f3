// emarctl status, watch, cancel, report and delete: one job of a coordinator, named by its id.
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "client/commands/cli.h"
#include "client/commands/commands.h"
#include "client/report_format.h"

namespace emar {
namespace {

// Connects and runs `body` on the session, after checking for exactly one job id.
template <typename Body>
int WithJobId(const char* command, const std::vector<std::string>& args, Body body) {
  if (args.size() != 1) return Usage(std::string(command) + " takes one job id");
  auto session = Connect();
  if (!session.ok()) return Fail(session.status());
  return body(*session, args[0]);
}

int PrintJob(const Session& session, const absl::StatusOr<emar::v1::Job>& job) {
  if (!job.ok()) return FailCall(session, job.status());
  std::cout << (Json() ? JobToJson(*job) : JobToText(*job) + "\n");
  return 0;
}

}  // namespace

int StatusCommand(const std::vector<std::string>& args) {
  return WithJobId("status", args, [](Session& session, const std::string& id) {
    return PrintJob(session, session.client.GetJob(id));
  });
}

int CancelCommand(const std::vector<std::string>& args) {
  return WithJobId("cancel", args, [](Session& session, const std::string& id) {
    return PrintJob(session, session.client.CancelJob(id));
  });
}

int ReportCommand(const std::vector<std::string>& args) {
  return WithJobId("report", args, [](Session& session, const std::string& id) {
    auto report = session.client.GetReport(id);
    if (!report.ok()) return FailCall(session, report.status());
    // A document (markdown, html) is what was asked for: its gates are on the page. The other
    // forms keep exit 3 for a failed gate, as run and submit --wait.
    const int code = PrintReport(session, *std::move(report));
    return Format() == "html" || Format() == "markdown" ? 0 : code;
  });
}

int DeleteCommand(const std::vector<std::string>& args) {
  return WithJobId("delete", args, [](Session& session, const std::string& id) {
    auto deleted = session.client.DeleteJob(id);
    if (!deleted.ok()) return FailCall(session, deleted.status());
    if (Json()) {
      std::cout << MessageToJson(*deleted);
    } else {
      std::cout << "deleted " << deleted->job_id() << ": " << deleted->blobs_removed()
                << " input blob(s) no other job reads removed, " << deleted->bytes_freed()
                << " bytes freed\n";
    }
    return 0;
  });
}

// Text on a terminal: the live line is the output, then the final state. Otherwise one record
// per change on stdout (for a log or a program) and the progress on stderr.
int WatchCommand(const std::vector<std::string>& args) {
  return WithJobId("watch", args, [](Session& session, const std::string& id) {
    const bool live_only = !Json() && ::isatty(1);
    std::unique_ptr<ProgressDisplay> progress = MakeProgress();
    auto done = session.client.Watch(
        id,
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
  });
}

}  // namespace emar
