#include "server/job_board.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace emar {
namespace {

void RunAll(std::vector<std::function<void()>>& calls) {
  for (auto& f : calls) f();
  calls.clear();
}

}  // namespace

void JobBoard::Add(const emar::v1::Job& job) {
  absl::MutexLock lock(&mu_);
  active_[job.job_id()] = job;
}

std::optional<emar::v1::Job> JobBoard::Find(const std::string& job_id) const {
  absl::MutexLock lock(&mu_);
  if (auto it = active_.find(job_id); it != active_.end()) return it->second;
  if (auto it = finishing_.find(job_id); it != finishing_.end()) return it->second;
  return std::nullopt;
}

void JobBoard::Refresh(std::vector<emar::v1::Job>* jobs) const {
  absl::MutexLock lock(&mu_);
  for (emar::v1::Job& j : *jobs) {
    if (auto it = active_.find(j.job_id()); it != active_.end()) j = it->second;
    if (auto it = finishing_.find(j.job_id()); it != finishing_.end()) j = it->second;
  }
}

int JobBoard::UnfinishedOf(const std::string& owner) const {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (const auto& [id, j] : active_) n += j.owner() == owner;
  return n;
}

bool JobBoard::ReserveJobSlot(const std::string& owner, int cap, int* held) {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (const auto& [id, j] : active_) n += j.owner() == owner;
  auto it = reserved_.find(owner);
  if (it != reserved_.end()) n += it->second;
  *held = n;
  if (n >= cap) return false;
  ++reserved_[owner];
  return true;
}

void JobBoard::ReleaseJobSlot(const std::string& owner) {
  absl::MutexLock lock(&mu_);
  auto it = reserved_.find(owner);
  if (it != reserved_.end() && --it->second <= 0) reserved_.erase(it);
}

void JobBoard::CountUnfinished(int64_t* jobs) const {
  absl::MutexLock lock(&mu_);
  for (const auto& [id, j] : active_) ++jobs[j.state()];
}

void JobBoard::NotifyLocked(const emar::v1::Job& job, Calls* out) {
  for (auto& [h, w] : watchers_) {
    if (w.job_id == job.job_id()) out->push_back([cb = w.cb, job] { cb(job); });
  }
}

std::optional<emar::v1::Job> JobBoard::MarkRunning(const std::string& job_id, absl::Time now) {
  Calls calls;
  std::optional<emar::v1::Job> changed;
  {
    absl::MutexLock lock(&mu_);
    auto it = active_.find(job_id);
    if (it == active_.end() || it->second.state() != emar::v1::JOB_STATE_QUEUED) return changed;
    it->second.set_state(emar::v1::JOB_STATE_RUNNING);
    it->second.set_updated_unix_ms(absl::ToUnixMillis(now));
    changed = it->second;
    NotifyLocked(it->second, &calls);
  }
  RunAll(calls);
  return changed;
}

bool JobBoard::ShardDone(const std::string& job_id, int32_t done, int64_t rows, absl::Time now) {
  Calls calls;
  {
    absl::MutexLock lock(&mu_);
    auto it = active_.find(job_id);
    if (it == active_.end()) return false;
    emar::v1::JobProgress* p = it->second.mutable_progress();
    // Results of one job are stored concurrently: the larger count is the newer one.
    p->set_shards_done(std::max(p->shards_done(), done));
    p->set_examples_scored(p->examples_scored() + rows);
    it->second.set_updated_unix_ms(absl::ToUnixMillis(now));
    NotifyLocked(it->second, &calls);
  }
  RunAll(calls);
  return true;
}

std::optional<emar::v1::Job> JobBoard::BeginFinish(const std::string& job_id,
                                                   emar::v1::JobState state,
                                                   const std::string& error, absl::Time now) {
  absl::MutexLock lock(&mu_);
  auto it = active_.find(job_id);
  if (it == active_.end()) return std::nullopt;  // already terminal, or being finished
  emar::v1::Job job = std::move(it->second);
  active_.erase(it);
  job.set_state(state);
  job.set_error(error);
  job.set_updated_unix_ms(absl::ToUnixMillis(now));
  finishing_[job_id] = job;
  return job;
}

void JobBoard::EndFinish(const emar::v1::Job& job) {
  Calls calls;
  {
    absl::MutexLock lock(&mu_);
    finishing_.erase(job.job_id());
    for (auto w = watchers_.begin(); w != watchers_.end();) {
      if (w->second.job_id == job.job_id()) {
        calls.push_back([cb = std::move(w->second.cb), job] { cb(job); });
        watchers_.erase(w++);
      } else {
        ++w;
      }
    }
  }
  RunAll(calls);
}

absl::StatusOr<JobBoard::WatchStart> JobBoard::Watch(const std::string& job_id, WatchCallback cb,
                                                     std::function<void()> on_shutdown,
                                                     const Principal& who) {
  absl::MutexLock lock(&mu_);
  WatchStart start;
  if (auto it = active_.find(job_id); it != active_.end()) {
    if (!who.Sees(it->second.owner())) {
      return absl::NotFoundError(absl::StrCat("job '", job_id, "' not found"));
    }
    if (shutdown_) return absl::UnavailableError("the coordinator is shutting down");
    start.snapshot = it->second;
    start.handle = next_handle_++;
    watchers_[*start.handle] = Watcher{job_id, std::move(cb), std::move(on_shutdown)};
  } else if (auto f = finishing_.find(job_id); f != finishing_.end()) {
    start.snapshot = f->second;  // terminal: all there will be
  }
  return start;
}

void JobBoard::Unwatch(uint64_t handle) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(handle);
}

void JobBoard::Shutdown() {
  Calls calls;
  {
    absl::MutexLock lock(&mu_);
    shutdown_ = true;
    for (auto& [h, w] : watchers_) {
      if (w.on_shutdown) calls.push_back(std::move(w.on_shutdown));
    }
    watchers_.clear();
  }
  RunAll(calls);
}

}  // namespace emar
