// Writes the Prometheus text exposition format (version 0.0.4): one HELP and TYPE header per
// metric family, then its samples. Used by every /metrics page (coordinator, request counter,
// worker), so they escape and format alike.
//
//   PrometheusText out;
//   out.Family("emar_jobs", "gauge", "Jobs by state.");
//   out.Sample("emar_jobs", {{"state", "queued"}}, 3);
//   out.Histogram("emar_shard_duration_seconds", "From lease to result.", bounds, counts, sum);
//   std::string page = std::move(out).Take();
#ifndef EMAR_COMMON_PROMETHEUS_TEXT_H_
#define EMAR_COMMON_PROMETHEUS_TEXT_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace emar {

class PrometheusText {
 public:
  using Labels = std::initializer_list<std::pair<absl::string_view, absl::string_view>>;

  // "# HELP name help" and "# TYPE name type" (counter, gauge, histogram).
  void Family(absl::string_view name, absl::string_view type, absl::string_view help);
  // "name{k="v",...} value": label values escaped (backslash, double quote, newline).
  void Sample(absl::string_view name, Labels labels, int64_t value);
  void Sample(absl::string_view name, Labels labels, double value);
  // A family with one unlabelled sample.
  void Gauge(absl::string_view name, absl::string_view help, int64_t value);
  void Counter(absl::string_view name, absl::string_view help, int64_t value);
  // A histogram family: `counts[i]` observations in (bounds[i-1], bounds[i]] (not cumulative;
  // may be shorter than `bounds`, missing ones are 0), `count` in all, summing to `sum`.
  void Histogram(absl::string_view name, absl::string_view help, absl::Span<const double> bounds,
                 absl::Span<const int64_t> counts, int64_t count, double sum);

  const std::string& text() const { return out_; }
  std::string Take() && { return std::move(out_); }

 private:
  void AppendName(absl::string_view name, Labels labels);

  std::string out_;
};

}  // namespace emar

#endif  // EMAR_COMMON_PROMETHEUS_TEXT_H_
