// A dataset's references file, parsed whole and indexed by id: what a worker joins its shard of
// predictions against, and what the coordinator validates when a job is created.
//
//   ASSIGN_OR_RETURN(ReferenceTable refs,
//                    ReferenceTable::Parse("data/target.jsonl", contents, FieldConfig{}));
//   if (std::optional<uint32_t> row = refs.Find(record.id)) {
//     Score(record.prediction, refs.reference(*row));
//   }
//
// Row i is the i-th non-blank line. Each line holds an id (a string, or an integer rendered in
// decimal) and either `reference` (one) or `references` (a non-empty list), or the configured
// `reference_field` (one or a list); labels are rendered as JsonFieldExtractor describes. Every
// problem is INVALID_ARGUMENT naming the file, the 1-based line and the field:
//   data/target.jsonl:9: duplicate id 'r17' (first at line 3)
//
// Immutable after Parse and safe to read from many threads; it owns copies of all texts, so
// `data` need not outlive it.
#ifndef EMAR_WORKER_INPUT_REFERENCE_TABLE_H_
#define EMAR_WORKER_INPUT_REFERENCE_TABLE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "worker/input/field_config.h"
#include "worker/scoring/metric.h"

namespace emar {

class ReferenceTable {
 public:
  // `data` is the whole (decompressed) file; `display_name` is how errors name it.
  static absl::StatusOr<ReferenceTable> Parse(absl::string_view display_name,
                                              absl::string_view data, const FieldConfig& config);

  size_t size() const { return ids_.size(); }
  const std::string& id(size_t row) const { return ids_[row]; }
  const Reference& reference(size_t row) const { return references_[row]; }
  // 1-based line of `row` in the file (blank lines count).
  uint64_t line(size_t row) const { return lines_[row]; }
  // The row holding `id`, or nullopt.
  std::optional<uint32_t> Find(absl::string_view id) const;

 private:
  ReferenceTable() = default;

  std::vector<std::string> ids_;
  std::vector<Reference> references_;
  std::vector<uint64_t> lines_;
  absl::flat_hash_map<std::string, uint32_t> rows_;  // id -> row
};

}  // namespace emar

#endif  // EMAR_WORKER_INPUT_REFERENCE_TABLE_H_
