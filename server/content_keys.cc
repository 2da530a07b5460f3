#include "server/content_keys.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "eval/job/suite.h"
#include "server/report_builder.h"

namespace emar {
namespace {

// Length-prefixed, so no two different field lists make the same bytes.
void Field(std::string* out, absl::string_view v) { absl::StrAppend(out, v.size(), ":", v, ";"); }

void Range(std::string* out, const emar::v1::BlobRange& r) {
  Field(out, r.sha256());
  Field(out, absl::StrCat(r.offset()));
  Field(out, absl::StrCat(r.length()));
}

std::string Deterministic(const google::protobuf::Message& m) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);  // maps in key order
  m.SerializeToCodedStream(&coded);
  coded.Trim();
  return bytes;
}

}  // namespace

std::string ScoreCacheKey(const emar::v1::ShardTask& task, const std::string& principal) {
  std::string s = "emar-score-cache-v1;";
  if (!principal.empty()) Field(&s, absl::StrCat("principal:", principal));
  Field(&s, EmarVersion());  // a new scorer may score differently: never reuse across versions
  Field(&s, task.metric());
  // A metric with options is another scorer; a bare name keeps the key it always had.
  if (task.metrics_size() > 0 && MetricSpecKey(task.metrics(0)) != task.metric()) {
    Field(&s, MetricSpecKey(task.metrics(0)));
  }
  Field(&s, task.fields().id_field());
  Field(&s, task.fields().reference_field());
  Field(&s, task.fields().prediction_field());
  Field(&s, task.fields().logprobs_field());
  // Where multiple-choice texts come from changes acc_norm; unset keeps the key it always had.
  if (!task.fields().choices_field().empty()) {
    Field(&s, absl::StrCat("choices_field=", task.fields().choices_field()));
  }
  Range(&s, task.outputs());
  Field(&s, absl::StrCat(task.first_line()));
  Range(&s, task.references());
  Field(&s, absl::StrCat(task.reference_rows()));
  // Several samples per item and references from the outputs' ids score other rows; a shard
  // without either keeps the key it always had.
  if (!task.fields().sample_field().empty()) Field(&s, "sample:" + task.fields().sample_field());
  if (task.ids_from_outputs()) Field(&s, "ids_from_outputs");
  return Sha256Hex(s);
}

std::string RequestFingerprint(const emar::v1::CreateJobRequest& request) {
  emar::v1::CreateJobRequest content = request;
  content.clear_request_id();
  return Sha256Hex(Deterministic(content));
}

}  // namespace emar
