#include "eval/job/sample_shard_scorer.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "eval/input/sample_reader.h"
#include "eval/job/field_names.h"

namespace emar {

absl::StatusOr<emar::v1::ShardResult> ScoreSampleShard(const emar::v1::ShardTask& task,
                                                       absl::string_view outputs,
                                                       const ReferenceTable& references,
                                                       const Metric& metric) {
  const std::string& file = task.outputs().display_name();
  if (metric.uses_labels()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dataset '", task.dataset(), "': metric '", metric.name(),
        "' counts labels and cannot average several samples per item (fields.sample_field '",
        task.fields().sample_field(), "')"));
  }
  const size_t width = metric.stats_width();
  emar::v1::ShardResult result;
  result.set_stats_width(static_cast<int32_t>(width));
  const FieldConfig config = TaskFieldConfig(task);
  SampleReader reader(file, outputs, static_cast<uint64_t>(task.first_line()), config,
                      task.fields().sample_field());
  SampleRecord rec;
  Reference reference;  // the item's, read per sample (its buffers reused)
  for (;;) {
    ASSIGN_OR_RETURN(const bool more, reader.Next(&rec));
    if (!more) break;
    const std::optional<uint32_t> item = references.Find(rec.id);
    if (!item) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ":", rec.line, ": field '", config.id_field, "': unknown id '", rec.id,
                       "' (not in ", task.references().display_name(), ")"));
    }
    auto* stats = result.mutable_stats();
    const int offset = stats->size();
    stats->Resize(offset + static_cast<int>(width), 0.0);
    references.ReadReference(*item, &reference);
    const absl::Status scored = metric.ScoreExample(
        rec.prediction, reference, nullptr, absl::MakeSpan(stats->mutable_data() + offset, width));
    if (!scored.ok()) {
      return absl::Status(scored.code(), absl::StrCat(file, ":", rec.line, ": ", scored.message()));
    }
    result.add_reference_row(*item);
    result.add_line(rec.line);
    result.add_sample(rec.sample);
  }
  return result;
}

}  // namespace emar
