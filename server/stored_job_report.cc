#include "server/stored_job_report.h"

#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "eval/input/reference_table.h"
#include "eval/job/field_names.h"
#include "server/report_builder.h"
#include "server/result_assembler.h"

namespace emar {

absl::StatusOr<emar::v1::Report> BuildStoredJobReport(const std::string& job_id, JobStore& store,
                                                      BlobStore& blobs) {
  ASSIGN_OR_RETURN(emar::v1::CreateJobRequest request, store.GetRequest(job_id));
  ASSIGN_OR_RETURN(std::vector<StoredShard> shards, store.GetShards(job_id));
  ASSIGN_OR_RETURN(auto results, store.GetShardResults(job_id));
  const emar::v1::JobSpec& spec = request.spec();
  // Row counts come from the plan; the references are parsed again only if an error message
  // has to name an id.
  size_t rows[3] = {0, 0, 0};
  std::string ref_sha[3];
  for (const StoredShard& s : shards) {
    const int role = static_cast<int>(s.task.role());
    if (role < 1 || role > 2)
      return absl::InternalError(absl::StrCat("shard ", s.task.shard_id(), " has no role"));
    rows[role] = static_cast<size_t>(s.task.reference_rows());
    ref_sha[role] = s.task.references().sha256();
  }
  std::map<int, ReferenceTable> parsed;
  ReferenceLookup lookup = [&](emar::v1::DatasetRole role,
                               size_t row) -> absl::StatusOr<std::pair<std::string, uint64_t>> {
    auto it = parsed.find(role);
    if (it == parsed.end()) {
      const emar::v1::DatasetSpec& d =
          role == emar::v1::DATASET_ROLE_TARGET ? spec.target() : spec.benchmark();
      ASSIGN_OR_RETURN(std::string data, blobs.Read(ref_sha[role], 0, -1));
      ASSIGN_OR_RETURN(ReferenceTable table,
                       ReferenceTable::Parse(d.references(), data, ToFieldConfig(d.fields())));
      it = parsed.emplace(role, std::move(table)).first;
    }
    if (row >= it->second.size()) return absl::OutOfRangeError("reference row out of range");
    return std::make_pair(it->second.id(row), it->second.line(row));
  };
  ResultAssembler assembler(spec, rows[emar::v1::DATASET_ROLE_TARGET],
                            rows[emar::v1::DATASET_ROLE_BENCHMARK], lookup);
  size_t next = 0;
  for (const auto& [shard_id, result] : results) {
    while (next < shards.size() && shards[next].task.shard_id() != shard_id) ++next;
    if (next == shards.size())
      return absl::InternalError(absl::StrCat("result for unknown shard ", shard_id));
    RETURN_IF_ERROR(assembler.Add(shards[next].task, result));
  }
  ASSIGN_OR_RETURN(AssembledResults assembled, std::move(assembler).Finish());
  std::vector<emar::v1::InputFile> inputs = DescribeInputs(request);
  for (emar::v1::InputFile& f : inputs) {
    auto size = blobs.Size(f.sha256());
    if (size.ok()) f.set_size_bytes(*size);
  }
  return BuildReport(job_id, request, assembled, std::move(inputs));
}

}  // namespace emar
