// A dataset's references file, parsed whole and indexed by id: what a worker joins its shard of
// predictions against, and what the coordinator validates when a job is created.
//
//   ASSIGN_OR_RETURN(ReferenceTable refs,
//                    ReferenceTable::Parse("data/target.jsonl", contents, FieldConfig{}));
//   Reference reference;
//   if (std::optional<uint32_t> row = refs.Find(record.id)) {
//     refs.ReadReference(*row, &reference);
//     Score(record.prediction, reference);
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

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "eval/input/field_config.h"
#include "eval/input/huge_page_allocator.h"
#include "eval/metrics/metric.h"

namespace emar {

class ReferenceTable {
 public:
  // What Parse keeps of each row's reference: everything, or nothing but the ids and lines (for
  // checking a file, as the coordinator does when a job is created: every line is read and
  // checked the same way, the errors are the same, and a row's reference is empty).
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

  size_t size() const { return head_.offsets.size() + tail_.offsets.size(); }
  // Valid as long as the table.
  absl::string_view id(size_t row) const;
  // 1-based line of `row` in the file (blank lines count).
  uint64_t line(size_t row) const;
  // Row `row`'s reference texts, copied into `out`, whose strings' buffers are reused: a caller
  // that reads many rows into one Reference soon allocates nothing.
  void ReadReference(size_t row, Reference* out) const;
  // The same as a new Reference, for callers outside a loop.
  Reference reference(size_t row) const;
  // The row holding `id`, or nullopt.
  std::optional<uint32_t> Find(absl::string_view id) const;

  // A row found by its id, and where its entry lies (ReadReference(Match) reads the texts from
  // there without looking the row up again).
  struct Match {
    uint32_t row = 0;
    uint64_t entry = 0;
  };
  // Find(id) in steps, for callers that look up many ids in random order (the table is far
  // larger than the caches): Lookup(id, HashId(id))->row == Find(id). The Prefetch* calls only
  // ask the CPU for memory a later step touches, so that a caller can issue them a few ids
  // ahead: Prefetch(hash) the index slot, then (once that has arrived) PrefetchEntry(hash) the
  // row's entry, whose id Lookup compares and whose texts follow the id.
  static uint64_t HashId(absl::string_view id);
  std::optional<Match> Lookup(absl::string_view id, uint64_t hash) const;
  void ReadReference(const Match& match, Reference* out) const;
  void Prefetch(uint64_t hash) const;
  void PrefetchEntry(uint64_t hash) const;

 private:
  ReferenceTable() = default;

  // Bytes appended at the end of one block that grows by doubling (a std::vector<char>'s
  // generic insert, the hot path of parsing, cost several times more). Move-only.
  class Bytes {
   public:
    Bytes() = default;
    Bytes(Bytes&& other) noexcept { *this = std::move(other); }
    Bytes& operator=(Bytes&& other) noexcept;
    Bytes(const Bytes&) = delete;
    Bytes& operator=(const Bytes&) = delete;
    ~Bytes() { Free(); }

    const char* data() const { return data_; }
    size_t size() const { return size_; }
    void reserve(size_t capacity) {
      if (capacity > capacity_) Grow(capacity);
    }
    void Append(const void* bytes, size_t n) {
      if (n > capacity_ - size_) Grow(std::max(size_ + n, 2 * capacity_));
      std::memcpy(data_ + size_, bytes, n);
      size_ += n;
    }

   private:
    void Grow(size_t capacity);
    void Free();
    char* data_ = nullptr;
    size_t size_ = 0;
    size_t capacity_ = 0;
  };

  // The rows one thread parsed. Each row is an entry in `arena`: its header (row within the
  // part, id size, number of texts; three uint32), the id's bytes, then each text as a uint32
  // size and its bytes. A row costs its texts plus some 20 bytes, in one place: a join by id
  // touches one cache line or two, and parsing allocates nothing per row.
  struct Part {
    Bytes arena;
    std::vector<uint64_t, HugePageAllocator<uint64_t>> offsets;  // each row's entry in arena
    std::vector<uint64_t> lines;
    // Appends a row; `texts` may be empty (Texts::kDrop, FromIds).
    void Append(absl::string_view id, absl::Span<const std::string> texts, uint64_t line);
  };

  // Entries are addressed by one offset into the head's arena followed by the tail's (the
  // second part's rows: a large file's halves are parsed on two threads, each into its own
  // Part, and kept where they were written). Selected without a branch: lookups come in random
  // order.
  const char* EntryAt(uint64_t entry) const {
    const bool head = entry < head_.arena.size();
    const char* base = head ? head_.arena.data() : tail_.arena.data();
    return base + (entry - (head ? 0 : head_.arena.size()));
  }
  uint64_t EntryOf(size_t row) const {
    return row < head_.offsets.size()
               ? head_.offsets[row]
               : head_.arena.size() + tail_.offsets[row - head_.offsets.size()];
  }
  // The rows before the part holding the entry at `entry` (an entry's header counts within
  // its part).
  uint32_t RowsBefore(uint64_t entry) const {
    return entry < head_.arena.size() ? 0 : static_cast<uint32_t>(head_.offsets.size());
  }
  // The id of the entry at `entry`.
  absl::string_view IdAt(uint64_t entry) const;

  // Appends the rows of `part`, whose first line is line `first_line` of the file, to `out`,
  // and their ids' hashes to `hashes`; the first bad line's error (naming the line) stops it.
  static absl::Status ParseRows(absl::string_view display_name, absl::string_view part,
                                uint64_t first_line, const FieldConfig& config, Texts texts,
                                Part* out, std::vector<uint64_t>* hashes);

  // Open addressing over `slots_` (a power of two, at most half full), linear probing. A slot
  // is 0 when empty, else the upper 24 bits of the id's hash, then entry + 1 (40 bits).
  void Insert(uint64_t hash, uint64_t entry);
  // Sizes the index for size() rows and inserts rows 0..size()-1 in order, hashes[i] =
  // HashId(id(i)) (the head's rows' hashes, then the tail's); INVALID_ARGUMENT for the first
  // row whose id an earlier row has.
  absl::Status IndexRows(absl::string_view display_name, const std::vector<uint64_t>& head,
                         const std::vector<uint64_t>& tail);

  Part head_;
  Part tail_;  // empty for a table parsed in one part
  std::vector<uint64_t, HugePageAllocator<uint64_t>> slots_;
  uint64_t mask_ = 0;
};

}  // namespace emar

#endif  // EMAR_EVAL_INPUT_REFERENCE_TABLE_H_
