#include "bench/load/load_cluster.h"

#include <signal.h>
#include <sys/stat.h>

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace emar::load {

using emar::testing::ExitStatus;
using emar::testing::PollUntil;
using emar::testing::Process;

LoadCluster::LoadCluster(LoadClusterOptions options, const std::string& dir)
    : options_(std::move(options)),
      log_dir_(absl::StrCat(dir, "/logs")),
      data_dir_(absl::StrCat(dir, "/data")) {}

absl::StatusOr<std::unique_ptr<LoadCluster>> LoadCluster::Start(const LoadClusterOptions& options,
                                                                const std::string& dir) {
  std::unique_ptr<LoadCluster> cluster(new LoadCluster(options, dir));
  if (::mkdir(cluster->log_dir_.c_str(), 0755) != 0) {
    return absl::InternalError(absl::StrCat("mkdir ", cluster->log_dir_));
  }
  if (absl::Status s = cluster->StartCoordinator(); !s.ok()) return s;
  for (int i = 0; i < options.workers; ++i) {
    if (absl::Status s = cluster->StartWorker(); !s.ok()) return s;
  }
  return cluster;
}

absl::Status LoadCluster::StartCoordinator() {
  const std::string port_file = absl::StrCat(log_dir_, "/coordinator.port");
  auto p = Process::Start({absl::StrCat(options_.bin_dir, "/emar-coordinator"), "--listen",
                           "127.0.0.1:0", "--data_dir", data_dir_, "--port_file", port_file,
                           "--rows_per_shard", absl::StrCat(options_.rows_per_shard),
                           "--lease_ttl_seconds", absl::StrCat(options_.lease_ttl_seconds),
                           "--max_attempts", absl::StrCat(options_.max_attempts)},
                          log_dir_);
  if (!p.ok()) return p.status();
  coordinator_ = std::move(*p);
  int port = 0;
  const bool up = PollUntil(
      [&] {
        auto text = emar::testing::ReadFile(port_file);
        if (text.ok() && absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &port) && port > 0) {
          return true;
        }
        return !coordinator_->running();
      },
      absl::Seconds(30));
  if (!up || port <= 0) {
    return absl::UnavailableError(
        absl::StrCat("emar-coordinator did not come up: ", CoordinatorLogTail()));
  }
  server_ = absl::StrCat("127.0.0.1:", port);
  return absl::OkStatus();
}

absl::Status LoadCluster::StartWorker() {
  // A short long-poll so that SIGTERM at the end is answered quickly.
  auto p =
      Process::Start({absl::StrCat(options_.bin_dir, "/emar-worker"), "--coordinator", server_,
                      "--threads", absl::StrCat(options_.worker_threads), "--worker_id",
                      absl::StrCat("load-worker-", workers_started_), "--lease_wait_seconds", "2"},
                     log_dir_);
  if (!p.ok()) return p.status();
  workers_.push_back(std::move(*p));
  ++workers_started_;
  return absl::OkStatus();
}

absl::Status LoadCluster::KillWorker(size_t index) {
  if (index >= workers_.size()) return absl::OutOfRangeError("no such worker");
  std::unique_ptr<Process> victim = std::move(workers_[index]);
  workers_.erase(workers_.begin() + static_cast<long>(index));
  absl::Status sent = victim->Signal(SIGKILL);
  auto exit = victim->Wait(absl::Seconds(10));
  const pid_t pid = victim->pid();
  ended_workers_.push_back(std::move(victim));
  if (!sent.ok()) return sent;  // it had ended on its own
  if (!exit.ok()) return exit.status();
  if (exit->signal != SIGKILL) {
    return absl::InternalError(absl::StrCat("worker ", pid, " ended with ", exit->ToString(),
                                            " before SIGKILL reached it"));
  }
  return absl::OkStatus();
}

std::vector<std::string> LoadCluster::ReapUnexpectedWorkerExits() {
  std::vector<std::string> out;
  for (size_t i = 0; i < workers_.size();) {
    if (workers_[i]->running()) {
      ++i;
      continue;
    }
    auto exit = workers_[i]->Wait(absl::ZeroDuration());
    out.push_back(absl::StrCat("worker pid ", workers_[i]->pid(), " ended on its own: ",
                               exit.ok() ? exit->ToString() : std::string(exit.status().message()),
                               " (stderr: ", workers_[i]->stderr_path(), ")"));
    ended_workers_.push_back(std::move(workers_[i]));
    workers_.erase(workers_.begin() + static_cast<long>(i));
  }
  return out;
}

void LoadCluster::KillCoordinator() {
  if (coordinator_->running()) {
    coordinator_->Signal(SIGKILL).IgnoreError();
    coordinator_->Wait(absl::Seconds(10)).IgnoreError();
  }
}

ShutdownReport LoadCluster::Shutdown(absl::Duration grace) {
  ShutdownReport report;
  std::vector<Process*> all;
  for (auto& w : workers_) all.push_back(w.get());
  all.push_back(coordinator_.get());
  for (Process* p : all) {
    if (p->running()) p->Signal(SIGTERM).IgnoreError();
  }
  PollUntil(
      [&] {
        for (Process* p : all) {
          if (p->running()) return false;
        }
        return true;
      },
      grace, absl::Milliseconds(10));
  for (Process* p : all) {
    const bool late = p->running();
    if (late) p->Signal(SIGKILL).IgnoreError();
    auto exit = p->Wait(absl::Seconds(10));
    const ExitStatus status = exit.ok() ? *exit : ExitStatus{};
    if (p == coordinator_.get()) {
      report.coordinator = status;
      report.coordinator_needed_sigkill = late;
    } else if (late) {
      ++report.workers_sigkilled;
    } else if (status.Exited(0)) {
      ++report.workers_stopped;
    } else {
      report.worker_problems.push_back(
          absl::StrCat("worker pid ", p->pid(), ": ", status.ToString()));
    }
  }
  return report;
}

std::string LoadCluster::CoordinatorLogTail(size_t max_bytes) const {
  if (!coordinator_) return "";
  const std::string err = coordinator_->ReadStderr();
  return err.size() <= max_bytes ? err : "..." + err.substr(err.size() - max_bytes);
}

}  // namespace emar::load
