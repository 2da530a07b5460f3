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
// outputs file, and each lookup is a chain of two dependent memory accesses (the index slot,
// then the row's entry: id and reference texts). Records are therefore read kRing ahead and the
// chain is walked in stages, one prefetch per stage: the slot when a record is read, the entry
// kEntryAhead records before it is scored.
constexpr size_t kRing = 16;
constexpr size_t kEntryAhead = 10;

struct PendingRecord {
  PredictionRecord record;
  uint64_t hash = 0;
  std::optional<ReferenceTable::Match> ref;
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

// The join of the outputs' records with the references: reads records kRing ahead and walks
// each one's lookup chain in the stages described above, so that a record's reference row and
// texts are in cache by the time it is handed out.
class PrefetchedJoin {
 public:
  PrefetchedJoin(const emar::v1::ShardTask& task, absl::string_view outputs,
                 const ReferenceTable& references, const Metric& metric)
      : references_(references),
        reader_(task.outputs().display_name(), outputs, static_cast<uint64_t>(task.first_line()),
                OutputsConfig(task, metric)),
        ring_(kRing) {}

  // The next record with its reference row looked up (`ref` unset for an unknown id), valid
  // until the next call; nullptr after the last record or a read error (then read_error()).
  const PendingRecord* Next() {
    while (!at_end_ && num_read_ - num_done_ < kRing) {
      PendingRecord& p = ring_[num_read_ % kRing];
      absl::StatusOr<bool> more = reader_.Next(&p.record);
      if (!more.ok() || !*more) {
        if (!more.ok()) read_error_ = more.status();
        at_end_ = true;
        break;
      }
      p.hash = ReferenceTable::HashId(p.record.id);
      references_.Prefetch(p.hash);
      ++num_read_;
    }
    while (num_entry_ < num_read_ && num_entry_ < num_done_ + kEntryAhead) {
      references_.PrefetchEntry(ring_[num_entry_ % kRing].hash);
      ++num_entry_;
    }
    if (num_done_ == num_read_) return nullptr;
    PendingRecord& p = ring_[num_done_++ % kRing];
    p.ref = references_.Lookup(p.record.id, p.hash);
    return &p;
  }
  // Reported after every record before it.
  const absl::Status& read_error() const { return read_error_; }

 private:
  const ReferenceTable& references_;
  PredictionReader reader_;
  std::vector<PendingRecord> ring_;
  size_t num_read_ = 0, num_entry_ = 0, num_done_ = 0;
  bool at_end_ = false;
  absl::Status read_error_;
};

// The shard's result as its records are scored into it, and what it collects on the way.
class ShardResultBuilder {
 public:
  ShardResultBuilder(const emar::v1::ShardTask& task, absl::string_view outputs,
                     const ReferenceTable& references, const Metric& metric)
      : task_(task),
        outputs_(outputs),
        references_(references),
        metric_(metric),
        file_(task.outputs().display_name()),
        width_(metric.stats_width()),
        seen_((references.size() + 63) / 64, 0) {
    result_.set_stats_width(static_cast<int32_t>(width_));
    // Each reference is answered at most once; a prediction line takes some 32 bytes or more.
    const size_t expected_rows = std::min(references.size(), outputs.size() / 32 + 16);
    result_.mutable_reference_row()->Reserve(static_cast<int>(expected_rows));
    result_.mutable_line()->Reserve(static_cast<int>(expected_rows));
    result_.mutable_stats()->Reserve(static_cast<int>(expected_rows * width_));
  }

  // Checks the record's id (known, answered once) and appends its row of statistics.
  absl::Status Score(const PendingRecord& p) {
    const PredictionRecord& rec = p.record;
    if (!p.ref) {
      return absl::InvalidArgumentError(absl::StrCat(
          file_, ":", rec.line, ": field '",
          task_.fields().id_field().empty() ? "id" : task_.fields().id_field(), "': unknown id '",
          rec.id, "' (not in ", task_.references().display_name(), ")"));
    }
    const uint32_t ref = p.ref->row;
    uint64_t& word = seen_[ref / 64];
    const uint64_t bit = uint64_t{1} << (ref % 64);
    if (word & bit) {
      return absl::InvalidArgumentError(
          absl::StrCat(file_, ":", rec.line, ": duplicate id '", rec.id, "' (first at line ",
                       FirstLineOf(rec.id, task_, outputs_, metric_),
                       "); for several samples per item set the dataset's fields.sample_field"));
    }
    word |= bit;
    auto* stats = result_.mutable_stats();
    const int offset = stats->size();
    stats->Resize(offset + static_cast<int>(width_), 0.0);
    LabelTable* const label_table = metric_.uses_labels() ? &labels_ : nullptr;
    references_.ReadReference(*p.ref, &reference_);
    absl::Status scored =
        metric_.ScoreExample(rec.prediction, reference_, label_table,
                             absl::MakeSpan(stats->mutable_data() + offset, width_));
    if (!scored.ok()) {
      return absl::Status(scored.code(),
                          absl::StrCat(file_, ":", rec.line, ": ", scored.message()));
    }
    result_.add_reference_row(ref);
    result_.add_line(rec.line);
    nrefs_.Add(reference_.texts.size());
    return absl::OkStatus();
  }

  // The result with its label table and reference counts.
  absl::StatusOr<emar::v1::ShardResult> Pack() && {
    if (labels_.size() > kMaxLabels) {
      return absl::InvalidArgumentError(absl::StrCat(
          file_, ": ", labels_.size(), " distinct labels, more than the ", kMaxLabels, " metric '",
          metric_.name(), "' supports; for free-text answers use exact_match or token_f1"));
    }
    for (const std::string& l : labels_.labels()) result_.add_labels(l);
    if (!nrefs_.empty()) result_.set_nrefs(nrefs_.nrefs());
    return std::move(result_);
  }

 private:
  const emar::v1::ShardTask& task_;
  const absl::string_view outputs_;
  const ReferenceTable& references_;
  const Metric& metric_;
  const std::string& file_;
  const size_t width_;
  emar::v1::ShardResult result_;
  LabelTable labels_;
  ReferenceCounts nrefs_;
  std::vector<uint64_t> seen_;  // bit per reference row
  Reference reference_;         // the row being scored (its buffers reused)
};

}  // namespace

absl::StatusOr<emar::v1::ShardResult> ScoreShard(const emar::v1::ShardTask& task,
                                                 absl::string_view outputs,
                                                 const ReferenceTable& references,
                                                 const Metric& metric) {
  if (!task.fields().sample_field().empty()) {
    return ScoreSampleShard(task, outputs, references, metric);
  }
  PrefetchedJoin join(task, outputs, references, metric);
  ShardResultBuilder result(task, outputs, references, metric);
  while (const PendingRecord* p = join.Next()) RETURN_IF_ERROR(result.Score(*p));
  if (!join.read_error().ok()) return join.read_error();
  return std::move(result).Pack();
}

}  // namespace emar
