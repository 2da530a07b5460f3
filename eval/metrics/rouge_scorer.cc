#include "eval/metrics/rouge_scorer.h"

#include <algorithm>

#include "absl/container/node_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "eval/metrics/ngram_keys.h"
#include "eval/metrics/porter_stemmer.h"
#include "eval/metrics/unicode_text.h"

namespace emar {
namespace {

// The tokenizer as a byte table: an ASCII letter or digit maps to its lower-case self, every
// other ASCII byte to 0 (a separator); non-ASCII bytes (0x80) need decoding.
struct RougeByteTable {
  char map[256];
  constexpr RougeByteTable() : map() {
    for (int c = 0; c < 256; ++c) {
      char out = 0;
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) out = static_cast<char>(c);
      if (c >= 'A' && c <= 'Z') out = static_cast<char>(c + ('a' - 'A'));
      if (c >= 0x80) out = static_cast<char>(0x80);
      map[c] = out;
    }
  }
};
constexpr RougeByteTable kRougeBytes;

// Calls emit(start, end) for each token of `text`, written lower-cased into *buffer (whose size
// and contents it replaces; it is sized up front and never reallocates while tokenizing, so
// views into it stay valid). Tokens never take more bytes than the text they come from.
// `newline()` is called at each "\n" (a separator), after the token before it was emitted.
template <typename Emit, typename Newline>
void TokenizeInto(absl::string_view text, std::string* buffer, Emit emit, Newline newline) {
  buffer->resize(text.size());
  char* const base = buffer->empty() ? nullptr : &(*buffer)[0];
  char* w = base;
  char* token_start = nullptr;
  auto end_token = [&] {
    if (token_start != nullptr) emit(token_start, w);
    token_start = nullptr;
  };
  size_t pos = 0;
  while (pos < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[pos]);
    if (c == '\n') {
      end_token();
      newline();
      ++pos;
      continue;
    }
    char out = kRougeBytes.map[c];
    bool separator_after = false;
    if (out == static_cast<char>(0x80)) {
      out = 0;
      const char32_t cp = NextCodePoint(text, &pos);
      if (cp == 0x0130) {  // lower() gives "i\u0307"; the combining dot separates
        out = 'i';
        separator_after = true;
      } else if (cp == 0x212A) {  // Kelvin sign
        out = 'k';
      }
    } else {
      ++pos;
    }
    if (out == 0) {
      end_token();
      continue;
    }
    if (token_start == nullptr) token_start = w;
    *w++ = out;
    if (separator_after) end_token();
  }
  end_token();
  buffer->resize(static_cast<size_t>(w - base));
}

struct RougeScratch {
  std::vector<std::string> buffers;  // [0] prediction, [1..] targets
  TokenInterner<absl::string_view> interner;
  std::vector<std::vector<uint32_t>> ids;
  std::vector<std::vector<size_t>> line_ends;  // per string, token count at each line's end
  absl::node_hash_map<std::string, std::string> stems;  // PorterStem cache, stable values
  // rougeLsum
  std::vector<int32_t> counts_ref, counts_cand;  // per token id
  std::vector<uint32_t> table;
  std::vector<char> in_union;
  NgramKeyer keyer;
  std::vector<uint64_t> pred_keys, target_keys;
  std::vector<uint32_t> lcs_row;
  std::vector<uint64_t> lcs_masks;  // per token id, zero between calls
};

RougeScore FromCounts(double overlap, double pred_total, double target_total) {
  RougeScore s;
  s.precision = overlap / std::max(pred_total, 1.0);
  s.recall = overlap / std::max(target_total, 1.0);
  if (s.precision + s.recall > 0) {
    s.fmeasure = 2 * s.precision * s.recall / (s.precision + s.recall);
  }
  return s;
}

size_t LcsLengthTable(absl::Span<const uint32_t> a, absl::Span<const uint32_t> b,
                      std::vector<uint32_t>* row) {
  row->assign(b.size() + 1, 0);
  for (size_t i = 0; i < a.size(); ++i) {
    uint32_t diagonal = 0;  // row[j] of the previous i
    for (size_t j = 0; j < b.size(); ++j) {
      const uint32_t up = (*row)[j + 1];
      (*row)[j + 1] = a[i] == b[j] ? diagonal + 1 : std::max(up, (*row)[j]);
      diagonal = up;
    }
  }
  return (*row)[b.size()];
}

// Length of the longest common subsequence of a and b. When one side has at most 64 tokens it
// is computed bit-parallel (Hyyrö 2004: one 64-bit add per token of the other side, the same
// length as the table); `masks` must have an entry per token id, all zero, and is left so.
size_t LcsLength(absl::Span<const uint32_t> a, absl::Span<const uint32_t> b,
                 std::vector<uint32_t>* row, std::vector<uint64_t>* masks) {
  if (b.size() > 64 && a.size() <= 64) std::swap(a, b);
  if (b.size() > 64 || b.empty() || a.empty()) return LcsLengthTable(a, b, row);
  uint64_t* const m = masks->data();
  for (size_t j = 0; j < b.size(); ++j) m[b[j]] |= uint64_t{1} << j;
  const uint64_t all = b.size() == 64 ? ~uint64_t{0} : (uint64_t{1} << b.size()) - 1;
  uint64_t v = all;
  for (const uint32_t token : a) {
    const uint64_t u = v & m[token];
    v = ((v + u) | (v - u)) & all;
  }
  for (const uint32_t token : b) m[token] = 0;
  return b.size() - static_cast<size_t>(__builtin_popcountll(v));
}

// The token ids of the prediction ([0]) and every target into s->ids, with line ends.
void TokenizeAll(absl::string_view prediction, absl::Span<const std::string> targets,
                 const RougeOptions& options, RougeScratch* s) {
  const size_t num = 1 + targets.size();
  if (s->buffers.size() < num) s->buffers.resize(num);
  if (s->ids.size() < num) s->ids.resize(num);
  if (s->line_ends.size() < num) s->line_ends.resize(num);
  if (s->stems.size() > (1u << 16)) s->stems.clear();  // no views into it are alive here
  s->interner.Clear();
  for (size_t k = 0; k < num; ++k) {
    std::vector<uint32_t>& ids = s->ids[k];
    std::vector<size_t>& ends = s->line_ends[k];
    ids.clear();
    ends.clear();
    TokenizeInto(
        k == 0 ? prediction : absl::string_view(targets[k - 1]), &s->buffers[k],
        [&](const char* begin, const char* end) {
          absl::string_view token(begin, static_cast<size_t>(end - begin));
          if (options.use_stemmer && token.size() > 3) {
            auto [it, inserted] = s->stems.try_emplace(std::string(token));
            if (inserted) it->second = PorterStem(token);
            token = it->second;
          }
          ids.push_back(s->interner.Id(token));
        },
        [&] { ends.push_back(ids.size()); });
    ends.push_back(ids.size());
  }
}

// Marks in s->in_union the positions of `ref` on the LCS with `cand` that rouge-score's
// _backtrack_norec reads out of the full table.
void MarkLcs(absl::Span<const uint32_t> ref, absl::Span<const uint32_t> cand, RougeScratch* s) {
  const size_t cols = cand.size() + 1;
  s->table.assign((ref.size() + 1) * cols, 0);
  uint32_t* t = s->table.data();
  for (size_t i = 1; i <= ref.size(); ++i) {
    for (size_t j = 1; j <= cand.size(); ++j) {
      t[i * cols + j] = ref[i - 1] == cand[j - 1]
                            ? t[(i - 1) * cols + j - 1] + 1
                            : std::max(t[(i - 1) * cols + j], t[i * cols + j - 1]);
    }
  }
  size_t i = ref.size(), j = cand.size();
  while (i > 0 && j > 0) {
    if (ref[i - 1] == cand[j - 1]) {
      s->in_union[i - 1] = 1;
      --i;
      --j;
    } else if (t[i * cols + j - 1] > t[(i - 1) * cols + j]) {
      --j;
    } else {
      --i;
    }
  }
}

// Line `k` of string `string_index` as a span of its token ids.
absl::Span<const uint32_t> Line(const RougeScratch& s, size_t string_index, size_t k) {
  const std::vector<size_t>& ends = s.line_ends[string_index];
  const size_t begin = k == 0 ? 0 : ends[k - 1];
  return absl::MakeConstSpan(s.ids[string_index]).subspan(begin, ends[k] - begin);
}

// rouge-score's _summary_level_lcs of target `ref_index` against the prediction `cand_index`.
RougeScore SummaryLcs(size_t ref_index, size_t cand_index, RougeScratch* s) {
  const double m = static_cast<double>(s->ids[ref_index].size());
  const double n = static_cast<double>(s->ids[cand_index].size());
  if (m == 0 || n == 0) return RougeScore();
  s->counts_ref.assign(s->interner.size(), 0);
  s->counts_cand.assign(s->interner.size(), 0);
  for (uint32_t id : s->ids[ref_index]) ++s->counts_ref[id];
  for (uint32_t id : s->ids[cand_index]) ++s->counts_cand[id];
  double hits = 0;
  for (size_t r = 0; r < s->line_ends[ref_index].size(); ++r) {
    const absl::Span<const uint32_t> ref = Line(*s, ref_index, r);
    s->in_union.assign(ref.size(), 0);
    for (size_t c = 0; c < s->line_ends[cand_index].size(); ++c) {
      MarkLcs(ref, Line(*s, cand_index, c), s);
    }
    for (size_t i = 0; i < ref.size(); ++i) {
      const uint32_t token = ref[i];
      if (s->in_union[i] && s->counts_cand[token] > 0 && s->counts_ref[token] > 0) {
        hits += 1;
        --s->counts_cand[token];
        --s->counts_ref[token];
      }
    }
  }
  return FromCounts(hits, n, m);
}

}  // namespace

std::vector<std::string> RougeTokens(absl::string_view text, const RougeOptions& options) {
  std::string buffer;
  std::vector<std::string> tokens;
  TokenizeInto(
      text, &buffer,
      [&](const char* begin, const char* end) {
        std::string token(begin, end);
        tokens.push_back(options.use_stemmer && token.size() > 3 ? PorterStem(token) : token);
      },
      [] {});
  return tokens;
}

RougeScore ScoreRouge(RougeType type, absl::string_view prediction,
                      absl::Span<const std::string> targets, const RougeOptions& options) {
  thread_local RougeScratch scratch;
  RougeScratch* s = &scratch;
  TokenizeAll(prediction, targets, options, s);
  if (type == RougeType::kRougeLsum) {
    RougeScore best;
    for (size_t t = 1; t <= targets.size(); ++t) {
      const RougeScore score = SummaryLcs(t, 0, s);
      if (t == 1 || score.fmeasure > best.fmeasure) best = score;
    }
    return best;
  }
  const int n = type == RougeType::kRouge2 ? 2 : 1;
  s->keyer.Reset(s->interner.size(), n);
  if (type != RougeType::kRougeL) s->keyer.SortedKeys(s->ids[0], n, &s->pred_keys);

  RougeScore best;
  bool have_best = false;
  for (size_t t = 1; t <= targets.size(); ++t) {
    RougeScore score;
    if (type == RougeType::kRougeL) {
      const auto& pred = s->ids[0];
      const auto& target = s->ids[t];
      if (!pred.empty() && !target.empty()) {
        if (s->lcs_masks.size() < s->interner.size()) s->lcs_masks.resize(s->interner.size(), 0);
        const double lcs = static_cast<double>(LcsLength(target, pred, &s->lcs_row, &s->lcs_masks));
        score =
            FromCounts(lcs, static_cast<double>(pred.size()), static_cast<double>(target.size()));
      }
    } else {
      s->keyer.SortedKeys(s->ids[t], n, &s->target_keys);
      score = FromCounts(static_cast<double>(MultisetOverlap(s->pred_keys, s->target_keys)),
                         static_cast<double>(s->pred_keys.size()),
                         static_cast<double>(s->target_keys.size()));
    }
    if (!have_best || score.fmeasure > best.fmeasure) {
      best = score;
      have_best = true;
    }
  }
  return best;
}

absl::string_view RougeMetric::name() const {
  switch (type_) {
    case RougeType::kRouge1:
      return "rouge1";
    case RougeType::kRouge2:
      return "rouge2";
    case RougeType::kRougeL:
      return "rougeL";
    case RougeType::kRougeLsum:
      break;
  }
  return "rougeLsum";
}

std::string RougeMetric::signature() const {
  return absl::StrCat(name(),
                      "|tok:rouge-score-default|stem:", options_.use_stemmer ? "nltk-porter" : "no",
                      type_ == RougeType::kRougeLsum ? "|split:newline" : "",
                      "|refs:max-f|agg:mean-f|version:emar-0.1");
}

absl::Status RougeMetric::ScoreExample(const Prediction& prediction, const Reference& reference,
                                       LabelTable* labels, absl::Span<double> row) const {
  RETURN_IF_ERROR(RequireReferences(reference));
  row[0] = ScoreRouge(type_, prediction.text, reference.texts, options_).fmeasure;
  return absl::OkStatus();
}

}  // namespace emar
