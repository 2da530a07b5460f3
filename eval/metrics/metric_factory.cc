#include "eval/metrics/metric_factory.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "eval/metrics/accuracy_scorer.h"
#include "eval/metrics/bleu_scorer.h"
#include "eval/metrics/chrf_scorer.h"
#include "eval/metrics/classification_scorer.h"
#include "eval/metrics/exact_match_scorer.h"
#include "eval/metrics/metric_registry.h"
#include "eval/metrics/multiple_choice_scorer.h"
#include "eval/metrics/pass_at_k.h"
#include "eval/metrics/perplexity_scorer.h"
#include "eval/metrics/rouge_scorer.h"
#include "eval/metrics/score_metric.h"

namespace emar {
namespace {

using emar::v1::MetricSpec;

constexpr int kMaxOrder = 16;

// Every option of MetricSpec, in field order, and whether a spec sets it.
struct OptionInfo {
  absl::string_view name;
  bool (*is_set)(const MetricSpec&);
};
const OptionInfo kOptions[] = {
    {"tokenize", [](const MetricSpec& s) { return !s.tokenize().empty(); }},
    {"lowercase", [](const MetricSpec& s) { return s.has_lowercase(); }},
    {"smooth", [](const MetricSpec& s) { return !s.smooth().empty(); }},
    {"smooth_value", [](const MetricSpec& s) { return s.has_smooth_value(); }},
    {"max_ngram_order", [](const MetricSpec& s) { return s.has_max_ngram_order(); }},
    {"effective_order", [](const MetricSpec& s) { return s.has_effective_order(); }},
    {"char_order", [](const MetricSpec& s) { return s.has_char_order(); }},
    {"word_order", [](const MetricSpec& s) { return s.has_word_order(); }},
    {"beta", [](const MetricSpec& s) { return s.has_beta(); }},
    {"whitespace", [](const MetricSpec& s) { return s.has_whitespace(); }},
    {"use_stemmer", [](const MetricSpec& s) { return s.has_use_stemmer(); }},
    {"normalized", [](const MetricSpec& s) { return s.has_normalized(); }},
    {"no_punct", [](const MetricSpec& s) { return s.has_no_punct(); }},
    {"asian_support", [](const MetricSpec& s) { return s.has_asian_support(); }},
    {"case_sensitive", [](const MetricSpec& s) { return s.has_case_sensitive(); }},
    {"k", [](const MetricSpec& s) { return s.has_k(); }},
    {"field", [](const MetricSpec& s) { return !s.field().empty(); }},
    {"range", [](const MetricSpec& s) { return s.range_size() > 0; }},
    {"direction", [](const MetricSpec& s) { return !s.direction().empty(); }},
};

enum class Family { kPlain, kBleu, kChrf, kRouge, kPassAtK, kScore };

// A spec checked and turned into options; `key` is MetricKey's text.
struct Parsed {
  const MetricSpec* spec = nullptr;
  Family family = Family::kPlain;
  BleuOptions bleu;
  ChrfOptions chrf;
  RougeOptions rouge;
  std::string key;
};

using Builder = std::unique_ptr<Metric> (*)(const Parsed&);

template <typename T>
std::unique_ptr<Metric> Make(const Parsed&) {
  return std::make_unique<T>();
}
template <RougeType kType>
std::unique_ptr<Metric> MakeRouge(const Parsed& p) {
  return std::make_unique<RougeMetric>(kType, p.rouge);
}
// pass_at_k and score build (and check their options) from the spec themselves.
std::unique_ptr<Metric> MakePassAtK(const Parsed& p) {
  return std::move(PassAtKMetric::FromSpec(*p.spec)).value();  // checked by Parse
}
std::unique_ptr<Metric> MakeScore(const Parsed& p) {
  return std::move(ScoreMetric::FromSpec(*p.spec)).value();  // checked by Parse
}

template <bool kNormalized>
std::unique_ptr<Metric> MakeMc(const Parsed&) {
  return std::make_unique<MultipleChoiceMetric>(kNormalized);
}

struct Entry {
  absl::string_view name;
  Family family;
  Builder build;
};

// Every metric the service knows, sorted by name.
const std::vector<Entry>& Entries() {
  static const auto* entries = new std::vector<Entry>{
      {"accuracy", Family::kPlain, &Make<AccuracyMetric>},
      {"bleu", Family::kBleu,
       [](const Parsed& p) -> std::unique_ptr<Metric> {
         return std::make_unique<BleuMetric>(p.bleu);
       }},
      {"chrf", Family::kChrf,
       [](const Parsed& p) -> std::unique_ptr<Metric> {
         return std::make_unique<ChrfMetric>(p.chrf);
       }},
      {"exact_match", Family::kPlain, &Make<ExactMatchMetric>},
      {"macro_f1", Family::kPlain, &Make<MacroF1Metric>},
      {"mc_acc", Family::kPlain, &MakeMc<false>},
      {"mc_acc_norm", Family::kPlain, &MakeMc<true>},
      {"mcc", Family::kPlain, &Make<MccMetric>},
      {"micro_f1", Family::kPlain, &Make<MicroF1Metric>},
      {"pass_at_k", Family::kPassAtK, &MakePassAtK},
      {"perplexity", Family::kPlain, &Make<PerplexityMetric>},
      {"rouge1", Family::kRouge, &MakeRouge<RougeType::kRouge1>},
      {"rouge2", Family::kRouge, &MakeRouge<RougeType::kRouge2>},
      {"rougeL", Family::kRouge, &MakeRouge<RougeType::kRougeL>},
      {"rougeLsum", Family::kRouge, &MakeRouge<RougeType::kRougeLsum>},
      {"score", Family::kScore, &MakeScore},
      {"token_f1", Family::kPlain, &Make<TokenF1Metric>},
  };
  return *entries;
}

std::vector<absl::string_view> AllowedOptions(Family family) {
  switch (family) {
    case Family::kBleu:
      return {"tokenize",     "lowercase",       "smooth",
              "smooth_value", "max_ngram_order", "effective_order"};
    case Family::kChrf:
      return {"char_order", "word_order", "beta", "lowercase", "whitespace"};
    case Family::kRouge:
      return {"use_stemmer"};
    case Family::kPassAtK:
      return {"k", "field"};
    case Family::kScore:
      return {"field", "range", "direction"};
    case Family::kPlain:
      break;
  }
  return {};
}

// The shortest "%.*g" text that reads back as `v`.
std::string ShortestDouble(double v) {
  char buf[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

absl::Status OptionError(const MetricSpec& spec, absl::string_view option,
                         absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("metric \"", spec.name(), "\": option ", option, ": ", problem));
}

// Checks an int option in [lo, hi]; appends "|name=value" to *key unless it is the default.
absl::Status IntOption(const MetricSpec& spec, absl::string_view name, bool has, int32_t value,
                       int lo, int hi, int default_value, int* out, std::string* key) {
  if (!has) return absl::OkStatus();
  if (value < lo || value > hi) {
    return OptionError(spec, name, absl::StrCat(value, " is out of range [", lo, ", ", hi, "]"));
  }
  *out = value;
  if (value != default_value) absl::StrAppend(key, "|", name, "=", value);
  return absl::OkStatus();
}

void BoolOption(absl::string_view name, bool has, bool value, bool* out, std::string* key) {
  if (!has) return;
  *out = value;
  if (value) absl::StrAppend(key, "|", name, "=true");
}

absl::Status ParseBleu(const MetricSpec& spec, Parsed* p) {
  BleuOptions& o = p->bleu;
  const std::string& tok = spec.tokenize();
  if (!tok.empty()) {
    if (tok == "13a") {
      o.tokenize = BleuOptions::Tokenize::k13a;
    } else if (tok == "char") {
      o.tokenize = BleuOptions::Tokenize::kChar;
    } else if (tok == "none") {
      o.tokenize = BleuOptions::Tokenize::kNone;
    } else if (tok == "zh") {
      o.tokenize = BleuOptions::Tokenize::kZh;
    } else if (tok == "intl") {
      o.tokenize = BleuOptions::Tokenize::kIntl;
    } else {
      return OptionError(spec, "tokenize",
                         absl::StrCat("\"", tok, "\" is not one of 13a, intl, char, none, zh"));
    }
    if (tok != "13a") absl::StrAppend(&p->key, "|tokenize=", tok);
  }
  BoolOption("lowercase", spec.has_lowercase(), spec.lowercase(), &o.lowercase, &p->key);
  const std::string& smooth = spec.smooth();
  if (!smooth.empty()) {
    if (smooth == "exp") {
      o.smooth = BleuOptions::Smooth::kExp;
    } else if (smooth == "floor") {
      o.smooth = BleuOptions::Smooth::kFloor;
    } else if (smooth == "add-k") {
      o.smooth = BleuOptions::Smooth::kAddK;
    } else if (smooth == "none") {
      o.smooth = BleuOptions::Smooth::kNone;
    } else {
      return OptionError(spec, "smooth",
                         absl::StrCat("\"", smooth, "\" is not one of exp, floor, add-k, none"));
    }
    if (smooth != "exp") absl::StrAppend(&p->key, "|smooth=", smooth);
  }
  if (spec.has_smooth_value()) {
    const double v = spec.smooth_value();
    const bool takes_value =
        o.smooth == BleuOptions::Smooth::kFloor || o.smooth == BleuOptions::Smooth::kAddK;
    if (!takes_value) {
      return OptionError(spec, "smooth_value", "only smooth floor and add-k take a value");
    }
    if (!std::isfinite(v) || v < 0) {
      return OptionError(spec, "smooth_value",
                         absl::StrCat(ShortestDouble(v), " is not a finite number >= 0"));
    }
    o.smooth_value = v;
    const double default_value = o.smooth == BleuOptions::Smooth::kFloor ? 0.1 : 1.0;
    if (v != default_value) absl::StrAppend(&p->key, "|smooth_value=", ShortestDouble(v));
  }
  RETURN_IF_ERROR(IntOption(spec, "max_ngram_order", spec.has_max_ngram_order(),
                            spec.max_ngram_order(), 1, kMaxOrder, 4, &o.max_order, &p->key));
  BoolOption("effective_order", spec.has_effective_order(), spec.effective_order(),
             &o.effective_order, &p->key);
  return absl::OkStatus();
}

absl::Status ParseChrf(const MetricSpec& spec, Parsed* p) {
  ChrfOptions& o = p->chrf;
  RETURN_IF_ERROR(IntOption(spec, "char_order", spec.has_char_order(), spec.char_order(), 1,
                            kMaxOrder, 6, &o.char_order, &p->key));
  RETURN_IF_ERROR(IntOption(spec, "word_order", spec.has_word_order(), spec.word_order(), 0,
                            kMaxOrder, 0, &o.word_order, &p->key));
  if (spec.has_beta()) {
    const double beta = spec.beta();
    if (!std::isfinite(beta) || beta <= 0) {
      return OptionError(spec, "beta", absl::StrCat(ShortestDouble(beta), " is not > 0"));
    }
    o.beta = beta;
    if (beta != 2) absl::StrAppend(&p->key, "|beta=", ShortestDouble(beta));
  }
  BoolOption("lowercase", spec.has_lowercase(), spec.lowercase(), &o.lowercase, &p->key);
  BoolOption("whitespace", spec.has_whitespace(), spec.whitespace(), &o.whitespace, &p->key);
  return absl::OkStatus();
}

absl::StatusOr<std::pair<const Entry*, Parsed>> Parse(const MetricSpec& spec) {
  const Entry* entry = nullptr;
  for (const Entry& e : Entries()) {
    if (e.name == spec.name()) entry = &e;
  }
  if (entry == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown metric \"", spec.name(),
                     "\"; known metrics: ", absl::StrJoin(MetricNames(), ", ")));
  }
  const std::vector<absl::string_view> allowed = AllowedOptions(entry->family);
  for (const OptionInfo& option : kOptions) {
    if (!option.is_set(spec)) continue;
    if (std::find(allowed.begin(), allowed.end(), option.name) == allowed.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "metric \"", spec.name(), "\" does not take option ", option.name,
          allowed.empty() ? " (it takes no options)"
                          : absl::StrCat(" (it takes ", absl::StrJoin(allowed, ", "), ")")));
    }
  }
  Parsed p;
  p.spec = &spec;
  p.family = entry->family;
  p.key = spec.name();
  switch (entry->family) {
    case Family::kBleu:
      RETURN_IF_ERROR(ParseBleu(spec, &p));
      break;
    case Family::kChrf:
      RETURN_IF_ERROR(ParseChrf(spec, &p));
      break;
    case Family::kRouge:
      BoolOption("use_stemmer", spec.has_use_stemmer(), spec.use_stemmer(), &p.rouge.use_stemmer,
                 &p.key);
      break;
    case Family::kPassAtK:
      RETURN_IF_ERROR(PassAtKMetric::FromSpec(spec).status());
      absl::StrAppend(&p.key, "|k=", spec.k());
      if (!spec.field().empty()) absl::StrAppend(&p.key, "|field=", spec.field());
      break;
    case Family::kScore:
      RETURN_IF_ERROR(ScoreMetric::FromSpec(spec).status());
      if (!spec.field().empty()) absl::StrAppend(&p.key, "|field=", spec.field());
      if (spec.range_size() > 0) {
        absl::StrAppend(&p.key, "|range=", ShortestDouble(spec.range(0)), ",",
                        ShortestDouble(spec.range(spec.range_size() - 1)));
      }
      if (!spec.direction().empty() && spec.direction() != "higher_is_better") {
        absl::StrAppend(&p.key, "|direction=", spec.direction());
      }
      break;
    case Family::kPlain:
      break;
  }
  return std::make_pair(entry, std::move(p));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Metric>> MakeMetric(const MetricSpec& spec) {
  ASSIGN_OR_RETURN(auto parsed, Parse(spec));
  return parsed.first->build(parsed.second);
}

absl::Status ValidateMetricSpec(const MetricSpec& spec) { return Parse(spec).status(); }

absl::StatusOr<std::string> MetricKey(const MetricSpec& spec) {
  ASSIGN_OR_RETURN(auto parsed, Parse(spec));
  return std::move(parsed.second.key);
}

std::vector<std::string> MetricNames() {
  std::vector<std::string> names;
  for (const Entry& e : Entries()) names.emplace_back(e.name);
  return names;
}

}  // namespace emar
