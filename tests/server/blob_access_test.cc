// BlobAccess on a real blob store and job store: who may use an upload, the store quota, the
// inputs a job may name, lease-checked reads, and deleting only the blobs no job reads.
#include "server/blob_access.h"

#include <memory>
#include <optional>
#include <string>

#include "common/sha256.h"
#include "common/status_matchers.h"
#include "tests/server/temp_dir.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const Principal kAlice{Role::kClient, "alice"};
const Principal kBob{Role::kClient, "bob"};

class BlobAccessTest : public ::testing::Test {
 protected:
  void SetUp() override { Open({}); }
  void Open(BlobAccessOptions options) {
    access_.reset();
    blobs_ = std::make_unique<BlobStore>(dir_.path(), /*durable=*/false);
    ASSERT_OK(blobs_->Init());
    if (store_ == nullptr) {
      ASSERT_OK_AND_ASSIGN(store_, JobStore::Open(dir_.path() + "/jobs.db"));
    }
    access_ = std::make_unique<BlobAccess>(
        blobs_.get(), store_.get(), options,
        [this](const std::string& lease_id) -> std::optional<emar::v1::ShardTask> {
          if (lease_id != "lease-1") return std::nullopt;
          return leased_;
        });
  }
  // Stores `text` as uploaded by `who`.
  std::string Upload(const std::string& text, const Principal& who) {
    auto sha = blobs_->Put(text);
    EXPECT_OK(sha.status());
    EXPECT_OK(access_->RecordUpload(sha.value_or(""), who));
    return sha.value_or("");
  }
  // A finished job reading `sha`.
  void StoreJob(const std::string& job_id, const std::string& sha) {
    emar::v1::Job job;
    job.set_job_id(job_id);
    job.set_state(emar::v1::JOB_STATE_SUCCEEDED);
    emar::v1::CreateJobRequest req;
    (*req.mutable_input_digests())["in.jsonl"] = sha;
    ASSERT_OK(store_->CreateJob(job, req, {}).status());
  }

  TempDir dir_;
  std::unique_ptr<BlobStore> blobs_;
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<BlobAccess> access_;
  emar::v1::ShardTask leased_;
};

TEST_F(BlobAccessTest, AnUploadIsItsUploadersOnly) {
  const std::string sha = Upload("alice's data\n", kAlice);
  EXPECT_TRUE(access_->HasFor(sha, kAlice));
  EXPECT_FALSE(access_->HasFor(sha, kBob));  // must upload (prove it has) the bytes itself
  EXPECT_TRUE(access_->HasFor(sha, Principal::Anonymous()));  // admins see every blob
  const std::string absent = Sha256Hex("never uploaded");
  EXPECT_THAT(access_->FindMissing({sha, absent}, kBob), ElementsAre(sha, absent));
  EXPECT_THAT(access_->FindMissing({sha, absent}, kAlice), ElementsAre(absent));
}

TEST_F(BlobAccessTest, CheckInputsNamesTheFirstInputNotUploaded) {
  const std::string sha = Upload("x\n", kAlice);
  emar::v1::CreateJobRequest req;
  (*req.mutable_input_digests())["refs.jsonl"] = sha;
  EXPECT_OK(access_->CheckInputs(req, kAlice));
  EXPECT_THAT(access_->CheckInputs(req, kBob),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("input 'refs.jsonl': blob " + sha + " was not uploaded")));
}

TEST_F(BlobAccessTest, QuotaCountsStoredBytes) {
  Open({.max_store_bytes = 10});
  EXPECT_OK(access_->CheckQuota(10));
  Upload("123456", kAlice);  // 6 bytes
  EXPECT_OK(access_->CheckQuota(4));
  EXPECT_THAT(access_->CheckQuota(5),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("--max-store-gb")));
}

emar::v1::BlobRange Range(const std::string& sha, int64_t offset, int64_t length) {
  emar::v1::BlobRange r;
  r.set_sha256(sha);
  r.set_offset(offset);
  r.set_length(length);
  return r;
}

TEST_F(BlobAccessTest, ReadsNeedACurrentLeaseOfAShardReadingTheBlob) {
  EXPECT_OK(access_->CheckRead("anything", Range("sha", 0, -1)));  // without reads_need_lease
  Open({.reads_need_lease = true});
  leased_.set_job_id("j1");
  *leased_.mutable_references() = Range("refs", 0, -1);
  *leased_.mutable_outputs() = Range("outs", 100, 50);
  EXPECT_OK(access_->CheckRead("lease-1", Range("refs", 0, -1)));
  EXPECT_OK(access_->CheckRead("lease-1", Range("refs", 7, 3)));
  EXPECT_OK(access_->CheckRead("lease-1", Range("outs", 100, 50)));
  EXPECT_OK(access_->CheckRead("lease-1", Range("outs", 120, 30)));
  EXPECT_THAT(access_->CheckRead("lease-1", Range("other", 0, -1)),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("does not read blob other")));
  EXPECT_THAT(access_->CheckRead("lease-2", Range("refs", 0, -1)),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("is not current")));
  // Outside the leased range of the outputs: before, after, to the end, or overflowing.
  for (const emar::v1::BlobRange& r :
       {Range("outs", 0, -1), Range("outs", 99, 10), Range("outs", 140, 11), Range("outs", 100, -1),
        Range("outs", 149, INT64_MAX)}) {
    EXPECT_THAT(access_->CheckRead("lease-1", r),
                StatusIs(absl::StatusCode::kPermissionDenied,
                         HasSubstr("reads bytes 100..150 of blob outs")))
        << r.ShortDebugString();
  }
  // The refusal names an overflowing request without computing its end (undefined behaviour).
  EXPECT_THAT(access_->CheckRead("lease-1", Range("outs", 149, INT64_MAX)),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("not 9223372036854775807 bytes from byte 149")));
}

TEST_F(BlobAccessTest, DeletingAJobRemovesOnlyBlobsNoOtherJobReads) {
  const std::string shared = Upload("shared\n", kAlice);
  const std::string own = Upload("own\n", kAlice);
  StoreJob("j1", shared);
  StoreJob("j2", shared);
  StoreJob("j3", own);
  ASSERT_OK_AND_ASSIGN(BlobsFreed freed, access_->DeleteJob("j1"));
  EXPECT_EQ(freed.removed, 0);
  EXPECT_TRUE(blobs_->Has(shared));  // j2 still reads it
  ASSERT_OK_AND_ASSIGN(freed, access_->DeleteJob("j3"));
  EXPECT_EQ(freed.removed, 1);
  EXPECT_EQ(freed.bytes, 4);
  EXPECT_FALSE(blobs_->Has(own));
}

TEST_F(BlobAccessTest, UnreadUploadsGoAfterTheCutoff) {
  const std::string read = Upload("read\n", kAlice);
  const std::string unread = Upload("unread\n", kAlice);
  StoreJob("j1", read);
  ASSERT_OK_AND_ASSIGN(BlobsFreed none, access_->RemoveUnreadBefore(absl::InfinitePast()));
  EXPECT_EQ(none.removed, 0);
  ASSERT_OK_AND_ASSIGN(BlobsFreed freed, access_->RemoveUnreadBefore(absl::Now() + absl::Hours(1)));
  EXPECT_EQ(freed.removed, 1);
  EXPECT_TRUE(blobs_->Has(read));
  EXPECT_FALSE(blobs_->Has(unread));
}

}  // namespace
}  // namespace emar
