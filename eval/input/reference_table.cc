#include "eval/input/reference_table.h"

#include <cstring>
#include <limits>
#include <thread>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "eval/input/json_field_extractor.h"
#include "eval/input/jsonl_line_cursor.h"
#include "simdjson.h"

namespace emar {
namespace {

// Upper bound on the rows of `data`: its lines.
size_t CountLines(absl::string_view data) {
  size_t lines = 1;
  const char* p = data.data();
  const char* end = p + data.size();
  while (p < end) {
    const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p));
    if (nl == nullptr) break;
    ++lines;
    p = static_cast<const char*>(nl) + 1;
  }
  return lines;
}

constexpr uint64_t kRowMask = 0xffffffffu;

}  // namespace

uint64_t ReferenceTable::HashId(absl::string_view id) {
  return absl::Hash<absl::string_view>{}(id);
}

void ReferenceTable::Prefetch(uint64_t hash) const {
  if (!slots_.empty()) __builtin_prefetch(&slots_[hash & mask_]);
}

void ReferenceTable::Insert(uint64_t hash, uint32_t row) {
  size_t i = hash & mask_;
  while (slots_[i] != 0) i = (i + 1) & mask_;
  slots_[i] = (hash & ~kRowMask) | (uint64_t{row} + 1);
}

std::optional<uint32_t> ReferenceTable::FindHashed(absl::string_view id, uint64_t hash) const {
  if (slots_.empty()) return std::nullopt;
  const uint64_t tag = hash & ~kRowMask;
  for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
    const uint64_t slot = slots_[i];
    if (slot == 0) return std::nullopt;
    if ((slot & ~kRowMask) != tag) continue;
    const uint32_t row = static_cast<uint32_t>((slot & kRowMask) - 1);
    if (At(row).id == id) return row;
  }
}

std::optional<uint32_t> ReferenceTable::Find(absl::string_view id) const {
  return FindHashed(id, HashId(id));
}

absl::Status ReferenceTable::IndexRows(absl::string_view display_name,
                                       const std::vector<uint64_t>& head,
                                       const std::vector<uint64_t>& tail) {
  // Inserting in row order keeps the duplicate reported the one a line-by-line check finds
  // first; slots are prefetched kAhead rows early because they land all over the index.
  constexpr size_t kAhead = 16;
  const size_t n = head.size() + tail.size();
  auto hash = [&](size_t i) { return i < head.size() ? head[i] : tail[i - head.size()]; };
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) Prefetch(hash(i + kAhead));
    const Row& row = At(i);
    if (const std::optional<uint32_t> first = FindHashed(row.id, hash(i))) {
      return absl::InvalidArgumentError(absl::StrCat(display_name, ":", row.line,
                                                     ": duplicate id '", row.id,
                                                     "' (first at line ", At(*first).line, ")"));
    }
    Insert(hash(i), static_cast<uint32_t>(i));
  }
  return absl::OkStatus();
}

absl::Status ReferenceTable::ParseRows(absl::string_view display_name, absl::string_view part,
                                       uint64_t first_line, const FieldConfig& config, Texts texts,
                                       Rows* rows, std::vector<uint64_t>* hashes) {
  ASSIGN_OR_RETURN(JsonFieldExtractor extractor,
                   JsonFieldExtractor::Create(config, JsonFieldExtractor::Mode::kReferences));
  simdjson::ondemand::parser parser;
  JsonlLineCursor cursor(part, first_line);
  absl::string_view text;
  uint64_t line;
  // Each line's reference is read into `scratch` (its buffers reused from line to line) and,
  // with Texts::kKeep, copied to the row at its size: the extractor leaves room for two texts,
  // 32 bytes a row more than the one most references have.
  Reference scratch;
  while (cursor.Next(&text, &line)) {
    Row& row = rows->emplace_back();
    const absl::Status s =
        extractor.Extract(parser, cursor.Padded(text), &row.id, nullptr, &scratch);
    if (!s.ok()) {
      rows->pop_back();
      return absl::InvalidArgumentError(absl::StrCat(display_name, ":", line, ": ", s.message()));
    }
    if (texts == Texts::kKeep) {
      row.reference.texts.assign(scratch.texts.begin(), scratch.texts.end());
    }
    row.line = line;
    hashes->push_back(HashId(row.id));
  }
  return absl::OkStatus();
}

absl::StatusOr<ReferenceTable> ReferenceTable::FromIds(
    absl::string_view display_name, const std::vector<std::pair<std::string, uint64_t>>& ids) {
  ReferenceTable table;
  table.rows_.reserve(ids.size());
  size_t capacity = 16;
  while (capacity < 2 * ids.size()) capacity *= 2;
  table.slots_.assign(capacity, 0);
  table.mask_ = capacity - 1;
  std::vector<uint64_t> hashes;
  hashes.reserve(ids.size());
  for (const auto& [id, line] : ids) {
    Row& row = table.rows_.emplace_back();
    row.id = id;
    row.line = line;
    hashes.push_back(HashId(id));
  }
  RETURN_IF_ERROR(table.IndexRows(display_name, hashes, {}));
  return table;
}

absl::StatusOr<ReferenceTable> ReferenceTable::Parse(absl::string_view display_name,
                                                     absl::string_view data,
                                                     const FieldConfig& config, int threads,
                                                     Texts texts) {
  // Checked up front, so that a bad field configuration is reported once, not per part.
  RETURN_IF_ERROR(
      JsonFieldExtractor::Create(config, JsonFieldExtractor::Mode::kReferences).status());
  ReferenceTable table;
  // Sized once for every line of the file, so neither the rows nor the index ever move.
  const size_t max_rows = CountLines(data);
  table.rows_.reserve(max_rows);
  size_t capacity = 16;
  while (capacity < 2 * max_rows) capacity *= 2;
  table.slots_.assign(capacity, 0);
  table.mask_ = capacity - 1;
  std::vector<uint64_t> hashes;
  hashes.reserve(max_rows);

  // Two parts: the first up to a line end near the middle, the second from there (a file too
  // small to be worth a thread, or whose second half would begin with what looks like a byte
  // order mark, is one part: only the file's first line may skip one).
  constexpr size_t kMinSplitBytes = 4 << 20;
  absl::string_view first = data, second;
  if (threads > 1 && data.size() >= kMinSplitBytes) {
    const size_t nl = data.find('\n', data.size() / 2);
    if (nl != absl::string_view::npos && !absl::StartsWith(data.substr(nl + 1), "\xEF\xBB\xBF")) {
      first = data.substr(0, nl + 1);
      second = data.substr(nl + 1);
    }
  }
  // Rows are parsed first and indexed afterwards; an error on line L is reported only after the
  // rows before L were indexed, so a duplicate id before L still wins, as when checking per line.
  // The second part's rows stay in the table's tail_.
  std::vector<uint64_t> second_hashes;
  absl::Status second_status;
  std::thread helper;
  if (!second.empty()) {
    helper = std::thread([&] {
      // Sized up front like the first part's: growing by doubling would hold up to 1.5 times
      // the part's rows while it copies.
      const size_t second_lines = CountLines(second);
      table.tail_.reserve(second_lines);
      second_hashes.reserve(second_lines);
      second_status = ParseRows(display_name, second, CountLines(first), config, texts,
                                &table.tail_, &second_hashes);
    });
  }
  const absl::Status first_status =
      ParseRows(display_name, first, 1, config, texts, &table.rows_, &hashes);
  if (helper.joinable()) helper.join();
  if (!first_status.ok()) {
    table.tail_.clear();  // rows after the first part's error are not the table's
    second_hashes.clear();
  }
  if (hashes.size() + second_hashes.size() > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError(absl::StrCat(display_name, ": too many lines"));
  }
  RETURN_IF_ERROR(table.IndexRows(display_name, hashes, second_hashes));
  RETURN_IF_ERROR(first_status);
  RETURN_IF_ERROR(second_status);
  if (table.size() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(display_name, ": empty file (no JSON lines)"));
  }
  return table;
}

void ReferenceTable::PrefetchCandidateRow(uint64_t hash) const {
  if (slots_.empty()) return;
  const uint64_t tag = hash & ~kRowMask;
  for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
    const uint64_t slot = slots_[i];
    if (slot == 0) return;
    if ((slot & ~kRowMask) == tag) {
      __builtin_prefetch(&At((slot & kRowMask) - 1));
      return;
    }
  }
}

void ReferenceTable::PrefetchTexts(uint32_t row) const {
  const std::vector<std::string>& texts = At(row).reference.texts;
  if (!texts.empty()) __builtin_prefetch(texts.data());
}

void ReferenceTable::PrefetchTextData(uint32_t row) const {
  const std::vector<std::string>& texts = At(row).reference.texts;
  const size_t n = texts.size() < 2 ? texts.size() : 2;
  for (size_t i = 0; i < n; ++i) __builtin_prefetch(texts[i].data());
}

}  // namespace emar
