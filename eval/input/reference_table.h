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
#ifndef EMAR_EVAL_INPUT_REFERENCE_TABLE_H_
#define EMAR_EVAL_INPUT_REFERENCE_TABLE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eval/input/field_config.h"
#include "eval/input/huge_page_allocator.h"
#include "eval/metrics/metric.h"

namespace emar {

class ReferenceTable {
 public:
  // What Parse keeps of each row's reference: everything, or nothing but the ids and lines (for
  // checking a file, as the coordinator does when a job is created: every line is read and
  // checked the same way, the errors are the same, and reference(row) is empty).
  enum class Texts { kKeep, kDrop };

  // `data` is the whole (decompressed) file; `display_name` is how errors name it. With
  // `threads` 2 a large file's second half is parsed on a thread of its own; the table and any
  // error are the same as with one.
  static absl::StatusOr<ReferenceTable> Parse(absl::string_view display_name,
                                              absl::string_view data, const FieldConfig& config,
                                              int threads = 1, Texts texts = Texts::kKeep);

  // A table of ids without reference texts, e.g. the ids a base model answered when a dataset
  // (a `score` dataset) has no references file: row i is ids[i] with its 1-based `line`. The
  // ids must be distinct (INVALID_ARGUMENT naming `display_name` otherwise).
  static absl::StatusOr<ReferenceTable> FromIds(
      absl::string_view display_name, const std::vector<std::pair<std::string, uint64_t>>& ids);

  size_t size() const { return rows_.size() + tail_.size(); }
  const std::string& id(size_t row) const { return At(row).id; }
  const Reference& reference(size_t row) const { return At(row).reference; }
  // 1-based line of `row` in the file (blank lines count).
  uint64_t line(size_t row) const { return At(row).line; }
  // The row holding `id`, or nullopt.
  std::optional<uint32_t> Find(absl::string_view id) const;
  // Find(id) in steps, for callers that look up many ids in random order (the table is far
  // larger than the caches): FindHashed(id, HashId(id)) == Find(id). The Prefetch* calls only
  // ask the CPU for memory a later step touches, so that a caller can issue them a few ids
  // ahead: Prefetch(hash) the index slot, then (once that has arrived) PrefetchCandidateRow(hash)
  // the row FindHashed will compare the id with, then PrefetchTexts(row) the reference texts,
  // then PrefetchTextData(row) the characters of the first two.
  static uint64_t HashId(absl::string_view id);
  std::optional<uint32_t> FindHashed(absl::string_view id, uint64_t hash) const;
  void Prefetch(uint64_t hash) const;
  void PrefetchCandidateRow(uint64_t hash) const;
  void PrefetchTexts(uint32_t row) const;
  void PrefetchTextData(uint32_t row) const;

 private:
  ReferenceTable() = default;

  // A row's id, reference and line share one cache line: a join by id touches the row once.
  struct alignas(64) Row {
    std::string id;
    Reference reference;
    uint64_t line = 0;
  };

  using Rows = std::vector<Row, HugePageAllocator<Row>>;

  // Row i: in rows_ below rows_.size(), else in tail_ (selected without a branch: lookups come
  // in random order).
  const Row& At(size_t i) const {
    const bool head = i < rows_.size();
    const Row* base = head ? rows_.data() : tail_.data();
    return base[i - (head ? 0 : rows_.size())];
  }

  // Appends the rows of `part`, whose first line is line `first_line` of the file, to `rows`,
  // and their ids' hashes to `hashes`; the first bad line's error (naming the line) stops it.
  static absl::Status ParseRows(absl::string_view display_name, absl::string_view part,
                                uint64_t first_line, const FieldConfig& config, Texts texts,
                                Rows* rows, std::vector<uint64_t>* hashes);

  // Open addressing over `slots_` (a power of two, at most half full), linear probing. A slot
  // is 0 when empty, else (upper 32 bits of the id's hash) << 32 | (row + 1).
  void Insert(uint64_t hash, uint32_t row);
  // Inserts rows 0..size()-1 in order, hashes[i] = HashId(id(i)) (the head's rows' hashes, then
  // the tail's); INVALID_ARGUMENT for the first row whose id an earlier row has.
  absl::Status IndexRows(absl::string_view display_name, const std::vector<uint64_t>& head,
                         const std::vector<uint64_t>& tail);

  // The rows, in two parts: a large file's halves are parsed on two threads, each into its own
  // vector, and kept where they were written (moving the second half after the first would be
  // a serial pass over tens of megabytes). tail_ is empty for a table parsed in one part.
  Rows rows_;
  Rows tail_;
  std::vector<uint64_t, HugePageAllocator<uint64_t>> slots_;
  uint64_t mask_ = 0;
};

}  // namespace emar

#endif  // EMAR_EVAL_INPUT_REFERENCE_TABLE_H_
