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

// A slot: the upper 24 bits of the id's hash, then entry + 1 in the low kEntryBits.
constexpr int kEntryBits = 40;
constexpr uint64_t kEntryMask = (uint64_t{1} << kEntryBits) - 1;
constexpr uint64_t kTagMask = ~kEntryMask;
constexpr size_t kHeaderBytes = 3 * sizeof(uint32_t);  // row in part, id size, texts

struct EntryHeader {
  uint32_t row, id_size, num_texts;
};

EntryHeader HeaderAt(const char* entry) {
  EntryHeader h;
  static_assert(sizeof h == kHeaderBytes);
  std::memcpy(&h, entry, kHeaderBytes);
  return h;
}

// About how many lines `data` holds, from its first 64 KiB (for reserving; may be off).
size_t EstimateLines(absl::string_view data) {
  const absl::string_view sample = data.substr(0, 64 << 10);
  const size_t lines = CountLines(sample);
  return static_cast<size_t>(static_cast<double>(data.size()) * static_cast<double>(lines) /
                             static_cast<double>(sample.size() + 1) * 1.1) +
         16;
}

}  // namespace

ReferenceTable::Bytes& ReferenceTable::Bytes::operator=(Bytes&& other) noexcept {
  if (this != &other) {
    Free();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

void ReferenceTable::Bytes::Grow(size_t capacity) {
  char* bigger = HugePageAllocator<char>().allocate(capacity);
  if (size_ > 0) std::memcpy(bigger, data_, size_);
  Free();
  data_ = bigger;
  capacity_ = capacity;
}

void ReferenceTable::Bytes::Free() {
  if (data_ != nullptr) HugePageAllocator<char>().deallocate(data_, capacity_);
  data_ = nullptr;
  capacity_ = 0;
}

void ReferenceTable::Part::Append(absl::string_view id, absl::Span<const std::string> texts,
                                  uint64_t line) {
  const EntryHeader header{static_cast<uint32_t>(offsets.size()), static_cast<uint32_t>(id.size()),
                           static_cast<uint32_t>(texts.size())};
  offsets.push_back(arena.size());
  lines.push_back(line);
  arena.Append(&header, kHeaderBytes);
  arena.Append(id.data(), id.size());
  for (const std::string& text : texts) {
    const uint32_t size = static_cast<uint32_t>(text.size());
    arena.Append(&size, sizeof size);
    arena.Append(text.data(), text.size());
  }
}

uint64_t ReferenceTable::HashId(absl::string_view id) {
  return absl::Hash<absl::string_view>{}(id);
}

absl::string_view ReferenceTable::IdAt(uint64_t entry) const {
  const char* e = EntryAt(entry);
  return absl::string_view(e + kHeaderBytes, HeaderAt(e).id_size);
}

absl::string_view ReferenceTable::id(size_t row) const { return IdAt(EntryOf(row)); }

uint64_t ReferenceTable::line(size_t row) const {
  return row < head_.lines.size() ? head_.lines[row] : tail_.lines[row - head_.lines.size()];
}

void ReferenceTable::ReadReference(const Match& match, Reference* out) const {
  const char* e = EntryAt(match.entry);
  const EntryHeader h = HeaderAt(e);
  const char* p = e + kHeaderBytes + h.id_size;
  out->texts.resize(h.num_texts);
  for (std::string& text : out->texts) {
    uint32_t size;
    std::memcpy(&size, p, sizeof size);
    p += sizeof size;
    text.assign(p, size);
    p += size;
  }
}

void ReferenceTable::ReadReference(size_t row, Reference* out) const {
  ReadReference(Match{static_cast<uint32_t>(row), EntryOf(row)}, out);
}

Reference ReferenceTable::reference(size_t row) const {
  Reference out;
  ReadReference(row, &out);
  return out;
}

void ReferenceTable::Prefetch(uint64_t hash) const {
  if (!slots_.empty()) __builtin_prefetch(&slots_[hash & mask_]);
}

void ReferenceTable::PrefetchEntry(uint64_t hash) const {
  if (slots_.empty()) return;
  const uint64_t tag = hash & kTagMask;
  for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
    const uint64_t slot = slots_[i];
    if (slot == 0) return;
    if ((slot & kTagMask) == tag) {
      // An entry may straddle two cache lines; most fit in the two asked for.
      const char* e = EntryAt((slot & kEntryMask) - 1);
      __builtin_prefetch(e);
      __builtin_prefetch(e + 64);
      return;
    }
  }
}

void ReferenceTable::Insert(uint64_t hash, uint64_t entry) {
  size_t i = hash & mask_;
  while (slots_[i] != 0) i = (i + 1) & mask_;
  slots_[i] = (hash & kTagMask) | (entry + 1);
}

std::optional<ReferenceTable::Match> ReferenceTable::Lookup(absl::string_view id,
                                                            uint64_t hash) const {
  if (slots_.empty()) return std::nullopt;
  const uint64_t tag = hash & kTagMask;
  for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
    const uint64_t slot = slots_[i];
    if (slot == 0) return std::nullopt;
    if ((slot & kTagMask) != tag) continue;
    const uint64_t entry = (slot & kEntryMask) - 1;
    const char* e = EntryAt(entry);
    const EntryHeader h = HeaderAt(e);
    if (h.id_size == id.size() && std::memcmp(e + kHeaderBytes, id.data(), id.size()) == 0) {
      return Match{h.row + RowsBefore(entry), entry};
    }
  }
}

std::optional<uint32_t> ReferenceTable::Find(absl::string_view id) const {
  const std::optional<Match> m = Lookup(id, HashId(id));
  if (!m) return std::nullopt;
  return m->row;
}

absl::Status ReferenceTable::IndexRows(absl::string_view display_name,
                                       const std::vector<uint64_t>& head,
                                       const std::vector<uint64_t>& tail) {
  const size_t n = size();
  size_t capacity = 16;
  while (capacity < 2 * n) capacity *= 2;
  slots_.assign(capacity, 0);
  mask_ = capacity - 1;
  // Inserting in row order keeps the duplicate reported the one a line-by-line check finds
  // first; slots are prefetched kAhead rows early because they land all over the index.
  constexpr size_t kAhead = 16;
  auto hash = [&](size_t i) { return i < head.size() ? head[i] : tail[i - head.size()]; };
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) Prefetch(hash(i + kAhead));
    const uint64_t entry = EntryOf(i);
    const absl::string_view row_id = IdAt(entry);
    if (const std::optional<Match> first = Lookup(row_id, hash(i))) {
      return absl::InvalidArgumentError(absl::StrCat(display_name, ":", line(i), ": duplicate id '",
                                                     row_id, "' (first at line ", line(first->row),
                                                     ")"));
    }
    Insert(hash(i), entry);
  }
  return absl::OkStatus();
}

absl::Status ReferenceTable::ParseRows(absl::string_view display_name, absl::string_view part,
                                       uint64_t first_line, const FieldConfig& config, Texts texts,
                                       Part* out, std::vector<uint64_t>* hashes) {
  ASSIGN_OR_RETURN(JsonFieldExtractor extractor,
                   JsonFieldExtractor::Create(config, JsonFieldExtractor::Mode::kReferences));
  // Reserved from an estimate (a row's entry is about the size of its line or smaller); the
  // vectors still grow if it was short.
  const size_t rows = EstimateLines(part);
  out->offsets.reserve(rows);
  out->lines.reserve(rows);
  hashes->reserve(rows);
  out->arena.reserve(texts == Texts::kKeep ? part.size() + part.size() / 4 + 4096 : rows * 32);
  simdjson::ondemand::parser parser;
  JsonlLineCursor cursor(part, first_line);
  absl::string_view text;
  uint64_t line;
  // Each line's id and reference are read into `id` and `scratch` (their buffers reused from
  // line to line), then appended to the part's arena.
  std::string id;
  Reference scratch;
  while (cursor.Next(&text, &line)) {
    const absl::Status s = extractor.Extract(parser, cursor.Padded(text), &id, nullptr, &scratch);
    if (!s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(display_name, ":", line, ": ", s.message()));
    }
    out->Append(id,
                texts == Texts::kKeep ? absl::MakeConstSpan(scratch.texts)
                                      : absl::Span<const std::string>(),
                line);
    hashes->push_back(HashId(id));
  }
  return absl::OkStatus();
}

absl::StatusOr<ReferenceTable> ReferenceTable::FromIds(
    absl::string_view display_name, const std::vector<std::pair<std::string, uint64_t>>& ids) {
  ReferenceTable table;
  table.head_.offsets.reserve(ids.size());
  table.head_.lines.reserve(ids.size());
  std::vector<uint64_t> hashes;
  hashes.reserve(ids.size());
  for (const auto& [id, line] : ids) {
    table.head_.Append(id, {}, line);
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
  std::vector<uint64_t> hashes, second_hashes;
  absl::Status second_status;
  std::thread helper;
  if (!second.empty()) {
    helper = std::thread([&] {
      second_status = ParseRows(display_name, second, CountLines(first), config, texts,
                                &table.tail_, &second_hashes);
    });
  }
  const absl::Status first_status =
      ParseRows(display_name, first, 1, config, texts, &table.head_, &hashes);
  if (helper.joinable()) helper.join();
  if (!first_status.ok()) {
    table.tail_ = Part();  // rows after the first part's error are not the table's
    second_hashes.clear();
  }
  if (hashes.size() + second_hashes.size() > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError(absl::StrCat(display_name, ": too many lines"));
  }
  if (table.head_.arena.size() + table.tail_.arena.size() >= kEntryMask) {
    return absl::InvalidArgumentError(absl::StrCat(display_name, ": too large to index"));
  }
  RETURN_IF_ERROR(table.IndexRows(display_name, hashes, second_hashes));
  RETURN_IF_ERROR(first_status);
  RETURN_IF_ERROR(second_status);
  if (table.size() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(display_name, ": empty file (no JSON lines)"));
  }
  return table;
}

}  // namespace emar
