#include "eval/input/prediction_reader.h"

#include "absl/strings/str_cat.h"

namespace emar {

PredictionReader::PredictionReader(absl::string_view display_name, absl::string_view data,
                                   uint64_t first_line, const FieldConfig& config)
    : display_name_(display_name),
      cursor_(data, first_line),
      extractor_(JsonFieldExtractor::Create(config, JsonFieldExtractor::Mode::kPredictions)) {
  if (!extractor_.ok()) status_ = extractor_.status();
  if (config.multiple_choice) {
    harness_ =
        HarnessSampleFields{config.id_field, config.prediction_field, "", config.choices_field};
  }
}

absl::StatusOr<bool> PredictionReader::Next(PredictionRecord* out) {
  if (!status_.ok()) return status_;
  absl::string_view text;
  uint64_t line;
  if (!cursor_.Next(&text, &line)) return false;
  const absl::Status s =
      harness_
          ? ParseHarnessPrediction(dom_parser_, text, *harness_, &out->id, &out->prediction)
          : extractor_->Extract(parser_, cursor_.Padded(text), &out->id, &out->prediction, nullptr);
  if (!s.ok()) {
    status_ = absl::InvalidArgumentError(absl::StrCat(display_name_, ":", line, ": ", s.message()));
    return status_;
  }
  out->line = line;
  ++rows_;
  return true;
}

}  // namespace emar
