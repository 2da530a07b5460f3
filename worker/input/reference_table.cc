#include "worker/input/reference_table.h"

#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "simdjson.h"
#include "worker/input/json_field_extractor.h"
#include "worker/input/jsonl_line_cursor.h"

namespace emar {

absl::StatusOr<ReferenceTable> ReferenceTable::Parse(absl::string_view display_name,
                                                     absl::string_view data,
                                                     const FieldConfig& config) {
  ASSIGN_OR_RETURN(JsonFieldExtractor extractor,
                   JsonFieldExtractor::Create(config, JsonFieldExtractor::Mode::kReferences));
  ReferenceTable table;
  simdjson::ondemand::parser parser;
  JsonlLineCursor cursor(data, /*first_line=*/1);
  absl::string_view text;
  uint64_t line;
  std::string id;
  Reference reference;
  while (cursor.Next(&text, &line)) {
    const absl::Status s = extractor.Extract(parser, cursor.Padded(text), &id, nullptr, &reference);
    if (!s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(display_name, ":", line, ": ", s.message()));
    }
    if (table.ids_.size() >= std::numeric_limits<uint32_t>::max()) {
      return absl::InvalidArgumentError(absl::StrCat(display_name, ": too many lines"));
    }
    const auto [it, inserted] =
        table.rows_.try_emplace(id, static_cast<uint32_t>(table.ids_.size()));
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat(display_name, ":", line, ": duplicate id '",
                                                     id, "' (first at line ",
                                                     table.lines_[it->second], ")"));
    }
    table.ids_.push_back(id);
    table.references_.push_back(reference);
    table.lines_.push_back(line);
  }
  if (table.ids_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(display_name, ": empty file (no JSON lines)"));
  }
  return table;
}

std::optional<uint32_t> ReferenceTable::Find(absl::string_view id) const {
  auto it = rows_.find(id);
  if (it == rows_.end()) return std::nullopt;
  return it->second;
}

}  // namespace emar
