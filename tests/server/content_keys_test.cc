// Keys from content alone (server/content_keys.h): equal for equal work, different when anything
// that changes the result changes, blind to what does not.
#include "server/content_keys.h"

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

emar::v1::ShardTask Task() {
  emar::v1::ShardTask t;
  t.set_metric("accuracy");
  t.mutable_fields()->set_id_field("id");
  t.mutable_outputs()->set_sha256(std::string(64, 'a'));
  t.mutable_outputs()->set_offset(0);
  t.mutable_outputs()->set_length(1000);
  t.mutable_outputs()->set_display_name("out.jsonl");
  t.mutable_references()->set_sha256(std::string(64, 'b'));
  t.mutable_references()->set_length(2000);
  t.set_first_line(1);
  t.set_reference_rows(10);
  return t;
}

TEST(ScoreCacheKeyTest, EqualTasksHaveEqualKeysWhateverTheirJobOrName) {
  const std::string key = ScoreCacheKey(Task());
  EXPECT_EQ(key.size(), 64u);  // sha256 hex
  EXPECT_EQ(ScoreCacheKey(Task()), key);
  emar::v1::ShardTask renamed = Task();
  renamed.mutable_outputs()->set_display_name("elsewhere/out.jsonl");
  renamed.set_job_id("job-2");
  renamed.set_shard_id(7);
  renamed.set_lease_id("lease-9");
  renamed.set_attempt(3);
  renamed.set_model("r16");
  EXPECT_EQ(ScoreCacheKey(renamed), key);
}

TEST(ScoreCacheKeyTest, EverythingThatChangesTheScoresChangesTheKey) {
  const std::string key = ScoreCacheKey(Task());
  std::vector<std::function<void(emar::v1::ShardTask&)>> changes = {
      [](auto& t) { t.set_metric("exact_match"); },
      [](auto& t) { t.mutable_fields()->set_id_field("doc"); },
      [](auto& t) { t.mutable_fields()->set_reference_field("gold"); },
      [](auto& t) { t.mutable_fields()->set_prediction_field("output"); },
      [](auto& t) { t.mutable_outputs()->set_sha256(std::string(64, 'c')); },
      [](auto& t) { t.mutable_outputs()->set_offset(10); },
      [](auto& t) { t.mutable_outputs()->set_length(999); },
      [](auto& t) { t.set_first_line(2); },
      [](auto& t) { t.mutable_references()->set_sha256(std::string(64, 'd')); },
      [](auto& t) { t.mutable_references()->set_length(2001); },
      [](auto& t) { t.set_reference_rows(11); },
  };
  std::set<std::string> keys = {key};
  for (size_t i = 0; i < changes.size(); ++i) {
    emar::v1::ShardTask t = Task();
    changes[i](t);
    EXPECT_TRUE(keys.insert(ScoreCacheKey(t)).second) << "change " << i << " kept a key";
  }
}

TEST(ScoreCacheKeyTest, FieldsDoNotRunIntoEachOther) {
  // "ab" + "c" and "a" + "bc" are different field lists.
  emar::v1::ShardTask a = Task(), b = Task();
  a.mutable_fields()->set_id_field("ab");
  a.mutable_fields()->set_reference_field("c");
  b.mutable_fields()->set_id_field("a");
  b.mutable_fields()->set_reference_field("bc");
  EXPECT_NE(ScoreCacheKey(a), ScoreCacheKey(b));
}

emar::v1::CreateJobRequest Request() {
  emar::v1::CreateJobRequest r;
  r.set_request_id("req-1");
  r.mutable_spec()->set_name("sentiment");
  (*r.mutable_spec()->mutable_labels())["run"] = "exp-42";
  (*r.mutable_spec()->mutable_labels())["step"] = "500";
  (*r.mutable_input_digests())["target.references"] = std::string(64, 'a');
  (*r.mutable_input_digests())["base.target"] = std::string(64, 'b');
  return r;
}

TEST(RequestFingerprintTest, IgnoresTheRequestIdAndMapOrder) {
  emar::v1::CreateJobRequest other = Request();
  other.set_request_id("req-2");
  EXPECT_EQ(RequestFingerprint(other), RequestFingerprint(Request()));
  // The same maps built in the other order.
  emar::v1::CreateJobRequest reordered;
  reordered.set_request_id("req-1");
  reordered.mutable_spec()->set_name("sentiment");
  (*reordered.mutable_spec()->mutable_labels())["step"] = "500";
  (*reordered.mutable_spec()->mutable_labels())["run"] = "exp-42";
  (*reordered.mutable_input_digests())["base.target"] = std::string(64, 'b');
  (*reordered.mutable_input_digests())["target.references"] = std::string(64, 'a');
  EXPECT_EQ(RequestFingerprint(reordered), RequestFingerprint(Request()));
}

TEST(RequestFingerprintTest, ChangesWithTheSpecOrAnInput) {
  emar::v1::CreateJobRequest spec = Request();
  spec.mutable_spec()->set_name("sentiment-2");
  EXPECT_NE(RequestFingerprint(spec), RequestFingerprint(Request()));
  emar::v1::CreateJobRequest input = Request();
  (*input.mutable_input_digests())["base.target"] = std::string(64, 'c');
  EXPECT_NE(RequestFingerprint(input), RequestFingerprint(Request()));
}

}  // namespace
}  // namespace emar
