#include "eval/job/job_inputs.h"

#include "absl/strings/str_cat.h"

namespace emar {

std::vector<const emar::v1::ModelSpec*> ModelsInOrder(const emar::v1::JobSpec& spec) {
  std::vector<const emar::v1::ModelSpec*> models = {&spec.base()};
  for (const emar::v1::ModelSpec& c : spec.candidates()) models.push_back(&c);
  return models;
}

std::string ModelField(int model_index) {
  return model_index == 0 ? "base" : absl::StrCat("candidates[", model_index - 1, "]");
}

std::vector<JobInput> ListJobInputs(const emar::v1::JobSpec& spec) {
  std::vector<JobInput> out;
  out.push_back({emar::v1::DATASET_ROLE_TARGET, -1, "target.references", "target.references",
                 spec.target().references()});
  out.push_back({emar::v1::DATASET_ROLE_BENCHMARK, -1, "benchmark.references",
                 "benchmark.references", spec.benchmark().references()});
  const std::vector<const emar::v1::ModelSpec*> models = ModelsInOrder(spec);
  for (int m = 0; m < static_cast<int>(models.size()); ++m) {
    const emar::v1::ModelSpec& model = *models[m];
    const std::string field = ModelField(m);
    out.push_back({emar::v1::DATASET_ROLE_TARGET, m, absl::StrCat(field, ".target_outputs"),
                   absl::StrCat(model.name(), ".target_outputs"), model.target_outputs()});
    out.push_back({emar::v1::DATASET_ROLE_BENCHMARK, m, absl::StrCat(field, ".benchmark_outputs"),
                   absl::StrCat(model.name(), ".benchmark_outputs"), model.benchmark_outputs()});
  }
  return out;
}

}  // namespace emar
