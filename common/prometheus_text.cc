#include "common/prometheus_text.h"

#include "absl/strings/str_cat.h"

namespace emar {
namespace {

void AppendEscaped(std::string* out, absl::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '"':
        out->append("\\\"");
        break;
      case '\n':
        out->append("\\n");
        break;
      default:
        out->push_back(c);
    }
  }
}

}  // namespace

void PrometheusText::Family(absl::string_view name, absl::string_view type,
                            absl::string_view help) {
  absl::StrAppend(&out_, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

void PrometheusText::AppendName(absl::string_view name, Labels labels) {
  out_.append(name.data(), name.size());
  if (labels.size() == 0) return;
  const char* sep = "{";
  for (const auto& [key, value] : labels) {
    absl::StrAppend(&out_, sep, key, "=\"");
    AppendEscaped(&out_, value);
    out_.push_back('"');
    sep = ",";
  }
  out_.push_back('}');
}

void PrometheusText::Sample(absl::string_view name, Labels labels, int64_t value) {
  AppendName(name, labels);
  absl::StrAppend(&out_, " ", value, "\n");
}

void PrometheusText::Sample(absl::string_view name, Labels labels, double value) {
  AppendName(name, labels);
  absl::StrAppend(&out_, " ", value, "\n");
}

void PrometheusText::Gauge(absl::string_view name, absl::string_view help, int64_t value) {
  Family(name, "gauge", help);
  Sample(name, {}, value);
}

void PrometheusText::Counter(absl::string_view name, absl::string_view help, int64_t value) {
  Family(name, "counter", help);
  Sample(name, {}, value);
}

void PrometheusText::Histogram(absl::string_view name, absl::string_view help,
                               absl::Span<const double> bounds, absl::Span<const int64_t> counts,
                               int64_t count, double sum) {
  Family(name, "histogram", help);
  const std::string bucket = absl::StrCat(name, "_bucket");
  int64_t cumulative = 0;
  for (size_t b = 0; b < bounds.size(); ++b) {
    cumulative += b < counts.size() ? counts[b] : 0;
    Sample(bucket, {{"le", absl::StrCat(bounds[b])}}, cumulative);
  }
  Sample(bucket, {{"le", "+Inf"}}, count);
  Sample(absl::StrCat(name, "_sum"), {}, sum);
  Sample(absl::StrCat(name, "_count"), {}, count);
}

}  // namespace emar
