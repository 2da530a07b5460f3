#include "eval/metrics/ngram_keys.h"

#include <algorithm>

namespace emar {

void NgramKeyer::Reset(size_t vocab_size, int max_order) {
  // Room for ids 0..vocab_size (Index stores id + 1, with 0 as padding).
  bits_ = 1;
  while (bits_ < 64 && (uint64_t{1} << bits_) <= vocab_size) ++bits_;
  max_order_ = max_order;
  packed_ = static_cast<uint64_t>(bits_) * static_cast<uint64_t>(max_order) <= 64;
  if (!packed_) pair_ids_.clear();
}

void NgramKeyer::SortedKeys(absl::Span<const uint32_t> tokens, int n, std::vector<uint64_t>* keys) {
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

void NgramKeyer::Index(absl::Span<const uint32_t> tokens, NgramSet* set) {
  set->sorted.clear();
  set->tokens.clear();
  if (!packed_) {
    set->tokens.assign(tokens.begin(), tokens.end());
    return;
  }
  const size_t len = tokens.size();
  set->sorted.resize(len);
  // Rolling: key(i) = tokens[i..i+max_order) + 1, zero-padded past the end.
  const uint64_t mask =
      max_order_ * bits_ >= 64 ? ~uint64_t{0} : (uint64_t{1} << (max_order_ * bits_)) - 1;
  uint64_t key = 0;
  for (size_t j = len + max_order_ - 1; j-- > 0;) {
    const uint64_t id = j < len ? uint64_t{tokens[j]} + 1 : 0;
    key = ((key >> bits_) | (id << ((max_order_ - 1) * bits_))) & mask;
    if (j < len) set->sorted[j] = key;
  }
  std::sort(set->sorted.begin(), set->sorted.end());
}

void NgramKeyer::Keys(const NgramSet& set, int n, std::vector<uint64_t>* keys) {
  if (!packed_) {
    SortedKeys(set.tokens, n, keys);
    return;
  }
  keys->clear();
  const int shift = (max_order_ - n) * bits_;
  const uint64_t last_slot = (uint64_t{1} << bits_) - 1;
  for (uint64_t padded : set.sorted) {
    const uint64_t key = padded >> shift;
    if ((key & last_slot) != 0) keys->push_back(key);  // the n-th token exists
  }
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

size_t PackedOverlap(const NgramSet& a, const NgramSet& b, int n, int max_order, int bits) {
  // Keys of order n are the sorted padded keys shifted right; a key whose n-th token is padding
  // (0) belongs to a position too close to the end and is skipped.
  const int shift = (max_order - n) * bits;
  const uint64_t last_slot = (uint64_t{1} << bits) - 1;
  const uint64_t* pa = a.sorted.data();
  const uint64_t* ea = pa + a.sorted.size();
  const uint64_t* pb = b.sorted.data();
  const uint64_t* eb = pb + b.sorted.size();
  size_t overlap = 0;
  while (pa < ea && pb < eb) {
    const uint64_t ka = *pa >> shift;
    const uint64_t kb = *pb >> shift;
    // NOLINTBEGIN(bugprone-branch-clone): a side advances past an empty slot or a smaller key
    if ((ka & last_slot) == 0) {
      ++pa;
    } else if ((kb & last_slot) == 0) {
      ++pb;
    } else if (ka < kb) {
      ++pa;
    } else if (kb < ka) {
      ++pb;
    } else {
      ++overlap, ++pa, ++pb;
    }
    // NOLINTEND(bugprone-branch-clone)
  }
  return overlap;
}

namespace {

// PackedOverlapAllOrders with the order known at compile time (kOrder > 0: the loops unroll and
// the counts live in registers) or not (kOrder == 0: `max_order` is used).
template <int kOrder>
void OverlapAllOrders(const NgramSet& a, const NgramSet& b, int max_order, int bits,
                      size_t* overlaps) {
  constexpr int kMaxOrder = kOrder > 0 ? kOrder : 64;
  const int order = kOrder > 0 ? kOrder : max_order;
  size_t count_a[kMaxOrder + 1] = {}, count_b[kMaxOrder + 1] = {}, sums[kMaxOrder + 1] = {};
  // Keys hold `order` slots of `bits` bits in their low order*bits bits, first token highest; a
  // slot is 0 past the end of the sequence. Divisions by `bits` become tables: tokens shared with
  // the previous key by leading zeros of key ^ prev, padding slots by trailing zeros of key.
  const int unused = 64 - order * bits;
  // Unsigned: every entry is in [0, 64].
  uint8_t shared_by_clz[65], padding_by_ctz[65];
  for (int z = 0; z < 64; ++z) {
    shared_by_clz[z] = static_cast<uint8_t>(z < unused ? 0 : (z - unused) / bits);
    padding_by_ctz[z] = static_cast<uint8_t>(z / bits);
  }
  shared_by_clz[64] = static_cast<uint8_t>(order);   // key == prev
  padding_by_ctz[64] = static_cast<uint8_t>(order);  // key == 0: no n-gram at all
  const uint64_t* const ka = a.sorted.data();
  const uint64_t* const kb = b.sorted.data();
  const size_t na = a.sorted.size(), nb = b.sorted.size();
  if (na == 0 || nb == 0) {  // nothing in common
    for (int n = 1; n <= order; ++n) overlaps[n - 1] = 0;
    return;
  }
  // Before the first key every group is empty, so "ends" there adds nothing.
  uint64_t prev = ka[0] < kb[0] ? ka[0] : kb[0];
  size_t ia = 0, ib = 0;
  for (size_t step = 0; step < na + nb; ++step) {
    // Branch-free merge step: the loads are clamped in range, the choice is a select.
    const uint64_t va = ka[ia < na ? ia : na - 1];
    const uint64_t vb = kb[ib < nb ? ib : nb - 1];
    const bool from_a = ia < na && (ib >= nb || va <= vb);
    const uint64_t key = from_a ? va : vb;
    ia += from_a ? 1 : 0;
    ib += from_a ? 0 : 1;
    const uint64_t diff = key ^ prev;
    const int shared = shared_by_clz[diff == 0 ? 64 : __builtin_clzll(diff)];
    const int valid = order - padding_by_ctz[key == 0 ? 64 : __builtin_ctzll(key)];
    prev = key;
    // Fixed trip count and selects instead of branches: which orders end or count here is
    // data-dependent and would be mispredicted.
    const size_t add_a = from_a ? 1 : 0;
#pragma GCC unroll 8
    for (int n = 1; n <= order; ++n) {
      const bool ends = n > shared;
      const size_t ca = count_a[n], cb = count_b[n];
      sums[n] += ends ? (ca < cb ? ca : cb) : 0;
      const size_t counted = n <= valid ? 1 : 0;
      count_a[n] = (ends ? 0 : ca) + (counted & add_a);
      count_b[n] = (ends ? 0 : cb) + (counted & (add_a ^ 1));
    }
  }
  for (int n = 1; n <= order; ++n) {
    overlaps[n - 1] = sums[n] + (count_a[n] < count_b[n] ? count_a[n] : count_b[n]);
  }
}

}  // namespace

void PackedOverlapAllOrders(const NgramSet& a, const NgramSet& b, int max_order, int bits,
                            absl::Span<size_t> overlaps) {
  switch (max_order) {
    case 4:  // BLEU
      return OverlapAllOrders<4>(a, b, max_order, bits, overlaps.data());
    case 6:  // chrF
      return OverlapAllOrders<6>(a, b, max_order, bits, overlaps.data());
    default:
      return OverlapAllOrders<0>(a, b, max_order, bits, overlaps.data());
  }
}

}  // namespace emar
