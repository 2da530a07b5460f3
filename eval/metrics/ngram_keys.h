// Exact n-gram multisets as sorted integer keys, shared by BLEU, chrF and ROUGE. Callers map each
// token (word or code point) of an example to a dense id; NgramKeyer turns every n-gram into a
// uint64 key that is equal exactly when the n-grams are equal, and the sorted key vectors are
// intersected by merging. No strings are hashed per n-gram, and all buffers are reused.
//
//   TokenInterner<absl::string_view> words;   // one example's vocabulary
//   std::vector<uint32_t> hyp = {words.Id("the"), words.Id("cat")}, ref = ...;
//   NgramKeyer keyer;
//   keyer.Reset(words.size(), /*max_order=*/4);
//   std::vector<uint64_t> h, r;
//   keyer.SortedKeys(hyp, /*n=*/2, &h);
//   keyer.SortedKeys(ref, 2, &r);
//   size_t matches = MultisetOverlap(h, r);   // Σ over n-grams of min(count in h, count in r)
//
// Not thread-safe; use one per thread.
#ifndef EMAR_EVAL_METRICS_NGRAM_KEYS_H_
#define EMAR_EVAL_METRICS_NGRAM_KEYS_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace emar {

// Dense ids for the distinct tokens of one example, in first-seen order.
template <typename Token>
class TokenInterner {
 public:
  void Clear() { ids_.clear(); }
  uint32_t Id(const Token& t) {
    auto [it, inserted] = ids_.try_emplace(t, static_cast<uint32_t>(ids_.size()));
    return it->second;
  }
  size_t size() const { return ids_.size(); }

 private:
  absl::flat_hash_map<Token, uint32_t> ids_;
};

// Words (views; the caller keeps the text alive until Clear) get the same dense first-seen ids
// through a small open-addressing table: one example holds a few dozen distinct words, Clear is
// O(1) (a generation counter) and a lookup hashes at most a few 8-byte loads.
template <>
class TokenInterner<absl::string_view> {
 public:
  void Clear() {
    words_.clear();
    if (++generation_ == 0) {  // wrapped: stale slots could match generation 0
      std::fill(slots_.begin(), slots_.end(), Slot{});
      generation_ = 1;
    }
  }
  uint32_t Id(absl::string_view word) {
    if (2 * (words_.size() + 1) > slots_.size()) Grow();
    const uint64_t mask = slots_.size() - 1;
    for (uint64_t i = Hash(word) & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.generation != generation_) {
        slot = Slot{generation_, static_cast<uint32_t>(words_.size())};
        words_.push_back(word);
        return slot.id;
      }
      if (words_[slot.id] == word) return slot.id;
    }
  }
  size_t size() const { return words_.size(); }

 private:
  struct Slot {
    uint32_t generation = 0;
    uint32_t id = 0;
  };
  static uint64_t Hash(absl::string_view w) {
    uint64_t h = w.size() * 0x9E3779B97F4A7C15ull;
    size_t i = 0;
    for (; i + 8 <= w.size(); i += 8) {
      uint64_t chunk;
      std::memcpy(&chunk, w.data() + i, 8);
      h = (h ^ chunk) * 0xBF58476D1CE4E5B9ull;
    }
    uint64_t tail = 0;
    std::memcpy(&tail, w.data() + i, w.size() - i);
    h = (h ^ tail) * 0x94D049BB133111EBull;
    return h ^ (h >> 29);
  }
  void Grow() {
    std::vector<Slot> old_slots;
    old_slots.swap(slots_);
    slots_.assign(old_slots.empty() ? 128 : 2 * old_slots.size(), Slot{});
    const uint64_t mask = slots_.size() - 1;
    for (uint32_t id = 0; id < words_.size(); ++id) {
      uint64_t i = Hash(words_[id]) & mask;
      while (slots_[i].generation == generation_) i = (i + 1) & mask;
      slots_[i] = Slot{generation_, id};
    }
  }

  std::vector<Slot> slots_;
  std::vector<absl::string_view> words_;
  uint32_t generation_ = 1;
};

// The n-grams of one token sequence, indexed once for every order up to max_order.
struct NgramSet {
  std::vector<uint64_t> sorted;  // packed: padded max_order-gram keys per position, sorted
  std::vector<uint32_t> tokens;  // unpacked: the tokens, keyed per order on demand
};

class NgramKeyer {
 public:
  // Starts a new example whose token ids are all < vocab_size and whose n-grams have order
  // ≤ max_order. Keys from before a Reset are not comparable with keys after it.
  void Reset(size_t vocab_size, int max_order);
  // Replaces *keys with the sorted keys of the order-n n-grams of `tokens` (none when
  // tokens.size() < n).
  void SortedKeys(absl::Span<const uint32_t> tokens, int n, std::vector<uint64_t>* keys);

  // For several orders of one sequence (keys from Keys compare only with keys from Keys): Index
  // sorts once, Keys then yields the sorted keys of each order n ≤ max_order in linear time (equal
  // to SortedKeys(tokens, n)). Sorting positions by their zero-padded max_order-gram orders every
  // shorter prefix too; the padding (ids are stored +1, 0 = past the end) marks positions too close
  // to the end for order n.
  void Index(absl::Span<const uint32_t> tokens, NgramSet* set);
  void Keys(const NgramSet& set, int n, std::vector<uint64_t>* keys);
  // Whether Index packs (every NgramSet from this Reset has `sorted` filled) and with how many
  // bits per token, for PackedOverlap.
  bool packed() const { return packed_; }
  int bits() const { return bits_; }

 private:
  // Packing: ids take `bits_` bits each and an n-gram is its ids concatenated, when
  // bits_ * max_order fits in 64 bits (always, for sentences). Otherwise n-grams get dense ids
  // by interning (prefix id, last token) pairs.
  bool packed_ = true;
  int bits_ = 1;
  int max_order_ = 1;
  absl::flat_hash_map<std::pair<uint64_t, uint32_t>, uint64_t> pair_ids_;
  std::vector<uint64_t> prefix_;
};

// Σ over distinct keys of min(count in a, count in b); both sorted ascending.
size_t MultisetOverlap(absl::Span<const uint64_t> a, absl::Span<const uint64_t> b);

// MultisetOverlap(Keys(a, n), Keys(b, n)) for two packed NgramSets from the same Reset, without
// materializing the keys. Precondition: both sets were indexed while packed.
size_t PackedOverlap(const NgramSet& a, const NgramSet& b, int n, int max_order, int bits);

// PackedOverlap for every order n = 1..max_order at once, into overlaps[n - 1], in a single merge
// of the two sorted key arrays: n-grams equal up to order n are adjacent, so each order's groups
// are runs of keys sharing their first n tokens.
void PackedOverlapAllOrders(const NgramSet& a, const NgramSet& b, int max_order, int bits,
                            absl::Span<size_t> overlaps);

}  // namespace emar

#endif  // EMAR_EVAL_METRICS_NGRAM_KEYS_H_
