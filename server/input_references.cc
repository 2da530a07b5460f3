#include "server/input_references.h"

#include <map>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/event_log.h"
#include "common/status_macros.h"
#include "eval/job/job_inputs.h"

namespace emar {
namespace {

// Calls `f` on every input path field of `spec`.
template <typename F>
void ForEachInputPath(emar::v1::JobSpec* spec, F f) {
  for (emar::v1::DatasetSpec* d : {spec->mutable_target(), spec->mutable_benchmark()}) {
    f(d->mutable_references());
  }
  for (auto* list : {spec->mutable_targets(), spec->mutable_benchmarks()}) {
    for (emar::v1::DatasetSpec& d : *list) f(d.mutable_references());
  }
  std::vector<emar::v1::ModelSpec*> models = {spec->mutable_base()};
  for (emar::v1::ModelSpec& c : *spec->mutable_candidates()) models.push_back(&c);
  for (emar::v1::ModelSpec* m : models) {
    f(m->mutable_target_outputs());
    f(m->mutable_benchmark_outputs());
    for (auto& [dataset, path] : *m->mutable_outputs()) f(&path);
  }
}

// "lora-r16.outputs[mmlu] (candidates[0].outputs[mmlu])" for the first input naming `path`.
std::string DescribeInput(const std::vector<JobInput>& inputs, const std::string& path) {
  for (const JobInput& in : inputs) {
    if (in.path != path) continue;
    if (in.report_role == in.field) return in.field;
    return absl::StrCat(in.report_role, " (", in.field, ")");
  }
  return absl::StrCat("input_references['", RedactUri(path), "']");
}

}  // namespace

absl::StatusOr<ReferencedInputs> ResolveInputReferences(const emar::v1::CreateJobRequest& request) {
  ReferencedInputs out{request, {}};
  if (request.spec().input_references().empty()) return out;
  const std::vector<JobInput> inputs = ListJobInputs(request.spec());
  std::map<std::string, std::string> redacted;   // URI as given -> without its query
  std::map<std::string, std::string> digest_of;  // redacted -> sha256
  // Map order (sorted by URI): the same request always resolves the same way.
  std::map<std::string, emar::v1::InputReference> sorted(request.spec().input_references().begin(),
                                                         request.spec().input_references().end());
  std::map<std::string, bool> fetching;  // by digest
  for (const auto& [uri, content] : sorted) {
    InputReference ref{DescribeInput(inputs, uri), uri, absl::AsciiStrToLower(content.sha256()),
                       content.size()};
    RETURN_IF_ERROR(CheckReference(ref));
    const std::string key = RedactUri(uri);
    if (request.input_digests().contains(key)) {
      return absl::InvalidArgumentError(absl::StrCat("input ", ref.what, ": '", key,
                                                     "' is both uploaded and named by reference"));
    }
    auto [it, added] = digest_of.emplace(key, ref.sha256);
    if (!added && it->second != ref.sha256) {
      return absl::InvalidArgumentError(
          absl::StrCat("input ", ref.what, ": two references to ", key,
                       " differ only in their query string but state different content"));
    }
    redacted[uri] = key;
    (*out.request.mutable_input_digests())[key] = ref.sha256;
    if (fetching.emplace(ref.sha256, true).second) out.refs.push_back(std::move(ref));
  }
  emar::v1::JobSpec* spec = out.request.mutable_spec();
  std::map<std::string, bool> used;
  ForEachInputPath(spec, [&](std::string* path) {
    auto it = redacted.find(*path);
    if (it == redacted.end()) return;
    used[*path] = true;
    *path = it->second;
  });
  for (const auto& [uri, key] : redacted) {
    if (!used.count(uri)) {
      return absl::InvalidArgumentError(
          absl::StrCat("spec.input_references: '", key, "' is named by no input path of the job"));
    }
  }
  spec->clear_input_references();
  return out;
}

absl::Status FetchReferencedInputs(const std::vector<InputReference>& refs,
                                   const InputFetchOptions& options, BlobAccess* blobs,
                                   const Principal& who) {
  for (const InputReference& ref : refs) {
    if (blobs->HasFor(ref.sha256, who)) continue;  // read before, by this principal
    if (ref.size > options.max_bytes) return FetchInput(ref, options, nullptr);  // says why
    ASSIGN_OR_RETURN(BlobAccess::Reservation quota, blobs->ReserveQuota(ref.size));
    ASSIGN_OR_RETURN(std::unique_ptr<BlobStore::Writer> writer,
                     blobs->bytes().StartWrite(ref.sha256, ref.size));
    const absl::Time start = absl::Now();
    // The writer hashes what it stores; FetchInput checks that digest (one pass over the bytes).
    const absl::Status fetched = FetchInput(
        ref, options, [&](absl::string_view bytes) { return writer->Append(bytes); },
        [&]() -> std::string { return writer->Digest(); });
    if (!fetched.ok()) {
      LogEventAt(LogLevel::kWarning, "input_fetch_failed",
                 {{"input", ref.what},
                  {"uri", RedactUri(ref.uri)},
                  {"error", std::string(fetched.message())},
                  {"duration_ms", DurationMs(absl::Now() - start)}});
      return fetched;
    }
    RETURN_IF_ERROR(writer->Commit());
    RETURN_IF_ERROR(blobs->RecordUpload(ref.sha256, who));
    LogEvent("input_fetched", {{"input", ref.what},
                               {"uri", RedactUri(ref.uri)},
                               {"bytes", ref.size},
                               {"duration_ms", DurationMs(absl::Now() - start)}});
  }
  return absl::OkStatus();
}

}  // namespace emar
