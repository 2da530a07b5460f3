// The upload pipeline (client/upload_pipeline.h) against a real coordinator on loopback TCP: its
// calls are the real FindMissingBlobs and EvaluationClient::Upload, counted on the way.
#include "client/upload_pipeline.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/evaluation_client.h"
#include "common/grpc_status.h"
#include "common/sha256.h"
#include "common/status_matchers.h"
#include "server/coordinator.h"
#include "server/coordinator_server.h"
#include "tests/server/temp_dir.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

class UploadPipelineTest : public ::testing::Test {
 protected:
  void StartServer(int max_uploads = 64) {
    CoordinatorOptions o;
    o.data_dir = data_.path();
    ASSERT_OK_AND_ASSIGN(coordinator_, Coordinator::Create(o));
    ServerOptions s{"127.0.0.1:0"};
    s.uploads.max_concurrent = max_uploads;
    ASSERT_OK_AND_ASSIGN(server_, CoordinatorServer::Start(coordinator_.get(), s));
    auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                       grpc::InsecureChannelCredentials());
    stub_ = emar::v1::EvaluationService::NewStub(channel);
    client_ = std::make_unique<EvaluationClient>(channel);
    calls_.is_missing = [this](const std::string& sha256) -> absl::StatusOr<bool> {
      emar::v1::FindMissingBlobsRequest req;
      req.add_sha256(sha256);
      emar::v1::FindMissingBlobsResponse resp;
      grpc::ClientContext ctx;
      absl::Status s = FromGrpcStatus(stub_->FindMissingBlobs(&ctx, req, &resp));
      if (!s.ok()) return s;
      return resp.missing_sha256_size() > 0;
    };
    calls_.upload = [this](const std::string& path, const std::string& sha256,
                           const std::function<void(int64_t)>& on_chunk,
                           const std::function<void()>& on_sent) {
      {
        absl::MutexLock lock(&mu_);
        uploads_.push_back(path);
      }
      return client_->Upload(path, sha256, on_chunk, on_sent);
    };
  }
  void TearDown() override {
    if (server_) server_->Shutdown(absl::Seconds(2));
  }

  // A file in the inputs dir, with its size.
  UploadFile File(const std::string& name, const std::string& content) {
    const std::string path = inputs_.path() + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return {path, "field:" + name, static_cast<int64_t>(content.size())};
  }
  std::vector<std::string> Uploads() {
    absl::MutexLock lock(&mu_);
    return uploads_;
  }
  bool Present(const std::string& sha256) { return !*calls_.is_missing(sha256); }

  TempDir data_, inputs_;
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<CoordinatorServer> server_;
  std::unique_ptr<emar::v1::EvaluationService::Stub> stub_;
  std::unique_ptr<EvaluationClient> client_;
  UploadCalls calls_;
  absl::Mutex mu_;
  std::vector<std::string> uploads_ ABSL_GUARDED_BY(mu_);
};

TEST_F(UploadPipelineTest, UploadsOnlyWhatTheCoordinatorLacksAndReturnsEveryDigest) {
  StartServer();
  const UploadFile present = File("present.jsonl", "{\"id\": 1}\n");
  const UploadFile fresh = File("fresh.jsonl", std::string(3 << 20, 'x'));  // three chunks
  const UploadFile twin = File("twin.jsonl", std::string(3 << 20, 'x'));    // same content
  const UploadFile empty = File("empty.jsonl", "");
  ASSERT_OK_AND_ASSIGN(std::string present_sha, Sha256OfFile(present.path));
  ASSERT_OK(client_->Upload(present.path, present_sha));

  struct Event {
    std::string phase;
    int64_t done, total;
  };
  absl::Mutex events_mu;
  std::vector<Event> events;
  auto on_transfer = [&](const std::string& phase, int64_t done, int64_t total) {
    absl::MutexLock lock(&events_mu);
    events.push_back({phase, done, total});
  };
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> digests,
                       UploadInputs({present, fresh, twin, empty}, calls_, on_transfer));

  std::vector<std::string> expected;
  for (const UploadFile& f : {present, fresh, twin, empty}) {
    expected.push_back(*Sha256OfFile(f.path));
    EXPECT_TRUE(Present(expected.back())) << f.path;
  }
  EXPECT_EQ(digests, expected);
  // The twin's content was asked about once and sent once; the present file not at all.
  EXPECT_THAT(Uploads(), UnorderedElementsAre(fresh.path, empty.path));
  absl::MutexLock lock(&events_mu);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front().phase, "hashing");
  EXPECT_EQ(events.front().total, present.size + fresh.size + twin.size);
  EXPECT_EQ(events.back().phase, "uploading");
  // Uploading counts the bytes the coordinator lacks (or may lack: not yet asked about) as the
  // total, so it never passes the fresh file and its twin, and what is sent is the fresh file.
  int64_t most_sent = 0;
  for (const Event& e : events) {
    EXPECT_LE(e.done, e.total) << e.phase;
    if (e.phase != "uploading") continue;
    EXPECT_LE(e.total, fresh.size + twin.size);
    most_sent = std::max(most_sent, e.done);
  }
  EXPECT_EQ(most_sent, fresh.size);
}

TEST_F(UploadPipelineTest, AFileThatCannotBeReadIsNamedByItsFieldAndNothingIsUploaded) {
  StartServer();
  const UploadFile missing{inputs_.path() + "/gone.jsonl", "candidates[0].target", 0};
  const UploadFile good = File("good.jsonl", "{\"id\": 2}\n");
  EXPECT_THAT(UploadInputs({missing, good}, calls_, nullptr),
              StatusIs(absl::StatusCode::kNotFound,
                       ::testing::AllOf(HasSubstr("job spec field 'candidates[0].target'"),
                                        HasSubstr("gone.jsonl"))));
  EXPECT_THAT(Uploads(), IsEmpty());
  EXPECT_FALSE(Present(*Sha256OfFile(good.path)));
}

// A coordinator in this process (emarctl run): the files go straight into its store, two at a
// time, without hashing first, asking or uploading; an unreadable one is named by its field.
TEST_F(UploadPipelineTest, ImportedFilesSkipHashingAndUploading) {
  StartServer();
  std::vector<UploadFile> files;
  for (int i = 0; i < 5; ++i) {
    files.push_back(File(absl::StrCat("f", i, ".jsonl"), std::string(1000 * (i + 1), 'a' + i)));
  }
  UploadCalls import;
  import.import_file = [this](const std::string& path) {
    return coordinator_->blobs().ImportFile(path);
};
std::atomic<int64_t> last_done{0};
std::atomic<int> hashing{0};
auto on_transfer = [&](const std::string& phase, int64_t done, int64_t) {
  if (phase == "hashing") ++hashing;
  last_done = std::max<int64_t>(last_done, done);
};
ASSERT_OK_AND_ASSIGN(std::vector<std::string> digests, UploadInputs(files, import, on_transfer));
ASSERT_EQ(digests.size(), files.size());
for (size_t i = 0; i < files.size(); ++i) {
  EXPECT_EQ(digests[i], *Sha256OfFile(files[i].path)) << i;  // in input order
  EXPECT_TRUE(Present(digests[i]));
}
EXPECT_EQ(hashing.load(), 0);
EXPECT_EQ(last_done.load(), 15000);
EXPECT_THAT(Uploads(), IsEmpty());
files.push_back({inputs_.path() + "/gone.jsonl", "candidates[1].benchmark_outputs", 0});
EXPECT_THAT(UploadInputs(files, import, nullptr),
            StatusIs(absl::StatusCode::kNotFound,
                     ::testing::AllOf(HasSubstr("job spec field 'candidates[1].benchmark_outputs'"),
                                      HasSubstr("gone.jsonl"))));
}  // namespace

// Each imported file is one thread's, so the largest go first: the two threads start on the two
// largest files, whatever their place in the spec; digests still come back in the spec's order.
TEST_F(UploadPipelineTest, ImportStartsWithTheLargestFiles) {
  StartServer();
  std::vector<UploadFile> files;
  for (int size : {10, 4000, 20, 3000, 30}) {
    files.push_back(File(absl::StrCat("s", size, ".jsonl"), std::string(size, 'x')));
  }
  absl::Mutex mu;
  std::vector<std::string> started;
  UploadCalls import;
  // The first call waits for the second, so neither thread takes a third file before both began.
  import.import_file = [&](const std::string& path) { { absl::MutexLock lock(&mu);
  started.push_back(path);
  mu.AwaitWithTimeout(absl::Condition(
                          +[](std::vector<std::string>* s) { return s->size() >= 2; }, &started),
                      absl::Seconds(10));
}
return coordinator_->blobs().ImportFile(path);
};  // namespace emar
ASSERT_OK_AND_ASSIGN(std::vector<std::string> digests, UploadInputs(files, import, nullptr));
for (size_t i = 0; i < files.size(); ++i) EXPECT_EQ(digests[i], *Sha256OfFile(files[i].path));
absl::MutexLock lock(&mu);
ASSERT_EQ(started.size(), files.size());
EXPECT_THAT(std::vector<std::string>(started.begin(), started.begin() + 2),
            ::testing::UnorderedElementsAre(files[1].path, files[3].path));
}

TEST_F(UploadPipelineTest, AnUnreachableCoordinatorIsTheError) {
  StartServer();
  server_->Shutdown(absl::Seconds(1));
  server_.reset();
  EXPECT_THAT(UploadInputs({File("a.jsonl", "a\n")}, calls_, nullptr),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(Uploads(), IsEmpty());
}

// One upload slot on the coordinator: the pipeline's second upload, started while the first
// awaits its fsync, may be refused for want of a slot; it is retried and every file arrives.
TEST_F(UploadPipelineTest, WithOneUploadSlotEveryFileStillArrives) {
  StartServer(/*max_uploads=*/1);
  std::vector<UploadFile> files;
  for (int i = 0; i < 6; ++i) {
    files.push_back(File(absl::StrCat("f", i, ".jsonl"), std::string((1 << 20) + i, 'a' + i)));
  }
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> digests, UploadInputs(files, calls_, nullptr));
  ASSERT_EQ(digests.size(), files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(digests[i], *Sha256OfFile(files[i].path));
    EXPECT_TRUE(Present(digests[i])) << files[i].path;
  }
  std::set<std::string> uploaded;
  for (const std::string& path : Uploads()) uploaded.insert(path);
  EXPECT_EQ(uploaded.size(), files.size());
}

TEST_F(UploadPipelineTest, NoFilesNoCalls) {
  StartServer();
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> digests, UploadInputs({}, calls_, nullptr));
  EXPECT_THAT(digests, IsEmpty());
  EXPECT_THAT(Uploads(), ElementsAre());
}

}  // namespace emar
}  // namespace emar
