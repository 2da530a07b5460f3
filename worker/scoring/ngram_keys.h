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
#ifndef EMAR_WORKER_SCORING_NGRAM_KEYS_H_
#define EMAR_WORKER_SCORING_NGRAM_KEYS_H_

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
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

}  // namespace emar

#endif  // EMAR_WORKER_SCORING_NGRAM_KEYS_H_
