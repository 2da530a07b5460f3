#include "client/local_scorer.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "eval/input/decompress.h"
#include "eval/input/reference_table.h"
#include "eval/job/field_names.h"
#include "eval/job/shard_scorer.h"
#include "eval/metrics/metric_registry.h"

namespace emar {
namespace {

// An input file's bytes: a read-only mapping of an uncompressed file (no copy, no zero-filled
// buffer to fault in), otherwise the decompressed contents in memory.
class InputBytes {
 public:
  absl::Status Load(const std::string& path) {
    ASSIGN_OR_RETURN(mapped_, FileBytes::Open(path));
    if (DetectCompression(mapped_.bytes()) == Compression::kNone) return absl::OkStatus();
    ASSIGN_OR_RETURN(expanded_, DecompressIfCompressed(path, std::string(mapped_.bytes())));
    mapped_ = FileBytes();
    return absl::OkStatus();
  }

  absl::string_view bytes() const { return expanded_.empty() ? mapped_.bytes() : expanded_; }

 private:
  FileBytes mapped_;
  std::string expanded_;
};

}  // namespace

absl::StatusOr<LocalScore> ScoreFiles(const std::string& metric_name,
                                      const std::string& predictions_path,
                                      const std::string& references_path,
                                      const emar::v1::FieldNames& fields) {
  ASSIGN_OR_RETURN(std::unique_ptr<Metric> metric, MakeMetric(metric_name));
  InputBytes refs_data;
  RETURN_IF_ERROR(refs_data.Load(references_path));
  ASSIGN_OR_RETURN(ReferenceTable refs, ReferenceTable::Parse(references_path, refs_data.bytes(),
                                                              ToFieldConfig(fields)));
  InputBytes preds_data;
  RETURN_IF_ERROR(preds_data.Load(predictions_path));
  const absl::string_view preds = preds_data.bytes();
  emar::v1::ShardTask task;
  task.set_metric(metric_name);
  *task.mutable_fields() = fields;
  task.mutable_outputs()->set_display_name(predictions_path);
  task.mutable_references()->set_display_name(references_path);
  task.set_first_line(1);
  ASSIGN_OR_RETURN(emar::v1::ShardResult result, ScoreShard(task, preds, refs, *metric));

  std::vector<bool> answered(refs.size(), false);
  for (uint32_t r : result.reference_row()) answered[r] = true;
  for (size_t r = 0; r < refs.size(); ++r) {
    if (!answered[r]) {
      return absl::InvalidArgumentError(
          absl::StrCat(predictions_path, ": missing prediction for id '", refs.id(r), "' (",
                       references_path, ":", refs.line(r), ")"));
    }
  }
  const size_t width = metric->stats_width();
  const size_t labels = static_cast<size_t>(result.labels_size());
  std::vector<double> acc(metric->AccumulatorWidth(labels), 0.0);
  for (int i = 0; i < result.reference_row_size(); ++i) {
    metric->Accumulate(
        absl::MakeConstSpan(result.stats().data() + static_cast<size_t>(i) * width, width), 1.0,
        labels, absl::MakeSpan(acc));
  }
  LocalScore out;
  out.metric = metric_name;
  out.n = result.reference_row_size();
  out.value = metric->Finalize(acc, labels, static_cast<double>(out.n));
  out.direction = std::string(DirectionName(metric->direction()));
  ReferenceCounts nrefs;
  nrefs.MergeNrefs(result.nrefs());
  out.signature = metric->signature_for(nrefs);
  return out;
}

}  // namespace emar
