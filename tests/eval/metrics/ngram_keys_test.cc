#include "eval/metrics/ngram_keys.h"

#include <map>
#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

// Σ min counts of the order-n n-grams of a and b, by brute force over token vectors.
size_t BruteOverlap(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b, int n) {
  std::map<std::vector<uint32_t>, int> ca, cb;
  for (size_t i = 0; i + n <= a.size(); ++i) ca[{a.begin() + i, a.begin() + i + n}]++;
  for (size_t i = 0; i + n <= b.size(); ++i) cb[{b.begin() + i, b.begin() + i + n}]++;
  size_t overlap = 0;
  for (const auto& [g, c] : ca) {
    auto it = cb.find(g);
    if (it != cb.end()) overlap += std::min(c, it->second);
  }
  return overlap;
}

void CheckRandom(uint32_t vocab, int max_order, size_t max_len, int rounds) {
  std::mt19937 rng(7);
  NgramKeyer keyer;
  for (int round = 0; round < rounds; ++round) {
    std::vector<uint32_t> a(rng() % max_len), b(rng() % max_len);
    for (auto& t : a) t = rng() % vocab;
    for (auto& t : b) t = rng() % vocab;
    keyer.Reset(vocab, max_order);
    NgramSet sa, sb;
    keyer.Index(a, &sa);
    keyer.Index(b, &sb);
    std::vector<uint64_t> ka, kb, sorted_a, sorted_b;
    for (int n = 1; n <= max_order; ++n) {
      keyer.Keys(sa, n, &ka);
      keyer.Keys(sb, n, &kb);
      ASSERT_TRUE(std::is_sorted(ka.begin(), ka.end()));
      ASSERT_EQ(ka.size(), a.size() >= size_t(n) ? a.size() - n + 1 : 0);
      const size_t expected = BruteOverlap(a, b, n);
      ASSERT_EQ(MultisetOverlap(ka, kb), expected) << "order " << n << " round " << round;
      keyer.SortedKeys(a, n, &sorted_a);
      keyer.SortedKeys(b, n, &sorted_b);
      ASSERT_EQ(MultisetOverlap(sorted_a, sorted_b), expected);
    }
  }
}

TEST(NgramKeyerTest, PackedKeysAreExact) { CheckRandom(5, 6, 40, 300); }

TEST(NgramKeyerTest, InternedKeysAreExact) {
  // 2^20 ids need 21 bits; 4 × 21 > 64 forces the interned path.
  CheckRandom(1u << 20, 4, 30, 50);
  CheckRandom(3, 4, 30, 0);
  NgramKeyer keyer;
  keyer.Reset(1u << 20, 4);
  std::vector<uint32_t> a = {1, 2, 3, 1, 2, 3, 1000000}, b = {2, 3, 1, 2, 1000000};
  NgramSet sa, sb;
  keyer.Index(a, &sa);
  keyer.Index(b, &sb);
  std::vector<uint64_t> ka, kb;
  keyer.Keys(sa, 3, &ka);
  keyer.Keys(sb, 3, &kb);
  EXPECT_EQ(MultisetOverlap(ka, kb), 2u);  // "2 3 1" and "3 1 2"
}

TEST(TokenInternerTest, DenseFirstSeenIds) {
  TokenInterner<absl::string_view> t;
  EXPECT_EQ(t.Id("b"), 0u);
  EXPECT_EQ(t.Id("a"), 1u);
  EXPECT_EQ(t.Id("b"), 0u);
  EXPECT_EQ(t.size(), 2u);
  t.Clear();
  EXPECT_EQ(t.Id("a"), 0u);
}

TEST(MultisetOverlapTest, CountsMinimumMultiplicity) {
  EXPECT_EQ(
      MultisetOverlap(std::vector<uint64_t>{1, 1, 2, 5}, std::vector<uint64_t>{1, 2, 2, 5, 5}), 3u);
  EXPECT_EQ(MultisetOverlap(std::vector<uint64_t>{}, std::vector<uint64_t>{1}), 0u);
}

}  // namespace
}  // namespace emar
