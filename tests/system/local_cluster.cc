#include "tests/system/local_cluster.h"

#include <signal.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tests/system/report_json.h"

namespace emar::testing {

std::string BinPath(const std::string& name) { return absl::StrCat(EMAR_BIN_DIR, "/", name); }

CommandResult RunEmarctl(const std::vector<std::string>& args, absl::Duration timeout) {
  std::vector<std::string> argv = {BinPath("emarctl")};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, timeout);
}

absl::StatusOr<emar::v1::Report> EmbeddedRunReport(const std::string& job_file,
                                                   absl::Duration timeout) {
  CommandResult r = RunEmarctl({"run", job_file, "--format", "json"}, timeout);
  if (!r.exit.Exited(0)) {
    return absl::InternalError(
        absl::StrCat("emarctl run ", job_file, ": ", r.exit.ToString(), ": ", r.err));
  }
  return ParseReportJson(r.out);
}

absl::StatusOr<std::unique_ptr<LocalCluster>> LocalCluster::Start(const ClusterOptions& options) {
  auto dir = TempDir::Create("cluster");
  if (!dir.ok()) return dir.status();
  std::unique_ptr<LocalCluster> cluster(new LocalCluster(std::move(*dir), options));
  cluster->data_dir_ = options.data_dir.empty() ? cluster->dir_.Join("data") : options.data_dir;
  if (absl::Status s = cluster->StartCoordinator("127.0.0.1:0"); !s.ok()) return s;
  for (int i = 0; i < options.workers; ++i) {
    if (absl::Status s = cluster->AddWorker(); !s.ok()) return s;
  }
  return cluster;
}

absl::Status LocalCluster::StartCoordinator(const std::string& listen) {
  // Flags are spelled with underscores: see emar-coordinator's flag test for the dashed spelling.
  const std::string port_file = dir_.Join(absl::StrCat("port.", coordinator_starts_++));
  std::vector<std::string> argv = {BinPath("emar-coordinator"),
                                   "--listen",
                                   listen,
                                   "--data_dir",
                                   data_dir_,
                                   "--port_file",
                                   port_file};
  if (options_.rows_per_shard > 0) {
    argv.insert(argv.end(), {"--rows_per_shard", absl::StrCat(options_.rows_per_shard)});
  }
  if (options_.lease_ttl_seconds > 0) {
    argv.insert(argv.end(), {"--lease_ttl_seconds", absl::StrCat(options_.lease_ttl_seconds)});
  }
  argv.insert(argv.end(), options_.coordinator_flags.begin(), options_.coordinator_flags.end());
  auto p = Process::Start(argv, dir_.path());
  if (!p.ok()) return p.status();
  if (coordinator_) old_coordinators_.push_back(std::move(coordinator_));
  coordinator_ = std::move(*p);
  int port = 0;
  const bool up = PollUntil(
      [&] {
        auto text = ReadFile(port_file);
        if (text.ok() && absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &port) && port > 0)
          return true;
        return !coordinator_->running();
      },
      absl::Seconds(30));
  if (!up || port <= 0) {
    return absl::UnavailableError(absl::StrCat("emar-coordinator did not come up: ", Logs()));
  }
  server_ = absl::StrCat("127.0.0.1:", port);
  // The banner is printed before the port file is written.
  const std::string banner = absl::StrCat("listening on ", server_);
  if (!absl::StrContains(coordinator_->ReadStdout(), banner)) {
    return absl::InternalError(
        absl::StrCat("emar-coordinator did not print '", banner, "': ", Logs()));
  }
  return absl::OkStatus();
}

absl::Status LocalCluster::AddWorker() {
  std::vector<std::string> argv = {BinPath("emar-worker"), "--coordinator", server_, "--threads",
                                   absl::StrCat(options_.worker_threads)};
  argv.insert(argv.end(), options_.worker_flags.begin(), options_.worker_flags.end());
  auto p = Process::Start(argv, dir_.path());
  if (!p.ok()) return p.status();
  workers_.push_back(std::move(*p));
  return absl::OkStatus();
}

CommandResult LocalCluster::Emarctl(std::vector<std::string> args, absl::Duration timeout) {
  args.insert(args.end(), {"--server", server_});
  return RunEmarctl(args, timeout);
}

absl::Status LocalCluster::StopCoordinator(absl::Duration timeout) {
  if (absl::Status s = coordinator_->Signal(SIGTERM); !s.ok()) return s;
  auto exit = coordinator_->Wait(timeout);
  if (!exit.ok()) return exit.status();
  if (!exit->Exited(0)) {
    return absl::InternalError(
        absl::StrCat("emar-coordinator ended with ", exit->ToString(), ": ", Logs()));
  }
  return absl::OkStatus();
}

absl::Status LocalCluster::RestartCoordinator(bool same_address) {
  if (coordinator_->running()) return absl::FailedPreconditionError("the coordinator still runs");
  return StartCoordinator(same_address ? server_ : "127.0.0.1:0");
}

std::string LocalCluster::Logs() const {
  std::string out;
  auto add = [&](const char* what, const Process& p) {
    absl::StrAppend(&out, "\n--- ", what, " ", p.pid(), " stdout:\n", p.ReadStdout(),
                    "--- stderr:\n", p.ReadStderr());
  };
  for (const auto& p : old_coordinators_) add("earlier emar-coordinator", *p);
  if (coordinator_) add("emar-coordinator", *coordinator_);
  for (const auto& p : workers_) add("emar-worker", *p);
  return out;
}

}  // namespace emar::testing
