#include "eval/input/sample_groups.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "eval/input/sample_reader.h"
#include "eval/metrics/pass_at_k.h"

namespace emar {

SampleGrouper::SampleGrouper(const ReferenceTable& references, std::string outputs_name,
                             size_t width)
    : SampleGrouper(
          references.size(),
          [&references](uint32_t item) {
            return std::make_pair(std::string(references.id(item)), references.line(item));
          },
          std::move(outputs_name), width) {
  references_ = &references;
}

SampleGrouper::SampleGrouper(size_t items, ItemNamer namer, std::string outputs_name, size_t width)
    : references_(nullptr),
      namer_(std::move(namer)),
      outputs_name_(std::move(outputs_name)),
      width_(width),
      sums_(items * width, 0.0),
      counts_(items, 0),
      first_line_(items, 0) {}

absl::Status SampleGrouper::Add(uint32_t item, uint64_t sample, uint64_t line,
                                absl::Span<const double> row) {
  if (item >= counts_.size() || row.size() != width_) {
    return absl::InvalidArgumentError(absl::StrCat(outputs_name_, ":", line, ": item row ", item,
                                                   " or its ", row.size(),
                                                   " statistics do not fit the dataset"));
  }
  const auto [it, inserted] = seen_.try_emplace(std::make_pair(item, sample), line);
  if (!inserted) {
    return absl::InvalidArgumentError(
        absl::StrCat(outputs_name_, ":", line, ": id '", namer_(item).first, "': sample ", sample,
                     " appears twice (first at line ", it->second, ")"));
  }
  ++counts_[item];
  if (first_line_[item] == 0 || line < first_line_[item]) first_line_[item] = line;
  double* sum = &sums_[static_cast<size_t>(item) * width_];
  for (size_t j = 0; j < width_; ++j) sum[j] += row[j];
  return absl::OkStatus();
}

absl::Status SampleGrouper::AddShard(absl::string_view data, uint64_t first_line,
                                     const FieldConfig& config, absl::string_view sample_field,
                                     const Metric& metric) {
  if (references_ == nullptr) {
    return absl::FailedPreconditionError("a grouper without references cannot read outputs");
  }
  if (metric.uses_labels() || metric.stats_width() != width_) {
    return absl::InvalidArgumentError(
        absl::StrCat("metric '", metric.name(),
                     "' cannot score several samples per item (it counts labels "
                     "or its statistics do not match the grouper's)"));
  }
  SampleReader reader(outputs_name_, data, first_line, config, sample_field);
  SampleRecord rec;
  std::vector<double> row(width_);
  for (;;) {
    ASSIGN_OR_RETURN(const bool more, reader.Next(&rec));
    if (!more) return absl::OkStatus();
    const std::optional<uint32_t> item = references_->Find(rec.id);
    if (!item) {
      return absl::InvalidArgumentError(absl::StrCat(outputs_name_, ":", rec.line, ": field '",
                                                     config.id_field, "': unknown id '", rec.id,
                                                     "' (not in the references)"));
    }
    std::fill(row.begin(), row.end(), 0.0);
    const absl::Status scored = metric.ScoreExample(rec.prediction, references_->reference(*item),
                                                    nullptr, absl::MakeSpan(row));
    if (!scored.ok()) {
      return absl::Status(scored.code(),
                          absl::StrCat(outputs_name_, ":", rec.line, ": ", scored.message()));
    }
    RETURN_IF_ERROR(Add(*item, rec.sample, rec.line, row));
  }
}

std::string SampleGrouper::ItemLines(uint32_t item) const {
  std::vector<uint64_t> lines;
  for (const auto& [key, line] : seen_) {
    if (key.first == item) lines.push_back(line);
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (size_t i = 0; i < lines.size() && i < 8; ++i) absl::StrAppend(&out, i ? ", " : "", lines[i]);
  if (lines.size() > 8) absl::StrAppend(&out, ", ...");
  return out;
}

absl::StatusOr<SampleGroups> SampleGrouper::Finish() && {
  if (counts_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(outputs_name_, ": no items"));
  }
  absl::flat_hash_map<uint32_t, size_t> frequency;
  for (uint32_t c : counts_) ++frequency[c];
  uint32_t k = 0;
  for (uint32_t c : counts_) {
    if (c != 0 && (k == 0 || frequency[c] > frequency[k])) k = c;
  }
  if (k == 0) return absl::InvalidArgumentError(absl::StrCat(outputs_name_, ": no samples"));
  for (uint32_t item = 0; item < counts_.size(); ++item) {
    if (counts_[item] == 0) {
      const auto [id, line] = namer_(item);
      return absl::InvalidArgumentError(absl::StrCat(outputs_name_, ": no sample for id '", id,
                                                     "' (references line ", line,
                                                     "); every item needs ", k, " samples"));
    }
    if (counts_[item] != k) {
      return absl::InvalidArgumentError(absl::StrCat(
          outputs_name_, ":", first_line_[item], ": id '", namer_(item).first, "' has ",
          counts_[item], " samples (lines ", ItemLines(item), ") but the other items have ", k,
          "; every item needs the same number of samples"));
    }
  }
  SampleGroups groups;
  groups.width = width_;
  groups.samples_per_item = k;
  groups.outputs_name = std::move(outputs_name_);
  groups.sums = std::move(sums_);
  groups.first_lines = std::move(first_line_);
  return groups;
}

absl::StatusOr<std::vector<double>> ItemRows(const SampleGroups& groups,
                                             const Metric& sample_metric) {
  std::vector<double> rows(groups.sums.size());
  if (const auto* pass = dynamic_cast<const PassAtKMetric*>(&sample_metric)) {
    for (size_t i = 0; i < groups.items(); ++i) {
      const absl::Status s =
          pass->ItemRow(groups.samples_per_item, groups.sums[i], absl::MakeSpan(&rows[i], 1));
      if (!s.ok())
        return absl::Status(s.code(), absl::StrCat(groups.outputs_name, ": ", s.message()));
    }
    return rows;
  }
  const double k = static_cast<double>(groups.samples_per_item);
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = groups.sums[i] / k;
  return rows;
}

}  // namespace emar
