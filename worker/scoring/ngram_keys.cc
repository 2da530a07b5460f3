#include "worker/scoring/ngram_keys.h"

#include <algorithm>

namespace emar {

void NgramKeyer::Reset(size_t vocab_size, int max_order) {
  bits_ = 1;
  while (bits_ < 64 && (uint64_t{1} << bits_) <= vocab_size) ++bits_;
  packed_ = static_cast<uint64_t>(bits_) * static_cast<uint64_t>(max_order) <= 64;
  if (!packed_) pair_ids_.clear();
}

void NgramKeyer::SortedKeys(absl::Span<const uint32_t> tokens, int n,
                            std::vector<uint64_t>* keys) {
  keys->clear();
  const size_t order = static_cast<size_t>(n);
  if (tokens.size() < order) return;
  const size_t count = tokens.size() - order + 1;
  keys->reserve(count);
  if (packed_) {
    for (size_t i = 0; i < count; ++i) {
      uint64_t key = 0;
      for (size_t k = 0; k < order; ++k) key = (key << bits_) | tokens[i + k];
      keys->push_back(key);
    }
  } else {
    // Ids of n-grams built left to right: id(w1..wk) = intern(id(w1..wk-1), wk), where the
    // empty prefix is kRoot (never an assigned id). Ids count from 0 per Reset.
    constexpr uint64_t kRoot = ~uint64_t{0};
    prefix_.assign(count, kRoot);
    for (size_t k = 0; k < order; ++k) {
      for (size_t i = 0; i < count; ++i) {
        auto [it, inserted] =
            pair_ids_.try_emplace(std::make_pair(prefix_[i], tokens[i + k]), pair_ids_.size());
        prefix_[i] = it->second;
      }
    }
    keys->assign(prefix_.begin(), prefix_.end());
  }
  std::sort(keys->begin(), keys->end());
}

size_t MultisetOverlap(absl::Span<const uint64_t> a, absl::Span<const uint64_t> b) {
  size_t overlap = 0;
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] < b[j]) {
      ++i;
    } else if (b[j] < a[i]) {
      ++j;
    } else {
      ++overlap, ++i, ++j;
    }
  }
  return overlap;
}

}  // namespace emar
