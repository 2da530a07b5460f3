#include "embedded/embedded_coordinator.h"

#include <ftw.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/job_planner.h"

namespace emar {
namespace {

int RemoveEntry(const char* path, const struct stat*, int, struct FTW*) { return ::remove(path); }

void RemoveTree(const std::string& dir) {
  ::nftw(dir.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
}

}  // namespace

absl::StatusOr<std::unique_ptr<EmbeddedCoordinator>> EmbeddedCoordinator::Start(
    const EmbeddedOptions& options) {
  std::unique_ptr<EmbeddedCoordinator> e(new EmbeddedCoordinator());
  CoordinatorOptions copts;
  copts.data_dir = options.data_dir;
  if (copts.data_dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = absl::StrCat(tmp && *tmp ? tmp : "/tmp", "/emar-embedded-XXXXXX");
    if (::mkdtemp(templ.data()) == nullptr)
      return absl::InternalError(absl::StrCat(templ, ": cannot create"));
    e->temp_dir_ = templ;
    copts.data_dir = templ;
    copts.durable_blobs = false;  // deleted at exit: durability buys nothing
  }
  copts.rows_per_shard = options.rows_per_shard;
  copts.trim_after_report = !options.one_job;
  copts.input_fetch = options.input_fetch;
  // The planner checks every references file when the job is created; its tables go straight to
  // the worker threads, which would otherwise fetch and parse the same files again. (workers_ is
  // set before Start returns, so before any job can be created.)
  copts.parsed_references = [e = e.get()](const std::string& sha256,
                                          const emar::v1::FieldNames& fields,
                                          std::shared_ptr<const ReferenceTable> table) {
    e->workers_->AddReferences(sha256, fields, std::move(table));
  };
  // Once a job's shards are all scored its tables are not needed: the report is built without them.
  // They are freed on a thread of their own, beside the report's assembly, not before it.
  copts.before_finalize = [e = e.get()] { e->FreeLater(e->workers_->DropReferences()); };
  ASSIGN_OR_RETURN(e->coordinator_, Coordinator::Create(copts));
  ASSIGN_OR_RETURN(e->server_, CoordinatorServer::Start(e->coordinator_.get(), ServerOptions{}));
  e->channel_ = e->server_->InProcessChannel();
  WorkerOptions wopts;
  wopts.worker_id = "embedded";
  wopts.threads = options.worker_threads;
  // Shards of one references file are leased one after another (ShardScheduler::AddJob), so the
  // threads need at most two tables at once: the planner hands over the first datasets' tables
  // (kParsedReferencesTables), and a suite's others are parsed from the blob store when their
  // shards come (once each).
  wopts.reference_cache_entries = kParsedReferencesTables;
  // The threads are the only workers: one shard held ahead by each costs no one else a shard.
  wopts.lease_ahead = true;
  // The blob store is in this process: shards read their bytes from it, not through ReadBlob.
  wopts.read_blob = [c = e->coordinator_.get()](const emar::v1::BlobRange& range) {
    return c->blobs().Read(range.sha256(), range.offset(), range.length());
  };
  e->workers_ = std::make_unique<WorkerLoop>(e->channel_, wopts);
  e->worker_thread_ = std::thread([w = e->workers_.get()] { w->Run(); });
  return e;
}

absl::StatusOr<std::string> EmbeddedCoordinator::ImportFile(const std::string& path) {
  return coordinator_->blobs().ImportFile(path);
}

void EmbeddedCoordinator::FreeLater(std::shared_ptr<void> garbage) {
  absl::MutexLock lock(&reaper_mu_);
  if (reaper_.joinable()) reaper_.join();  // the last job's, long done
  reaper_ = std::thread([garbage = std::move(garbage)]() mutable { garbage.reset(); });
}

EmbeddedCoordinator::~EmbeddedCoordinator() {
  // Workers first, while the server still answers: a call on an in-process channel whose
  // server has shut down is not safe in gRPC 1.51. Stop() cancels their long-polls; a shard in
  // hand is finished and completed.
  if (workers_) workers_->Stop();
  if (worker_thread_.joinable()) worker_thread_.join();
  if (server_) server_->Shutdown(absl::Seconds(5));
  server_.reset();
  coordinator_.reset();
  {
    absl::MutexLock lock(&reaper_mu_);
    if (reaper_.joinable()) reaper_.join();
  }
  if (!temp_dir_.empty()) RemoveTree(temp_dir_);
}

}  // namespace emar
