#include "server/stored_job_report.h"

#include <deque>
#include <map>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"
#include "eval/input/reference_table.h"
#include "eval/job/field_names.h"
#include "eval/job/output_ids.h"
#include "eval/job/suite.h"
#include "server/report_builder.h"
#include "server/result_assembler.h"

namespace emar {
namespace {

// Shard results handed from the reader to the assembling thread. Unbounded: the reader holds
// the job store's lock, and must not wait for the assembly.
class ResultQueue {
 public:
  // CANCELLED once the consumer has given up (its error is the one to report).
  absl::Status Push(std::pair<int32_t, emar::v1::ShardResult> item) {
    absl::MutexLock lock(&mu_);
    if (abandoned_) return absl::CancelledError("assembly stopped");
    items_.push_back(std::move(item));
    return absl::OkStatus();
  }
  void Close() {
    absl::MutexLock lock(&mu_);
    closed_ = true;
  }
  void Abandon() {
    absl::MutexLock lock(&mu_);
    abandoned_ = true;
    items_.clear();
  }
  // False once closed and empty.
  bool Pop(std::pair<int32_t, emar::v1::ShardResult>* item) {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](ResultQueue* q)
             ABSL_EXCLUSIVE_LOCKS_REQUIRED(q->mu_) { return q->closed_ || !q->items_.empty(); },
        this));
    if (items_.empty()) return false;
    *item = std::move(items_.front());
    items_.pop_front();
    return true;
  }

 private:
  absl::Mutex mu_;
  std::deque<std::pair<int32_t, emar::v1::ShardResult>> items_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool abandoned_ ABSL_GUARDED_BY(mu_) = false;
};

// What the plan says of each dataset (suite order): its references' row count and blob, and
// a shard task reading them (how its ids are read).
struct PlannedDatasets {
  std::vector<SuiteDataset> datasets;
  std::vector<size_t> rows;
  std::vector<std::string> ref_sha;
  std::vector<const emar::v1::ShardTask*> ref_task;
};

absl::StatusOr<PlannedDatasets> PlanOf(const emar::v1::JobSpec& spec,
                                       const std::vector<StoredShard>& shards) {
  PlannedDatasets plan;
  plan.datasets = SuiteDatasets(spec);
  const std::vector<SuiteDataset>& datasets = plan.datasets;
  plan.rows.assign(datasets.size(), 0);
  plan.ref_sha.resize(datasets.size());
  plan.ref_task.assign(datasets.size(), nullptr);
  for (const StoredShard& s : shards) {
    // Shards stored before suites name no dataset: their role is the dataset.
    int k = -1;
    for (const SuiteDataset& d : datasets) {
      if (s.task.dataset().empty() ? d.role == s.task.role() : d.spec->name() == s.task.dataset())
        k = d.index;
    }
    if (k < 0) {
      return absl::InternalError(absl::StrCat("shard ", s.task.shard_id(), " names dataset '",
                                              s.task.dataset(), "', not one of the job's"));
    }
    plan.rows[k] = static_cast<size_t>(s.task.reference_rows());
    plan.ref_sha[k] = s.task.references().sha256();
    plan.ref_task[k] = &s.task;
  }
  return plan;
}

// Names reference rows for error messages, parsing a dataset's references (into `parsed`) the
// first time one of its rows is asked for.
ReferenceLookup LookupOf(const PlannedDatasets& plan, BlobStore& blobs,
                         std::map<int, ReferenceTable>& parsed) {
  return [&plan, &blobs, &parsed](int k,
                                  size_t row) -> absl::StatusOr<std::pair<std::string, uint64_t>> {
    auto it = parsed.find(k);
    if (it == parsed.end()) {
      const emar::v1::DatasetSpec& d = *plan.datasets[static_cast<size_t>(k)].spec;
      ASSIGN_OR_RETURN(std::string data, blobs.Read(plan.ref_sha[k], 0, -1));
      const emar::v1::ShardTask* task = plan.ref_task[static_cast<size_t>(k)];
      ASSIGN_OR_RETURN(
          ReferenceTable table,
          task != nullptr && task->ids_from_outputs()
              ? IdsOfOutputs(task->references().display_name(), data, d.fields(),
                             task->metrics_size() > 0 ? task->metrics(0) : emar::v1::MetricSpec())
              : ReferenceTable::Parse(d.references(), data, ToFieldConfig(d.fields())));
      it = parsed.emplace(k, std::move(table)).first;
    }
    if (row >= it->second.size()) return absl::OutOfRangeError("reference row out of range");
    return std::make_pair(std::string(it->second.id(row)), it->second.line(row));
  };
}

// Adds every stored result of the job to `assembler`. Results are read (and parsed) on this
// thread while another adds them to the assembly: the two halves of a finalization take about
// as long each, and would otherwise run one after the other on one core.
absl::Status AddStoredResults(const std::string& job_id, JobStore& store,
                              const std::vector<StoredShard>& shards, ResultAssembler& assembler) {
  ResultQueue queue;
  absl::Status added;
  std::thread adder([&] {
    size_t next = 0;
    std::pair<int32_t, emar::v1::ShardResult> item;
    while (queue.Pop(&item)) {
      const int32_t shard_id = item.first;
      while (next < shards.size() && shards[next].task.shard_id() != shard_id) ++next;
      added = next == shards.size()
                  ? absl::InternalError(absl::StrCat("result for unknown shard ", shard_id))
                  : assembler.Add(shards[next].task, item.second);
      if (!added.ok()) {
        queue.Abandon();
        return;
      }
    }
  });
  const absl::Status read =
      store.ForEachShardResult(job_id, [&](int32_t shard_id, emar::v1::ShardResult result) {
        return queue.Push({shard_id, std::move(result)});
      });
  queue.Close();
  adder.join();
  return added.ok() ? read : added;
}

// Each row's slice, for the datasets with `fields.slice_field`.
absl::Status ReadSliceColumns(const PlannedDatasets& plan, BlobStore& blobs,
                              AssembledResults& assembled) {
  for (const SuiteDataset& d : plan.datasets) {
    const std::string& field = d.spec->fields().slice_field();
    if (field.empty()) continue;
    ASSIGN_OR_RETURN(std::string data, blobs.Read(plan.ref_sha[d.index], 0, -1));
    ASSIGN_OR_RETURN(SliceColumn column, ReadSlices(d.spec->references(), data, field));
    if (column.of_row.size() != plan.rows[d.index]) {
      return absl::InternalError(absl::StrCat(d.spec->references(), ": ", column.of_row.size(),
                                              " slice values for ", plan.rows[d.index], " rows"));
    }
    assembled.slices.emplace(d.index, std::move(column));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<StoredJobResults> AssembleStoredJob(const std::string& job_id, JobStore& store,
                                                   BlobStore& blobs) {
  StoredJobResults out;
  ASSIGN_OR_RETURN(emar::v1::CreateJobRequest stored, store.GetRequest(job_id));
  out.request = std::make_unique<emar::v1::CreateJobRequest>(std::move(stored));
  ASSIGN_OR_RETURN(out.shards, store.GetShards(job_id));
  const emar::v1::JobSpec& spec = out.request->spec();
  // Row counts come from the plan; the references are parsed again only if an error message
  // has to name an id.
  ASSIGN_OR_RETURN(const PlannedDatasets plan, PlanOf(spec, out.shards));
  std::map<int, ReferenceTable> parsed;
  ResultAssembler assembler(spec, plan.rows, LookupOf(plan, blobs, parsed));
  RETURN_IF_ERROR(AddStoredResults(job_id, store, out.shards, assembler));
  ASSIGN_OR_RETURN(out.assembled, std::move(assembler).Finish());
  RETURN_IF_ERROR(ReadSliceColumns(plan, blobs, out.assembled));
  return out;
}

absl::StatusOr<emar::v1::Report> BuildStoredJobReport(const std::string& job_id, JobStore& store,
                                                      BlobStore& blobs) {
  ASSIGN_OR_RETURN(StoredJobResults stored, AssembleStoredJob(job_id, store, blobs));
  std::vector<emar::v1::InputFile> inputs = DescribeInputs(*stored.request);
  for (emar::v1::InputFile& f : inputs) {
    auto size = blobs.Size(f.sha256());
    if (size.ok()) f.set_size_bytes(*size);
  }
  return BuildReport(job_id, *stored.request, stored.assembled, std::move(inputs));
}

}  // namespace emar
