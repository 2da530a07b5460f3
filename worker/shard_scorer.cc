#include "worker/shard_scorer.h"

#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "worker/field_names.h"
#include "worker/input/prediction_reader.h"

namespace emar {

absl::StatusOr<emar::v1::ShardResult> ScoreShard(const emar::v1::ShardTask& task,
                                                 absl::string_view outputs,
                                                 const ReferenceTable& references,
                                                 const Metric& metric) {
  const std::string& file = task.outputs().display_name();
  const size_t width = metric.stats_width();
  emar::v1::ShardResult result;
  result.set_stats_width(static_cast<int32_t>(width));
  LabelTable labels;
  std::vector<double> row(width);
  absl::flat_hash_map<uint32_t, uint64_t> seen;  // reference row -> line that answered it
  PredictionReader reader(file, outputs, static_cast<uint64_t>(task.first_line()),
                          ToFieldConfig(task.fields()));
  PredictionRecord rec;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, reader.Next(&rec));
    if (!more) break;
    std::optional<uint32_t> ref = references.Find(rec.id);
    if (!ref) {
      return absl::InvalidArgumentError(absl::StrCat(file, ":", rec.line, ": field '",
                                                     task.fields().id_field().empty() ? "id" : task.fields().id_field(),
                                                     "': unknown id '", rec.id, "' (not in ",
                                                     task.references().display_name(), ")"));
    }
    auto [it, inserted] = seen.emplace(*ref, rec.line);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat(file, ":", rec.line, ": duplicate id '", rec.id,
                                                     "' (first at line ", it->second, ")"));
    }
    absl::Status scored = metric.ScoreExample(rec.prediction, references.reference(*ref),
                                              metric.uses_labels() ? &labels : nullptr, absl::MakeSpan(row));
    if (!scored.ok()) {
      return absl::Status(scored.code(), absl::StrCat(file, ":", rec.line, ": ", scored.message()));
    }
    result.add_reference_row(*ref);
    result.add_line(rec.line);
    for (double v : row) result.add_stats(v);
  }
  for (const std::string& l : labels.labels()) result.add_labels(l);
  return result;
}

}  // namespace emar
