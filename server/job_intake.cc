#include "server/job_intake.h"

#include <algorithm>
#include <random>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/content_keys.h"

namespace emar {

absl::Status CheckLabels(const google::protobuf::Map<std::string, std::string>& labels) {
  constexpr int kMaxLabels = 32;
  if (labels.size() > kMaxLabels) {
    return absl::InvalidArgumentError(
        absl::StrCat("spec.labels: ", labels.size(), " labels, at most ", kMaxLabels, " allowed"));
  }
  for (const auto& [key, value] : labels) {
    const bool key_ok =
        !key.empty() && key.size() <= 63 && std::all_of(key.begin(), key.end(), [](char c) {
          return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
                 c == '-' || c == '/';
        });
    if (!key_ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("spec.labels: key '", absl::CHexEscape(key.substr(0, 80)),
                       "' must be 1-63 characters of letters, digits, '.', '_', '-' and '/'"));
    }
    if (value.size() > 256 || std::any_of(value.begin(), value.end(), [](char c) {
          return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
        })) {
      return absl::InvalidArgumentError(
          absl::StrCat("spec.labels: the value of '", key,
                       "' must be at most 256 characters without control characters"));
    }
  }
  return absl::OkStatus();
}

std::string NewJobId() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  return absl::StrFormat("job-%016x", gen());
}

emar::v1::Job NewQueuedJob(JobPlan* plan, const emar::v1::CreateJobRequest& request,
                           const Principal& who, absl::Time now, CacheScope cache) {
  emar::v1::Job job;
  job.set_owner(who.name);
  job.set_job_id(NewJobId());
  job.set_name(plan->request.spec().name());
  job.set_state(emar::v1::JOB_STATE_QUEUED);
  job.set_request_id(request.request_id());
  *job.mutable_labels() = request.spec().labels();
  const int64_t now_ms = absl::ToUnixMillis(now);
  job.set_created_unix_ms(now_ms);
  job.set_updated_unix_ms(now_ms);
  job.mutable_progress()->set_shards_total(static_cast<int32_t>(plan->shards.size()));
  for (StoredShard& s : plan->shards) {
    s.task.set_job_id(job.job_id());
    s.task.set_rows(s.rows);
    if (cache.enabled) s.cache_key = ScoreCacheKey(s.task, cache.shared ? "" : who.name);
  }
  return job;
}

IntakeShards SplitReused(JobPlan* plan, const std::vector<int32_t>& reused, emar::v1::Job* job) {
  const absl::flat_hash_set<int32_t> from_cache(reused.begin(), reused.end());
  IntakeShards out;
  out.total = static_cast<int>(plan->shards.size());
  out.reused = static_cast<int>(from_cache.size());
  for (StoredShard& s : plan->shards) {
    if (from_cache.contains(s.task.shard_id())) {
      out.examples_reused += s.rows;
    } else {
      out.to_score.push_back(std::move(s.task));
    }
  }
  emar::v1::JobProgress* progress = job->mutable_progress();
  progress->set_shards_done(out.reused);
  progress->set_shards_reused(out.reused);
  progress->set_examples_reused(out.examples_reused);
  return out;
}

}  // namespace emar
