#include "eval/metrics/bleu_scorer.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "eval/metrics/ngram_keys.h"
#include "eval/metrics/per_example_mean.h"
#include "eval/metrics/tokenizer_13a.h"
#include "eval/metrics/tokenizer_intl.h"
#include "eval/metrics/tokenizer_zh.h"
#include "eval/metrics/unicode_text.h"

namespace emar {
namespace {

// Per-thread buffers: a segment is scored without allocating once these have grown.
struct BleuScratch {
  Tokenizer13a tokenizer;
  std::string zh_scratch;
  // Per string, [0] hypothesis, [1..] references: the lower-cased text (only with
  // options.lowercase), the tokenizer's buffer and the tokens, views into either or the input.
  std::vector<std::string> lowered;
  std::vector<std::string> tokenized;
  std::vector<std::vector<absl::string_view>> words;
  TokenInterner<absl::string_view> interner;
  std::vector<std::vector<uint32_t>> ids;  // per string, token ids
  NgramKeyer keyer;
  std::vector<NgramSet> sets;  // per string
  std::vector<uint64_t> hyp_keys, ref_keys;
  std::vector<uint64_t> run_keys;   // distinct hypothesis n-grams
  std::vector<double> run_counts;   // their counts
  std::vector<double> run_max_ref;  // max count over references
  std::vector<size_t> overlaps;     // per order, single-reference path
};

// sacrebleu's preprocessing: optional lower(), rstrip(), then the tokenizer. String k's tokens
// go to s->words[k], views into `text`, s->lowered[k] or s->tokenized[k].
void Tokenize(absl::string_view text, const BleuOptions& o, size_t k, BleuScratch* s) {
  if (o.lowercase) {
    PythonLower(text, &s->lowered[k]);
    text = s->lowered[k];
  }
  text = PythonRStrip(text);
  std::vector<absl::string_view>& words = s->words[k];
  switch (o.tokenize) {
    case BleuOptions::Tokenize::k13a:
      s->tokenizer.TokenizeToWords(text, &s->tokenized[k], &words);
      break;
    case BleuOptions::Tokenize::kNone:
      PythonSplit(text, &words);
      break;
    case BleuOptions::Tokenize::kZh:
      TokenizeZh(text, &s->tokenized[k], &s->zh_scratch);
      PythonSplit(s->tokenized[k], &words);
      break;
    case BleuOptions::Tokenize::kIntl:
      TokenizeIntl(text, &s->tokenized[k]);
      PythonSplit(s->tokenized[k], &words);
      break;
    case BleuOptions::Tokenize::kChar: {
      // " ".join(line).split(): every code point that is not whitespace is a token.
      words.clear();
      size_t pos = 0;
      while (pos < text.size()) {
        const size_t start = pos;
        if (!IsPythonSpace(NextCodePoint(text, &pos)))
          words.push_back(text.substr(start, pos - start));
      }
      break;
    }
  }
}

// Σ over distinct keys of `ref` that are hypothesis runs: raises run_max_ref to the ref count.
void UpdateMaxRefCounts(const std::vector<uint64_t>& ref, BleuScratch* s) {
  size_t r = 0;
  for (size_t k = 0; k < s->run_keys.size(); ++k) {
    while (r < ref.size() && ref[r] < s->run_keys[k]) ++r;
    size_t count = 0;
    while (r < ref.size() && ref[r] == s->run_keys[k]) ++r, ++count;
    s->run_max_ref[k] = std::max(s->run_max_ref[k], static_cast<double>(count));
  }
}

}  // namespace

void BleuSegmentStatistics(absl::string_view hypothesis, absl::Span<const std::string> references,
                           const BleuOptions& options, absl::Span<double> stats) {
  thread_local BleuScratch scratch;
  BleuScratch* s = &scratch;
  const size_t num = 1 + references.size();
  if (s->tokenized.size() < num) {
    s->tokenized.resize(num);
    s->lowered.resize(num);
    s->words.resize(num);
  }
  if (s->ids.size() < num) s->ids.resize(num);
  Tokenize(hypothesis, options, 0, s);
  for (size_t r = 0; r < references.size(); ++r) Tokenize(references[r], options, r + 1, s);
  s->interner.Clear();
  for (size_t k = 0; k < num; ++k) {
    s->ids[k].clear();
    for (absl::string_view w : s->words[k]) s->ids[k].push_back(s->interner.Id(w));
  }
  const int max_order = options.max_order;
  s->keyer.Reset(s->interner.size(), max_order);
  if (s->sets.size() < num) s->sets.resize(num);
  for (size_t k = 0; k < num; ++k) s->keyer.Index(s->ids[k], &s->sets[k]);

  const double hyp_len = static_cast<double>(s->ids[0].size());
  // Closest reference length; on a tie the shorter one.
  double closest_len = -1;
  double closest_diff = 0;
  for (size_t r = 1; r < num; ++r) {
    const double len = static_cast<double>(s->ids[r].size());
    const double diff = std::fabs(len - hyp_len);
    if (closest_len < 0 || diff < closest_diff || (diff == closest_diff && len < closest_len)) {
      closest_len = len;
      closest_diff = diff;
    }
  }
  stats[0] = hyp_len;
  stats[1] = closest_len < 0 ? 0 : closest_len;
  if (num == 2 && s->keyer.packed()) {
    // One reference: the clipped count Σ min(hyp count, ref count) is the multiset overlap.
    const size_t len = s->ids[0].size();
    if (s->overlaps.size() < static_cast<size_t>(max_order)) s->overlaps.resize(max_order);
    PackedOverlapAllOrders(s->sets[0], s->sets[1], max_order, s->keyer.bits(),
                           absl::MakeSpan(s->overlaps.data(), max_order));
    for (int n = 1; n <= max_order; ++n) {
      const size_t order = static_cast<size_t>(n);
      stats[2 + (n - 1)] = static_cast<double>(s->overlaps[n - 1]);
      stats[2 + max_order + (n - 1)] = static_cast<double>(len >= order ? len - order + 1 : 0);
    }
    return;
  }
  for (int n = 1; n <= max_order; ++n) {
    s->keyer.Keys(s->sets[0], n, &s->hyp_keys);
    s->run_keys.clear();
    s->run_counts.clear();
    for (uint64_t key : s->hyp_keys) {
      if (s->run_keys.empty() || s->run_keys.back() != key) {
        s->run_keys.push_back(key);
        s->run_counts.push_back(0);
      }
      s->run_counts.back() += 1;
    }
    s->run_max_ref.assign(s->run_keys.size(), 0);
    for (size_t r = 1; r < num; ++r) {
      s->keyer.Keys(s->sets[r], n, &s->ref_keys);
      UpdateMaxRefCounts(s->ref_keys, s);
    }
    double correct = 0;
    for (size_t k = 0; k < s->run_keys.size(); ++k) {
      correct += std::min(s->run_counts[k], s->run_max_ref[k]);
    }
    stats[2 + (n - 1)] = correct;
    stats[2 + max_order + (n - 1)] = static_cast<double>(s->hyp_keys.size());
  }
}

BleuScore ComputeBleu(absl::Span<const double> stats, const BleuOptions& options) {
  const int max_order = options.max_order;
  const double sys_len = stats[0];
  const double ref_len = stats[1];
  BleuScore result;
  result.precisions.assign(max_order, 0.0);
  result.bp = sys_len < ref_len ? (sys_len > 0 ? std::exp(1 - ref_len / sys_len) : 0.0) : 1.0;
  bool any_correct = false;
  for (int n = 0; n < max_order; ++n) any_correct |= stats[2 + n] != 0;
  if (!any_correct) return result;

  double smooth_value = options.smooth_value;
  if (smooth_value < 0) smooth_value = options.smooth == BleuOptions::Smooth::kAddK ? 1.0 : 0.1;
  double smooth_mteval = 1;
  int effective = max_order;
  for (int n = 1; n <= max_order; ++n) {
    double correct = stats[2 + n - 1];
    double total = stats[2 + max_order + n - 1];
    if (options.smooth == BleuOptions::Smooth::kAddK && n > 1) {
      correct += smooth_value;
      total += smooth_value;
    }
    if (total == 0) break;
    if (options.effective_order) effective = n;
    double& p = result.precisions[n - 1];
    if (correct == 0) {
      if (options.smooth == BleuOptions::Smooth::kExp) {
        smooth_mteval *= 2;
        p = 1.0 / (smooth_mteval * total);
      } else if (options.smooth == BleuOptions::Smooth::kFloor) {
        p = smooth_value / total;
      }
    } else {
      p = correct / total;
    }
  }
  // sacrebleu's my_log: log(0) is -9999999999, so an unsmoothed zero precision gives 0.
  double log_sum = 0;
  for (int n = 0; n < effective; ++n) {
    const double p = result.precisions[n];
    log_sum += p == 0 ? -9999999999.0 : std::log(p);
  }
  result.score = result.bp * std::exp(log_sum / effective);
  return result;
}

std::string BleuSignature(const BleuOptions& o, const ReferenceCounts& refs) {
  absl::string_view tok = "13a";
  switch (o.tokenize) {
    case BleuOptions::Tokenize::k13a:
      break;
    case BleuOptions::Tokenize::kNone:
      tok = "none";
      break;
    case BleuOptions::Tokenize::kChar:
      tok = "char";
      break;
    case BleuOptions::Tokenize::kZh:
      tok = "zh";
      break;
    case BleuOptions::Tokenize::kIntl:
      tok = "intl";
      break;
  }
  std::string smooth;
  switch (o.smooth) {
    case BleuOptions::Smooth::kExp:
      smooth = "exp";
      break;
    case BleuOptions::Smooth::kNone:
      smooth = "none";
      break;
    case BleuOptions::Smooth::kFloor:
      smooth = absl::StrFormat("floor[%.2f]", o.smooth_value < 0 ? 0.1 : o.smooth_value);
      break;
    case BleuOptions::Smooth::kAddK:
      smooth = absl::StrFormat("add-k[%.2f]", o.smooth_value < 0 ? 1.0 : o.smooth_value);
      break;
  }
  return absl::StrCat("nrefs:", refs.nrefs(), "|case:", o.lowercase ? "lc" : "mixed",
                      "|eff:", o.effective_order ? "yes" : "no", "|tok:", tok, "|smooth:", smooth,
                      "|version:", kSacrebleuVersion);
}

absl::Status BleuMetric::ScoreExample(const Prediction& prediction, const Reference& reference,
                                      LabelTable* labels, absl::Span<double> row) const {
  RETURN_IF_ERROR(RequireReferences(reference));
  BleuSegmentStatistics(prediction.text, reference.texts, options_, row);
  return absl::OkStatus();
}

MetricValue BleuMetric::Finalize(absl::Span<const double> acc, size_t num_labels, double n) const {
  if (!(n > 0)) return MetricValue::Undefined("no examples");
  return MetricValue::Of(ComputeBleu(acc, options_).score);
}

}  // namespace emar
