#include "eval/metrics/chrf_scorer.h"

#include <array>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "eval/metrics/bleu_scorer.h"
#include "eval/metrics/ngram_keys.h"
#include "eval/metrics/per_example_mean.h"
#include "eval/metrics/unicode_text.h"

namespace emar {
namespace {

// Per-thread buffers, reused across segments.
struct ChrfScratch {
  std::string lowered;
  std::array<int32_t, 128> ascii_ids;                 // -1 = not seen in this segment
  absl::flat_hash_map<char32_t, uint32_t> other_ids;  // non-ASCII code points
  std::vector<std::vector<uint32_t>> chars;           // [0] hypothesis, [1..] references
  NgramKeyer keyer;
  NgramSet hyp_set, ref_set;
  std::vector<std::vector<uint64_t>> hyp_keys;  // per order
  std::vector<uint64_t> ref_keys;
  std::vector<double> candidate;
  std::vector<size_t> overlaps;  // per order
  // chrF++ words: per string the lower-cased text, its words and their ids; per order the
  // hypothesis keys.
  std::vector<std::string> word_text;
  std::vector<std::vector<absl::string_view>> words;
  std::vector<std::vector<uint32_t>> word_ids;
  TokenInterner<absl::string_view> word_interner;
  NgramKeyer word_keyer;
  std::vector<std::vector<uint64_t>> hyp_word_keys;
  std::vector<uint64_t> ref_word_keys;
};

bool IsAsciiPunct(char c) {
  return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
         (c >= '{' && c <= '~');
}

// sacrebleu's CHRF._remove_punctuation of `text` into *words (views into `text`).
void ChrfWords(absl::string_view text, std::vector<absl::string_view>* words) {
  thread_local std::vector<absl::string_view> split;
  PythonSplit(text, &split);
  words->clear();
  for (absl::string_view w : split) {
    size_t pos = 0;
    NextCodePoint(w, &pos);
    const bool one_character = pos == w.size();  // kept whole
    if (!one_character && IsAsciiPunct(w.back())) {
      words->push_back(w.substr(0, w.size() - 1));
      words->push_back(w.substr(w.size() - 1));
    } else if (!one_character && IsAsciiPunct(w.front())) {
      words->push_back(w.substr(0, 1));
      words->push_back(w.substr(1));
    } else {
      words->push_back(w);
    }
  }
}

// Word ids of the hypothesis and every reference, and the hypothesis' keys per word order.
void IndexWords(absl::string_view hypothesis, absl::Span<const std::string> references,
                const ChrfOptions& o, ChrfScratch* s) {
  const size_t num = 1 + references.size();
  if (s->word_text.size() < num) {
    s->word_text.resize(num);
    s->words.resize(num);
    s->word_ids.resize(num);
  }
  s->word_interner.Clear();
  for (size_t k = 0; k < num; ++k) {
    absl::string_view text = k == 0 ? hypothesis : absl::string_view(references[k - 1]);
    if (o.lowercase) {
      PythonLower(text, &s->word_text[k]);
      text = s->word_text[k];
    }
    ChrfWords(text, &s->words[k]);
    s->word_ids[k].clear();
    for (absl::string_view w : s->words[k]) s->word_ids[k].push_back(s->word_interner.Id(w));
  }
  s->word_keyer.Reset(s->word_interner.size(), o.word_order);
  if (s->hyp_word_keys.size() < static_cast<size_t>(o.word_order)) {
    s->hyp_word_keys.resize(o.word_order);
  }
  for (int n = 1; n <= o.word_order; ++n) {
    s->word_keyer.SortedKeys(s->word_ids[0], n, &s->hyp_word_keys[n - 1]);
  }
}

// The word-order statistics of the hypothesis against reference `r` (1-based) into `out`.
void WordStats(size_t r, const ChrfOptions& o, ChrfScratch* s, absl::Span<double> out) {
  for (int n = 1; n <= o.word_order; ++n) {
    s->word_keyer.SortedKeys(s->word_ids[r], n, &s->ref_word_keys);
    const std::vector<uint64_t>& hyp = s->hyp_word_keys[n - 1];
    const double ref_count = static_cast<double>(s->ref_word_keys.size());
    const size_t i = 3 * static_cast<size_t>(n - 1);
    out[i] = ref_count > 0 ? static_cast<double>(hyp.size()) : 0.0;
    out[i + 1] = ref_count;
    out[i + 2] = static_cast<double>(MultisetOverlap(hyp, s->ref_word_keys));
  }
}

// Code points of `text` (optionally lower-cased, whitespace removed unless kept) as ids that are
// dense within the segment (one counter, *next_id): ASCII through a table, the rest through a
// hash map.
void CharIds(absl::string_view text, const ChrfOptions& o, ChrfScratch* s,
             std::vector<uint32_t>* ids, uint32_t* next_id) {
  if (o.lowercase) {
    PythonLower(text, &s->lowered);
    text = s->lowered;
  }
  ids->clear();
  size_t pos = 0;
  while (pos < text.size()) {
    const char32_t cp = NextCodePoint(text, &pos);
    if (!o.whitespace && IsPythonSpace(cp)) continue;
    if (cp < 128) {
      int32_t& id = s->ascii_ids[cp];
      if (id < 0) id = static_cast<int32_t>((*next_id)++);
      ids->push_back(static_cast<uint32_t>(id));
    } else {
      auto [it, inserted] = s->other_ids.try_emplace(cp, *next_id);
      if (inserted) (*next_id)++;
      ids->push_back(it->second);
    }
  }
}

}  // namespace

void ChrfSegmentStatistics(absl::string_view hypothesis, absl::Span<const std::string> references,
                           const ChrfOptions& options, absl::Span<double> stats) {
  thread_local ChrfScratch scratch;
  ChrfScratch* s = &scratch;
  const size_t num = 1 + references.size();
  const int order = options.char_order;
  if (s->chars.size() < num) s->chars.resize(num);
  if (s->hyp_keys.size() < static_cast<size_t>(order)) s->hyp_keys.resize(order);
  s->ascii_ids.fill(-1);
  s->other_ids.clear();
  uint32_t next_id = 0;
  CharIds(hypothesis, options, s, &s->chars[0], &next_id);
  for (size_t r = 0; r < references.size(); ++r) {
    CharIds(references[r], options, s, &s->chars[r + 1], &next_id);
  }
  s->keyer.Reset(next_id, order);
  s->keyer.Index(s->chars[0], &s->hyp_set);
  const bool packed = s->keyer.packed();
  if (!packed) {
    for (int n = 1; n <= order; ++n) s->keyer.Keys(s->hyp_set, n, &s->hyp_keys[n - 1]);
  }
  if (s->overlaps.size() < static_cast<size_t>(order)) s->overlaps.resize(order);
  if (options.word_order > 0) IndexWords(hypothesis, references, options, s);

  double best_score = -1;
  s->candidate.assign(stats.size(), 0);
  for (size_t r = 1; r < num; ++r) {
    s->keyer.Index(s->chars[r], &s->ref_set);
    if (packed) {
      // All orders in one merge; n-gram totals follow from the lengths.
      PackedOverlapAllOrders(s->hyp_set, s->ref_set, order, s->keyer.bits(),
                             absl::MakeSpan(s->overlaps.data(), order));
      const size_t hyp_len = s->chars[0].size(), ref_len = s->chars[r].size();
      for (int n = 1; n <= order; ++n) {
        const size_t k = static_cast<size_t>(n);
        const double ref_count = static_cast<double>(ref_len >= k ? ref_len - k + 1 : 0);
        const double hyp_count = static_cast<double>(hyp_len >= k ? hyp_len - k + 1 : 0);
        const size_t i = 3 * (k - 1);
        s->candidate[i] = ref_count > 0 ? hyp_count : 0.0;
        s->candidate[i + 1] = ref_count;
        s->candidate[i + 2] = static_cast<double>(s->overlaps[n - 1]);
      }
    }
    for (int n = 1; n <= order && !packed; ++n) {
      s->keyer.Keys(s->ref_set, n, &s->ref_keys);
      const std::vector<uint64_t>& hyp = s->hyp_keys[n - 1];
      const double ref_count = static_cast<double>(s->ref_keys.size());
      const size_t i = 3 * static_cast<size_t>(n - 1);
      s->candidate[i] = ref_count > 0 ? static_cast<double>(hyp.size()) : 0.0;
      s->candidate[i + 1] = ref_count;
      s->candidate[i + 2] = static_cast<double>(MultisetOverlap(hyp, s->ref_keys));
    }
    if (options.word_order > 0) {
      WordStats(r, options, s,
                absl::MakeSpan(s->candidate).subspan(3 * static_cast<size_t>(order)));
    }
    const double score = ChrfScore(s->candidate, options);
    if (score > best_score) {
      best_score = score;
      std::copy(s->candidate.begin(), s->candidate.end(), stats.begin());
    }
  }
}

double ChrfScore(absl::Span<const double> stats, const ChrfOptions& options) {
  constexpr double kEps = 1e-16;
  const double factor = options.beta * options.beta;
  double eps_score = 0, avg_precision = 0, avg_recall = 0;
  int effective_order = 0;
  const int orders = options.char_order + options.word_order;
  for (int n = 0; n < orders; ++n) {
    const size_t i = 3 * static_cast<size_t>(n);
    const double hyp = stats[i], ref = stats[i + 1], match = stats[i + 2];
    const double precision = hyp > 0 ? match / hyp : kEps;
    const double recall = ref > 0 ? match / ref : kEps;
    const double denom = factor * precision + recall;
    eps_score += denom > 0 ? (1 + factor) * precision * recall / denom : kEps;
    if (hyp > 0 && ref > 0) {
      avg_precision += precision;
      avg_recall += recall;
      ++effective_order;
    }
  }
  if (options.eps_smoothing) return eps_score / orders;
  if (effective_order == 0) return 0.0;
  avg_precision /= effective_order;
  avg_recall /= effective_order;
  if (avg_precision + avg_recall == 0) return 0.0;
  return (1 + factor) * avg_precision * avg_recall / (factor * avg_precision + avg_recall);
}

std::string ChrfSignature(const ChrfOptions& o, const ReferenceCounts& refs) {
  return absl::StrCat("nrefs:", refs.nrefs(), "|case:", o.lowercase ? "lc" : "mixed",
                      "|eff:", o.eps_smoothing ? "no" : "yes", "|nc:", o.char_order,
                      "|nw:", o.word_order, "|space:", o.whitespace ? "yes" : "no",
                      "|version:", kSacrebleuVersion);
}

absl::Status ChrfMetric::ScoreExample(const Prediction& prediction, const Reference& reference,
                                      LabelTable* labels, absl::Span<double> row) const {
  RETURN_IF_ERROR(RequireReferences(reference));
  ChrfSegmentStatistics(prediction.text, reference.texts, options_, row);
  return absl::OkStatus();
}

MetricValue ChrfMetric::Finalize(absl::Span<const double> acc, size_t num_labels, double n) const {
  if (!(n > 0)) return MetricValue::Undefined("no examples");
  return MetricValue::Of(ChrfScore(acc, options_));
}

}  // namespace emar
