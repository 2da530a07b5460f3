#include "eval/job/job_inputs.h"

#include "absl/strings/str_cat.h"
#include "eval/job/suite.h"

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
  const std::vector<SuiteDataset> datasets = SuiteDatasets(spec);
  const std::vector<const emar::v1::ModelSpec*> models = ModelsInOrder(spec);
  const bool suite = IsSuiteForm(spec);
  std::vector<JobInput> out;
  out.reserve(datasets.size() * (1 + models.size()));  // each dataset's references and outputs
  for (const SuiteDataset& d : datasets) {
    out.push_back({d.role, d.index, -1, d.field + ".references",
                   suite ? d.spec->name() + ".references" : d.field + ".references",
                   d.spec->references()});
  }
  for (int m = 0; m < static_cast<int>(models.size()); ++m) {
    const emar::v1::ModelSpec& model = *models[m];
    const std::string field = ModelField(m);
    for (const SuiteDataset& d : datasets) {
      const std::string spec_field = OutputsField(field, d);
      out.push_back({d.role, d.index, m, spec_field,
                     absl::StrCat(model.name(), spec_field.substr(field.size())),
                     OutputsOf(model, d)});
    }
  }
  return out;
}

}  // namespace emar
