// The one description of a job's inputs: which files a JobSpec names, under which spec field
// ("candidates[0].target_outputs", "base.outputs[mmlu]") and which report role
// ("lora-r16.target_outputs", "lora-r16.outputs[mmlu]"), in spec order (every dataset's
// references in suite order, then per model its outputs in the same order). The client uploads
// from it, the planner shards from it and the report's provenance lists it.
//
//   for (const JobInput& in : ListJobInputs(spec)) Upload(in.field, in.path);
#ifndef EMAR_EVAL_JOB_JOB_INPUTS_H_
#define EMAR_EVAL_JOB_JOB_INPUTS_H_

#include <string>
#include <vector>

#include "emar/v1/job.pb.h"
#include "emar/v1/service.pb.h"

namespace emar {

struct JobInput {
  emar::v1::DatasetRole dataset = emar::v1::DATASET_ROLE_UNSPECIFIED;  // target or benchmark
  int dataset_index = 0;  // the dataset's position in suite order (SuiteDatasets)
  // -1 for a references file; 0 for the base model's outputs, k for candidate k-1's.
  int model_index = -1;
  bool is_references() const { return model_index < 0; }

  std::string field;        // the spec field that names the file, for error messages
  std::string report_role;  // the provenance role in reports: "target.references",
                            // "<model name>.target_outputs"; in a suite "<dataset>.references",
                            // "<model name>.outputs[<dataset>]"
  std::string path;         // as written in the spec (may be empty: the planner says so)
};

// Every input of `spec`, in spec order; paths are not deduplicated (see UniquePaths).
std::vector<JobInput> ListJobInputs(const emar::v1::JobSpec& spec);

// The model specs in index order: base first, then the candidates.
std::vector<const emar::v1::ModelSpec*> ModelsInOrder(const emar::v1::JobSpec& spec);

// The spec field path of a model: "base" or "candidates[k]".
std::string ModelField(int model_index);

}  // namespace emar

#endif  // EMAR_EVAL_JOB_JOB_INPUTS_H_
