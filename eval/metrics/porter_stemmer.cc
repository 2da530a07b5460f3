#include "eval/metrics/porter_stemmer.h"

#include <functional>
#include <initializer_list>

#include "absl/strings/match.h"

namespace emar {
namespace {

using Word = std::string;
using Condition = std::function<bool(const Word&)>;

bool IsVowel(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; }

// _is_consonant: a letter other than a e i o u, and other than a y preceded by a consonant.
bool IsConsonant(const Word& w, size_t i) {
  if (IsVowel(w[i])) return false;
  if (w[i] == 'y') return i == 0 ? true : !IsConsonant(w, i - 1);
  return true;
}

// _measure: the number of "vc" pairs in the word's consonant/vowel pattern.
int Measure(const Word& stem) {
  int m = 0;
  for (size_t i = 1; i < stem.size(); ++i) {
    if (!IsConsonant(stem, i - 1) && IsConsonant(stem, i)) ++m;
  }
  return m;
}

bool PositiveMeasure(const Word& stem) { return Measure(stem) > 0; }

bool ContainsVowel(const Word& stem) {
  for (size_t i = 0; i < stem.size(); ++i) {
    if (!IsConsonant(stem, i)) return true;
  }
  return false;
}

bool EndsDoubleConsonant(const Word& w) {
  const size_t n = w.size();
  return n >= 2 && w[n - 1] == w[n - 2] && IsConsonant(w, n - 1);
}

bool EndsCvc(const Word& w) {
  const size_t n = w.size();
  if (n >= 3 && IsConsonant(w, n - 3) && !IsConsonant(w, n - 2) && IsConsonant(w, n - 1) &&
      w[n - 1] != 'w' && w[n - 1] != 'x' && w[n - 1] != 'y') {
    return true;
  }
  return n == 2 && !IsConsonant(w, 0) && IsConsonant(w, 1);  // NLTK_EXTENSIONS
}

Word WithoutSuffix(const Word& w, size_t suffix_len) { return w.substr(0, w.size() - suffix_len); }

struct Rule {
  const char* suffix;  // "*d": a double consonant
  Word replacement;
  Condition condition;  // empty: unconditional
};

// _apply_rule_list: the first rule whose suffix matches decides (its condition failing leaves the
// word unchanged).
Word ApplyRules(const Word& word, const std::vector<Rule>& rules) {
  for (const Rule& rule : rules) {
    const absl::string_view suffix = rule.suffix;
    if (suffix == "*d" && EndsDoubleConsonant(word)) {
      const Word stem = WithoutSuffix(word, 2);
      if (!rule.condition || rule.condition(stem)) return stem + rule.replacement;
      return word;
    }
    if (absl::EndsWith(word, suffix)) {
      const Word stem = WithoutSuffix(word, suffix.size());
      if (!rule.condition || rule.condition(stem)) return stem + rule.replacement;
      return word;
    }
  }
  return word;
}

Word Step1a(const Word& word) {
  if (absl::EndsWith(word, "ies") && word.size() == 4) return WithoutSuffix(word, 3) + "ie";
  return ApplyRules(word, {{"sses", "ss", {}}, {"ies", "i", {}}, {"ss", "ss", {}}, {"s", "", {}}});
}

Word Step1b(const Word& word) {
  if (absl::EndsWith(word, "ied")) {
    return WithoutSuffix(word, 3) + (word.size() == 4 ? "ie" : "i");
  }
  if (absl::EndsWith(word, "eed")) {
    const Word stem = WithoutSuffix(word, 3);
    return Measure(stem) > 0 ? stem + "ee" : word;
  }
  Word intermediate;
  bool succeeded = false;
  for (const char* suffix : {"ed", "ing"}) {
    if (absl::EndsWith(word, suffix)) {
      intermediate = WithoutSuffix(word, absl::string_view(suffix).size());
      if (ContainsVowel(intermediate)) {
        succeeded = true;
        break;
      }
    }
  }
  if (!succeeded) return word;
  const char last = intermediate.back();
  return ApplyRules(
      intermediate,
      {{"at", "ate", {}},
       {"bl", "ble", {}},
       {"iz", "ize", {}},
       {"*d", Word(1, last),
        [last](const Word&) { return last != 'l' && last != 's' && last != 'z'; }},
       {"", "e", [](const Word& stem) { return Measure(stem) == 1 && EndsCvc(stem); }}});
}

Word Step1c(const Word& word) {
  return ApplyRules(word, {{"y", "i", [](const Word& stem) {
                              return stem.size() > 1 && IsConsonant(stem, stem.size() - 1);
                            }}});
}

Word Step2(const Word& word) {
  if (absl::EndsWith(word, "alli") && PositiveMeasure(WithoutSuffix(word, 4))) {
    return Step2(WithoutSuffix(word, 4) + "al");
  }
  const Condition m = PositiveMeasure;
  const Word logi_stem = word.size() >= 3 ? WithoutSuffix(word, 3) : Word();
  return ApplyRules(
      word, {{"ational", "ate", m},
             {"tional", "tion", m},
             {"enci", "ence", m},
             {"anci", "ance", m},
             {"izer", "ize", m},
             {"bli", "ble", m},
             {"alli", "al", m},
             {"entli", "ent", m},
             {"eli", "e", m},
             {"ousli", "ous", m},
             {"ization", "ize", m},
             {"ation", "ate", m},
             {"ator", "ate", m},
             {"alism", "al", m},
             {"iveness", "ive", m},
             {"fulness", "ful", m},
             {"ousness", "ous", m},
             {"aliti", "al", m},
             {"iviti", "ive", m},
             {"biliti", "ble", m},
             {"fulli", "ful", m},
             {"logi", "log", [logi_stem](const Word&) { return PositiveMeasure(logi_stem); }}});
}

Word Step3(const Word& word) {
  const Condition m = PositiveMeasure;
  return ApplyRules(word, {{"icate", "ic", m},
                           {"ative", "", m},
                           {"alize", "al", m},
                           {"iciti", "ic", m},
                           {"ical", "ic", m},
                           {"ful", "", m},
                           {"ness", "", m}});
}

Word Step4(const Word& word) {
  const Condition m = [](const Word& stem) { return Measure(stem) > 1; };
  return ApplyRules(word, {{"al", "", m},
                           {"ance", "", m},
                           {"ence", "", m},
                           {"er", "", m},
                           {"ic", "", m},
                           {"able", "", m},
                           {"ible", "", m},
                           {"ant", "", m},
                           {"ement", "", m},
                           {"ment", "", m},
                           {"ent", "", m},
                           {"ion", "",
                            [](const Word& stem) {
                              return Measure(stem) > 1 &&
                                     (stem.back() == 's' || stem.back() == 't');
                            }},
                           {"ou", "", m},
                           {"ism", "", m},
                           {"ate", "", m},
                           {"iti", "", m},
                           {"ous", "", m},
                           {"ive", "", m},
                           {"ize", "", m}});
}

Word Step5a(const Word& word) {
  if (absl::EndsWith(word, "e")) {
    const Word stem = WithoutSuffix(word, 1);
    if (Measure(stem) > 1) return stem;
    if (Measure(stem) == 1 && !EndsCvc(stem)) return stem;
  }
  return word;
}

Word Step5b(const Word& word) {
  const Word without_last = word.empty() ? Word() : WithoutSuffix(word, 1);
  return ApplyRules(
      word, {{"ll", "l", [&without_last](const Word&) { return Measure(without_last) > 1; }}});
}

// NLTK_EXTENSIONS' irregular forms.
const char* Irregular(absl::string_view word) {
  static const std::pair<const char*, const char*> kPool[] = {
      {"sky", "sky"},         {"skies", "sky"},        {"dying", "die"},
      {"lying", "lie"},       {"tying", "tie"},        {"news", "news"},
      {"innings", "inning"},  {"inning", "inning"},    {"outings", "outing"},
      {"outing", "outing"},   {"cannings", "canning"}, {"canning", "canning"},
      {"howe", "howe"},       {"proceed", "proceed"},  {"exceed", "exceed"},
      {"succeed", "succeed"},
  };
  for (const auto& [form, stem] : kPool) {
    if (word == form) return stem;
  }
  return nullptr;
}

}  // namespace

std::string PorterStem(absl::string_view word) {
  if (const char* irregular = Irregular(word)) return irregular;
  Word stem(word);
  if (stem.size() <= 2) return stem;
  stem = Step1a(stem);
  stem = Step1b(stem);
  stem = Step1c(stem);
  stem = Step2(stem);
  stem = Step3(stem);
  stem = Step4(stem);
  stem = Step5a(stem);
  stem = Step5b(stem);
  return stem;
}

}  // namespace emar
