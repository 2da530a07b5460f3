#include "eval/job/output_ids.h"

#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "eval/input/prediction_reader.h"
#include "eval/input/sample_reader.h"
#include "eval/job/field_names.h"
#include "eval/job/suite.h"

namespace emar {

absl::StatusOr<ReferenceTable> IdsOfOutputs(absl::string_view display_name,
                                            absl::string_view outputs,
                                            const emar::v1::FieldNames& fields,
                                            const emar::v1::MetricSpec& metric) {
  const FieldConfig config = ToFieldConfig(fields, metric);
  std::vector<std::pair<std::string, uint64_t>> ids;
  absl::flat_hash_set<std::string> seen;
  auto add = [&](const std::string& id, uint64_t line) {
    if (seen.insert(id).second) ids.emplace_back(id, line);
  };
  if (!fields.sample_field().empty()) {
    SampleReader reader(display_name, outputs, 1, config, fields.sample_field());
    SampleRecord rec;
    for (;;) {
      ASSIGN_OR_RETURN(const bool more, reader.Next(&rec));
      if (!more) break;
      add(rec.id, rec.line);
    }
  } else {
    PredictionReader reader(display_name, outputs, 1, config);
    PredictionRecord rec;
    for (;;) {
      ASSIGN_OR_RETURN(const bool more, reader.Next(&rec));
      if (!more) break;
      add(rec.id, rec.line);
    }
  }
  if (ids.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(display_name, ": empty file (no JSON lines)"));
  }
  return ReferenceTable::FromIds(display_name, ids);
}

absl::Status CheckReferencesOptional(const emar::v1::DatasetSpec& dataset,
                                     const std::string& field) {
  if (!dataset.references().empty()) return absl::OkStatus();
  bool score_only = dataset.metrics_size() > 0 || dataset.metric() == "score";
  for (const emar::v1::MetricSpec& m : dataset.metrics()) score_only &= m.name() == "score";
  if (score_only) return absl::OkStatus();
  return InvalidSpecField(absl::StrCat(field, ".references"),
                          "missing (a path to a JSONL file; only a dataset whose every metric "
                          "is score may have none: its ids then come from the base outputs)");
}

}  // namespace emar
