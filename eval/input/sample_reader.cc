#include "eval/input/sample_reader.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace emar {
namespace {

FieldConfig SampleFieldConfig(const FieldConfig& config, absl::string_view sample_field) {
  FieldConfig c;
  c.id_field = config.id_field;
  c.prediction_field = std::string(sample_field);
  c.logprobs_field.clear();  // read by the main extractor only
  return c;
}

}  // namespace

SampleReader::SampleReader(absl::string_view display_name, absl::string_view data,
                           uint64_t first_line, const FieldConfig& config,
                           absl::string_view sample_field)
    : display_name_(display_name),
      sample_field_(sample_field.empty() ? kDefaultSampleField : sample_field),
      cursor_(data, first_line),
      extractor_(JsonFieldExtractor::Create(config, JsonFieldExtractor::Mode::kPredictions)),
      sample_extractor_(JsonFieldExtractor::Create(SampleFieldConfig(config, sample_field_),
                                                   JsonFieldExtractor::Mode::kPredictions)) {
  if (!extractor_.ok()) {
    status_ = extractor_.status();
  } else if (!sample_extractor_.ok()) {
    status_ = absl::InvalidArgumentError(
        absl::StrCat("sample field: ", sample_extractor_.status().message()));
  }
}

absl::Status SampleReader::Fail(uint64_t line, absl::string_view message) {
  status_ = absl::InvalidArgumentError(absl::StrCat(display_name_, ":", line, ": ", message));
  return status_;
}

absl::StatusOr<bool> SampleReader::Next(SampleRecord* out) {
  if (!status_.ok()) return status_;
  absl::string_view text;
  uint64_t line;
  if (!cursor_.Next(&text, &line)) return false;
  absl::Status s =
      extractor_->Extract(parser_, cursor_.Padded(text), &out->id, &out->prediction, nullptr);
  if (!s.ok()) return Fail(line, s.message());
  s = sample_extractor_->Extract(parser_, cursor_.Padded(text), &scratch_id_, &scratch_sample_,
                                 nullptr);
  if (!s.ok()) return Fail(line, s.message());
  const std::string& index = scratch_sample_.text;
  uint64_t sample = 0;
  const bool digits = !index.empty() && index.size() <= 18 &&
                      std::all_of(index.begin(), index.end(), absl::ascii_isdigit);
  if (!digits || !absl::SimpleAtoi(index, &sample)) {
    return Fail(line, absl::StrCat("field '", sample_field_,
                                   "': expected a non-negative integer, got \"", index, "\""));
  }
  out->sample = sample;
  out->line = line;
  return true;
}

}  // namespace emar
