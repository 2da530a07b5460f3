#include "eval/input/slice_reader.h"

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "eval/input/json_field_extractor.h"
#include "eval/input/jsonl_line_cursor.h"
#include "simdjson.h"

namespace emar {
namespace {

// The value at `path` of one JSON line, rendered as a slice name; an error message otherwise.
absl::StatusOr<std::string> SliceValue(simdjson::ondemand::parser& parser,
                                       simdjson::padded_string_view json,
                                       const std::vector<std::string>& path) {
  simdjson::ondemand::document doc;
  if (parser.iterate(json).get(doc) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("not valid JSON");
  }
  simdjson::ondemand::value value;
  if (doc.get_value().get(value) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("not valid JSON");
  }
  for (const std::string& part : path) {
    simdjson::ondemand::json_type type;
    if (value.type().get(type) != simdjson::SUCCESS) {
      return absl::InvalidArgumentError("not valid JSON");
    }
    size_t index = 0;
    simdjson::error_code err = simdjson::NO_SUCH_FIELD;
    if (type == simdjson::ondemand::json_type::object) {
      err = value.find_field_unordered(part).get(value);
    } else if (type == simdjson::ondemand::json_type::array && absl::SimpleAtoi(part, &index)) {
      err = value.at(index).get(value);
    }
    if (err != simdjson::SUCCESS) return absl::InvalidArgumentError("missing");
  }
  simdjson::ondemand::json_type type;
  if (value.type().get(type) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("not valid JSON");
  }
  switch (type) {
    case simdjson::ondemand::json_type::string: {
      std::string_view s;
      if (value.get_string().get(s) != simdjson::SUCCESS) {
        return absl::InvalidArgumentError("invalid string");
      }
      return std::string(s);
    }
    case simdjson::ondemand::json_type::number: {
      double d;
      if (value.get_double().get(d) != simdjson::SUCCESS) {
        return absl::InvalidArgumentError("invalid number");
      }
      std::string out;
      AppendCanonicalNumber(d, &out);
      return out;
    }
    case simdjson::ondemand::json_type::boolean: {
      bool b;
      if (value.get_bool().get(b) != simdjson::SUCCESS) {
        return absl::InvalidArgumentError("invalid boolean");
      }
      return std::string(b ? "true" : "false");
    }
    default:
      return absl::InvalidArgumentError("expected a string, number or boolean");
  }
}

}  // namespace

absl::StatusOr<SliceColumn> ReadSlices(absl::string_view display_name, absl::string_view data,
                                       const std::string& field) {
  const std::vector<std::string> path = absl::StrSplit(field, '.');
  SliceColumn out;
  absl::flat_hash_map<std::string, uint32_t> index;
  simdjson::ondemand::parser parser;
  JsonlLineCursor cursor(data, 1);
  absl::string_view line;
  uint64_t number = 0;
  while (cursor.Next(&line, &number)) {
    absl::StatusOr<std::string> value = SliceValue(parser, cursor.Padded(line), path);
    if (!value.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(display_name, ":", number, ": field '", field,
                       "' (slice_field): ", value.status().message()));
    }
    auto [it, added] = index.emplace(*value, static_cast<uint32_t>(out.names.size()));
    if (added) out.names.push_back(std::move(*value));
    out.of_row.push_back(it->second);
  }
  return out;
}

}  // namespace emar
