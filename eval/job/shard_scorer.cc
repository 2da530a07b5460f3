#include "eval/job/shard_scorer.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "eval/input/prediction_reader.h"
#include "eval/job/field_names.h"
#include "eval/job/sample_shard_scorer.h"

namespace emar {
namespace {

// The join looks ids up in a table far larger than the caches, in the random order of the
// outputs file, and each lookup is a chain of dependent memory accesses (index slot, row,
// reference texts, their characters). Records are therefore read kRing ahead and the chain is
// walked in stages, one prefetch per stage: the slot when a record is read, the row kRowAhead
// records before it is scored, the texts kFindAhead before, their characters kDataAhead before.
constexpr size_t kRing = 16;
constexpr size_t kRowAhead = 12;
constexpr size_t kFindAhead = 8;
constexpr size_t kDataAhead = 4;

struct PendingRecord {
  PredictionRecord record;
  uint64_t hash = 0;
  std::optional<uint32_t> ref;
};

// How the metric reads the task's outputs: text predictions, or harness multiple-choice samples.
FieldConfig OutputsConfig(const emar::v1::ShardTask& task, const Metric& metric) {
  FieldConfig config = TaskFieldConfig(task);
  config.multiple_choice = metric.reads_choices();
  return config;
}

// The line of the first record of the shard with `id` (an error path: rescans the shard).
uint64_t FirstLineOf(const std::string& id, const emar::v1::ShardTask& task,
                     absl::string_view outputs, const Metric& metric) {
  PredictionReader reader(task.outputs().display_name(), outputs,
                          static_cast<uint64_t>(task.first_line()), OutputsConfig(task, metric));
  PredictionRecord rec;
  for (;;) {
    absl::StatusOr<bool> more = reader.Next(&rec);
    if (!more.ok() || !*more) return 0;
    if (rec.id == id) return rec.line;
  }
}

}  // namespace

absl::StatusOr<emar::v1::ShardResult> ScoreShard(const emar::v1::ShardTask& task,
                                                 absl::string_view outputs,
                                                 const ReferenceTable& references,
                                                 const Metric& metric) {
  if (!task.fields().sample_field().empty()) {
    return ScoreSampleShard(task, outputs, references, metric);
  }
  const std::string& file = task.outputs().display_name();
  const size_t width = metric.stats_width();
  emar::v1::ShardResult result;
  result.set_stats_width(static_cast<int32_t>(width));
  // Each reference is answered at most once; a prediction line takes some 32 bytes or more.
  const size_t expected_rows = std::min(references.size(), outputs.size() / 32 + 16);
  result.mutable_reference_row()->Reserve(static_cast<int>(expected_rows));
  result.mutable_line()->Reserve(static_cast<int>(expected_rows));
  result.mutable_stats()->Reserve(static_cast<int>(expected_rows * width));
  LabelTable labels;
  ReferenceCounts nrefs;
  LabelTable* const label_table = metric.uses_labels() ? &labels : nullptr;
  std::vector<uint64_t> seen((references.size() + 63) / 64, 0);  // bit per reference row
  PredictionReader reader(file, outputs, static_cast<uint64_t>(task.first_line()),
                          OutputsConfig(task, metric));

  std::vector<PendingRecord> ring(kRing);
  size_t num_read = 0, num_row = 0, num_found = 0, num_data = 0, num_done = 0;
  bool at_end = false;
  absl::Status read_error;  // reported after every record before it
  for (;;) {
    while (!at_end && num_read - num_done < kRing) {
      PendingRecord& p = ring[num_read % kRing];
      absl::StatusOr<bool> more = reader.Next(&p.record);
      if (!more.ok() || !*more) {
        if (!more.ok()) read_error = more.status();
        at_end = true;
        break;
      }
      p.hash = ReferenceTable::HashId(p.record.id);
      references.Prefetch(p.hash);
      ++num_read;
    }
    while (num_row < num_read && num_row < num_done + kRowAhead) {
      references.PrefetchCandidateRow(ring[num_row % kRing].hash);
      ++num_row;
    }
    while (num_found < num_row && num_found < num_done + kFindAhead) {
      PendingRecord& p = ring[num_found % kRing];
      p.ref = references.FindHashed(p.record.id, p.hash);
      if (p.ref) references.PrefetchTexts(*p.ref);
      ++num_found;
    }
    while (num_data < num_found && num_data < num_done + kDataAhead) {
      const PendingRecord& p = ring[num_data % kRing];
      if (p.ref) references.PrefetchTextData(*p.ref);
      ++num_data;
    }
    if (num_done == num_read) break;
    const PendingRecord& p = ring[num_done % kRing];
    ++num_done;
    const PredictionRecord& rec = p.record;
    if (!p.ref) {
      return absl::InvalidArgumentError(absl::StrCat(
          file, ":", rec.line, ": field '",
          task.fields().id_field().empty() ? "id" : task.fields().id_field(), "': unknown id '",
          rec.id, "' (not in ", task.references().display_name(), ")"));
    }
    const uint32_t ref = *p.ref;
    uint64_t& word = seen[ref / 64];
    const uint64_t bit = uint64_t{1} << (ref % 64);
    if (word & bit) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ":", rec.line, ": duplicate id '", rec.id, "' (first at line ",
                       FirstLineOf(rec.id, task, outputs, metric),
                       "); for several samples per item set the dataset's fields.sample_field"));
    }
    word |= bit;
    auto* stats = result.mutable_stats();
    const int offset = stats->size();
    stats->Resize(offset + static_cast<int>(width), 0.0);
    absl::Status scored =
        metric.ScoreExample(rec.prediction, references.reference(ref), label_table,
                            absl::MakeSpan(stats->mutable_data() + offset, width));
    if (!scored.ok()) {
      return absl::Status(scored.code(), absl::StrCat(file, ":", rec.line, ": ", scored.message()));
    }
    result.add_reference_row(ref);
    result.add_line(rec.line);
    nrefs.Add(references.reference(ref).texts.size());
  }
  if (!read_error.ok()) return read_error;
  if (labels.size() > kMaxLabels) {
    return absl::InvalidArgumentError(absl::StrCat(
        file, ": ", labels.size(), " distinct labels, more than the ", kMaxLabels, " metric '",
        metric.name(), "' supports; for free-text answers use exact_match or token_f1"));
  }
  for (const std::string& l : labels.labels()) result.add_labels(l);
  if (!nrefs.empty()) result.set_nrefs(nrefs.nrefs());
  return result;
}

}  // namespace emar
