// The upload reactor (server/upload_reactor.h) alone, behind a service that serves only
// UploadBlob, over real gRPC on loopback, into a real blob store and job store in a temp dir:
// commit after verification, every way an upload is refused or ends early, and the limiter's
// slots and idle timeout.
#include "server/upload_reactor.h"

#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"
#include "common/sha256.h"
#include "common/status_matchers.h"
#include "server/blob_access.h"
#include "server/blob_store.h"
#include "server/job_store.h"
#include "tests/server/temp_dir.h"

namespace emar {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kMaxBlob = 1 << 20;
constexpr int64_t kMaxMessage = 64 << 10;

class UploadOnlyService : public emar::v1::EvaluationService::CallbackService {
 public:
  UploadOnlyService(BlobAccess* blobs, UploadLimiter* limiter) : blobs_(blobs), limiter_(limiter) {}
  grpc::ServerReadReactor<emar::v1::UploadBlobRequest>* UploadBlob(
      grpc::CallbackServerContext*, emar::v1::UploadBlobResponse* resp) override {
    return NewUploadReactor(blobs_, limiter_, kMaxBlob, kMaxMessage, Principal::Anonymous(), resp);
  }

 private:
  BlobAccess* const blobs_;
  UploadLimiter* const limiter_;
};

class UploadReactorTest : public ::testing::Test {
 protected:
  void Start(UploadLimits limits) {
    blob_store_ = std::make_unique<BlobStore>(dir_.path() + "/blobs", /*durable=*/false);
    ASSERT_OK(blob_store_->Init());
    ASSERT_OK_AND_ASSIGN(job_store_, JobStore::Open(dir_.path() + "/jobs.db"));
    blobs_ = std::make_unique<BlobAccess>(blob_store_.get(), job_store_.get(), BlobAccessOptions{},
                                          [](const std::string&) { return std::nullopt; });
    limiter_ = std::make_unique<UploadLimiter>(limits);
    service_ = std::make_unique<UploadOnlyService>(blobs_.get(), limiter_.get());
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = emar::v1::EvaluationService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    if (server_) server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  }

  // Sends a header declaring `sha` and `size`, then `data` in chunks of `chunk` bytes.
  absl::Status Upload(const std::string& sha, int64_t size, const std::string& data,
                      size_t chunk = 1000) {
    grpc::ClientContext ctx;
    emar::v1::UploadBlobResponse resp;
    auto writer = stub_->UploadBlob(&ctx, &resp);
    emar::v1::UploadBlobRequest msg;
    msg.set_sha256(sha);
    msg.set_size_bytes(size);
    size_t at = 0;
    do {
      msg.set_chunk(data.substr(at, chunk));
      at += chunk;
      if (!writer->Write(msg)) break;
      msg.clear_sha256();
      msg.clear_size_bytes();
    } while (at < data.size());
    writer->WritesDone();
    return FromGrpcStatus(writer->Finish());
  }

  // Temporary files left anywhere under the blob store.
  int TempFiles() {
    int n = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.path() + "/blobs")) {
      if (e.is_regular_file() && e.path().filename().string().size() != 64) ++n;
    }
    return n;
  }

  TempDir dir_;
  std::unique_ptr<BlobStore> blob_store_;
  std::unique_ptr<JobStore> job_store_;
  std::unique_ptr<BlobAccess> blobs_;
  std::unique_ptr<UploadLimiter> limiter_;
  std::unique_ptr<UploadOnlyService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<emar::v1::EvaluationService::Stub> stub_;
};

TEST_F(UploadReactorTest, AVerifiedUploadIsCommittedAndReadable) {
  Start({});
  const std::string data(5000, 'x');
  const std::string sha = Sha256Hex(data);
  EXPECT_OK(Upload(sha, data.size(), data));
  EXPECT_TRUE(blob_store_->Has(sha));
  ASSERT_OK_AND_ASSIGN(std::string stored, blob_store_->Read(sha, 0, -1));
  EXPECT_EQ(stored, data);
  EXPECT_TRUE(blobs_->HasFor(sha, Principal::Anonymous()));
  // Again: already present, acknowledged without a second copy.
  EXPECT_OK(Upload(sha, data.size(), data));
  EXPECT_EQ(TempFiles(), 0);
  EXPECT_EQ(limiter_->in_progress(), 0);
}

TEST_F(UploadReactorTest, WrongDigestOrSizeIsRefusedAndLeavesNothing) {
  Start({});
  const std::string data(3000, 'y');
  const std::string wrong = Sha256Hex("something else");
  EXPECT_THAT(Upload(wrong, data.size(), data),
              ::emar::testing::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_FALSE(blob_store_->Has(wrong));
  const std::string sha = Sha256Hex(data);
  EXPECT_THAT(Upload(sha, data.size() + 10, data),
              ::testing::Not(::emar::testing::IsOk()));  // short
  EXPECT_THAT(Upload(sha, data.size() - 10, data),
              ::testing::Not(::emar::testing::IsOk()));  // long
  EXPECT_FALSE(blob_store_->Has(sha));
  EXPECT_EQ(TempFiles(), 0);
  EXPECT_EQ(limiter_->in_progress(), 0);
}

TEST_F(UploadReactorTest, OversizedBlobsAndChunksNameTheirFlags) {
  Start({});
  const std::string big(kMaxBlob + 1, 'z');
  EXPECT_THAT(
      Upload(Sha256Hex(big), big.size(), big.substr(0, 10)),
      ::emar::testing::StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("--max-blob-mb")));
  const std::string data(kMaxMessage + 1, 'w');
  EXPECT_THAT(Upload(Sha256Hex(data), data.size(), data, data.size()),
              ::emar::testing::StatusIs(absl::StatusCode::kResourceExhausted,
                                        HasSubstr("--max-request-kb")));
  EXPECT_EQ(TempFiles(), 0);
}

TEST_F(UploadReactorTest, SlotsAreLimitedAndFreedWhenAnUploadEnds) {
  Start({.max_concurrent = 1, .idle_timeout = absl::InfiniteDuration()});
  const std::string data(2000, 'a');
  const std::string sha = Sha256Hex(data);
  // The first upload holds the only slot while its stream is open.
  grpc::ClientContext ctx;
  emar::v1::UploadBlobResponse resp;
  auto writer = stub_->UploadBlob(&ctx, &resp);
  emar::v1::UploadBlobRequest header;
  header.set_sha256(sha);
  header.set_size_bytes(data.size());
  header.set_chunk(data.substr(0, 1000));
  ASSERT_TRUE(writer->Write(header));
  for (int i = 0; i < 500 && limiter_->in_progress() == 0; ++i)
    absl::SleepFor(absl::Milliseconds(10));
  ASSERT_EQ(limiter_->in_progress(), 1);
  const std::string other(100, 'b');
  EXPECT_THAT(Upload(Sha256Hex(other), other.size(), other),
              ::emar::testing::StatusIs(absl::StatusCode::kResourceExhausted,
                                        ::testing::AllOf(HasSubstr(std::string(kUploadSlotsBusy)),
                                                         HasSubstr("--max-uploads"))));
  emar::v1::UploadBlobRequest rest;
  rest.set_chunk(data.substr(1000));
  ASSERT_TRUE(writer->Write(rest));
  writer->WritesDone();
  EXPECT_TRUE(writer->Finish().ok());
  EXPECT_EQ(limiter_->in_progress(), 0);  // freed before the client saw the status
  EXPECT_OK(Upload(Sha256Hex(other), other.size(), other));
}

TEST_F(UploadReactorTest, AnIdleUploadEndsAndItsPartialFileGoes) {
  Start({.max_concurrent = 4, .idle_timeout = absl::Milliseconds(200)});
  const std::string data(2000, 'c');
  grpc::ClientContext ctx;
  emar::v1::UploadBlobResponse resp;
  auto writer = stub_->UploadBlob(&ctx, &resp);
  emar::v1::UploadBlobRequest header;
  header.set_sha256(Sha256Hex(data));
  header.set_size_bytes(data.size());
  header.set_chunk(data.substr(0, 500));
  ASSERT_TRUE(writer->Write(header));
  // No more messages: the scan ends it, and the stream reports why.
  const grpc::Status status = writer->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_THAT(status.error_message(), HasSubstr("--upload-idle-seconds"));
  EXPECT_EQ(limiter_->in_progress(), 0);
  EXPECT_EQ(TempFiles(), 0);
  EXPECT_FALSE(blob_store_->Has(Sha256Hex(data)));
}

TEST_F(UploadReactorTest, ACancelledUploadFreesItsSlotAndFile) {
  Start({.max_concurrent = 1, .idle_timeout = absl::InfiniteDuration()});
  const std::string data(2000, 'd');
  {
    grpc::ClientContext ctx;
    emar::v1::UploadBlobResponse resp;
    auto writer = stub_->UploadBlob(&ctx, &resp);
    emar::v1::UploadBlobRequest header;
    header.set_sha256(Sha256Hex(data));
    header.set_size_bytes(data.size());
    header.set_chunk(data.substr(0, 500));
    ASSERT_TRUE(writer->Write(header));
    for (int i = 0; i < 500 && limiter_->in_progress() == 0; ++i)
      absl::SleepFor(absl::Milliseconds(10));
    ctx.TryCancel();
    EXPECT_FALSE(writer->Finish().ok());
  }
  for (int i = 0; i < 500 && limiter_->in_progress() > 0; ++i)
    absl::SleepFor(absl::Milliseconds(10));
  EXPECT_EQ(limiter_->in_progress(), 0);
  EXPECT_EQ(TempFiles(), 0);
  EXPECT_FALSE(blob_store_->Has(Sha256Hex(data)));
}

}  // namespace
}  // namespace emar
