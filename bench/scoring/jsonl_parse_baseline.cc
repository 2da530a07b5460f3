// The "merely parse" baseline of the scoring comparison: reads a
// predictions and a references JSONL file and parses every line with simdjson On-Demand, pulling
// out the id and the prediction or the reference(s) as strings. No join, no scoring, no copies
// beyond what simdjson's string unescaping needs. bench/compare_scoring.sh divides the time of
// `emarctl score` by this one.
//
//   build-perf/bench/jsonl_parse_baseline --predictions P.jsonl --references R.jsonl
//   {"seconds": 0.412, "lines": 2000000, "bytes": 94077719}
//
// `seconds` covers reading both files and parsing them (process start-up excluded, as it is
// negligible for the file sizes benchmarked). Exit status 1 on an unreadable file or bad JSON.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "simdjson.h"

namespace {

namespace od = simdjson::ondemand;

struct Totals {
  size_t lines = 0;
  size_t bytes = 0;
  size_t text_bytes = 0;  // consumed so the compiler cannot drop the extraction
};

// Adds a string, or every string of an array, to `totals`.
simdjson::error_code ConsumeText(od::value value, Totals* totals) {
  od::json_type type;
  if (auto e = value.type().get(type)) return e;
  if (type == od::json_type::array) {
    od::array array;
    if (auto e = value.get_array().get(array)) return e;
    for (auto element : array) {
      std::string_view s;
      if (auto e = element.get_string().get(s)) return e;
      totals->text_bytes += s.size();
    }
    return simdjson::SUCCESS;
  }
  std::string_view s;
  if (auto e = value.get_string().get(s)) return e;
  totals->text_bytes += s.size();
  return simdjson::SUCCESS;
}

// Parses every non-empty line of `path`, extracting the id and, for a predictions file,
// "prediction", otherwise "reference" or "references".
bool ParseFile(const char* path, bool predictions, od::parser& parser, Totals* totals) {
  simdjson::padded_string data;
  if (auto e = simdjson::padded_string::load(path).get(data)) {
    std::fprintf(stderr, "%s: %s\n", path, simdjson::error_message(e));
    return false;
  }
  totals->bytes += data.size();
  const char* p = data.data();
  const char* end = p + data.size();
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
    const char* line_end = nl ? nl : end;
    const size_t len = line_end - p;
    if (len > 0) {
      // The rest of the file (and padded_string's own padding) serves as simdjson's padding.
      simdjson::padded_string_view json(p, len, (end - p) + simdjson::SIMDJSON_PADDING);
      od::document doc;
      simdjson::error_code e = parser.iterate(json).get(doc);
      od::object object;
      if (!e) e = doc.get_object().get(object);
      if (!e) {
        for (auto field_result : object) {
          od::field field;
          if ((e = std::move(field_result).get(field))) break;
          std::string_view key;
          if ((e = field.unescaped_key().get(key))) break;
          if (key == "id") {
            std::string_view id;
            if ((e = field.value().get_string().get(id))) break;
            totals->text_bytes += id.size();
          } else if (predictions ? key == "prediction"
                                 : (key == "reference" || key == "references")) {
            if ((e = ConsumeText(field.value(), totals))) break;
          }
        }
      }
      if (e) {
        std::fprintf(stderr, "%s: line %zu: %s\n", path, totals->lines + 1,
                     simdjson::error_message(e));
        return false;
      }
      ++totals->lines;
    }
    p = line_end + 1;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const char* predictions = nullptr;
  const char* references = nullptr;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--predictions") == 0) predictions = argv[i + 1];
    if (std::strcmp(argv[i], "--references") == 0) references = argv[i + 1];
  }
  if (predictions == nullptr || references == nullptr) {
    std::fprintf(stderr, "usage: %s --predictions P.jsonl --references R.jsonl\n", argv[0]);
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  od::parser parser;
  Totals totals;
  if (!ParseFile(predictions, true, parser, &totals) ||
      !ParseFile(references, false, parser, &totals)) {
    return 1;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("{\"seconds\": %.4f, \"lines\": %zu, \"bytes\": %zu, \"text_bytes\": %zu}\n", seconds,
              totals.lines, totals.bytes, totals.text_bytes);
  return 0;
}
