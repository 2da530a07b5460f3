#include "eval/metrics/metric.h"

#include "absl/strings/numbers.h"

namespace emar {

absl::string_view DirectionName(Direction d) {
  return d == Direction::kHigherIsBetter ? "higher_is_better" : "lower_is_better";
}

uint32_t LabelTable::Intern(absl::string_view label) {
  auto it = ids_.find(label);
  if (it != ids_.end()) return it->second;
  const uint32_t id = static_cast<uint32_t>(labels_.size());
  labels_.emplace_back(label);
  ids_.emplace(labels_.back(), id);
  return id;
}

void ReferenceCounts::Add(size_t count) {
  if (state_ == State::kEmpty) {
    state_ = State::kUniform;
    count_ = count;
  } else if (state_ == State::kUniform && count != count_) {
    state_ = State::kVariable;
  }
}

void ReferenceCounts::Merge(const ReferenceCounts& other) {
  if (other.state_ == State::kEmpty) return;
  if (other.state_ == State::kVariable) {
    state_ = State::kVariable;
    return;
  }
  Add(other.count_);
}

void ReferenceCounts::MergeNrefs(absl::string_view nrefs) {
  size_t count = 0;
  if (absl::SimpleAtoi(nrefs, &count)) {
    Add(count);
  } else {
    state_ = State::kVariable;
  }
}

std::string ReferenceCounts::nrefs() const {
  return state_ == State::kUniform ? std::to_string(count_) : "var";
}

}  // namespace emar
