// Quotas and upload slots under concurrency, on a real coordinator with tokens over loopback: the
// per-principal cap on unfinished jobs and the store quota hold when many requests arrive at
// once (they are reserved before the work starts), and one principal holding every upload slot
// with trickles cannot keep another's uploads out.
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "common/file_util.h"
#include "tests/server/secured_coordinator.h"
#include "tests/server/small_job.h"

namespace emar {
namespace {

using ::testing::HasSubstr;

class QuotaRaceTest : public SecuredCoordinatorTest, public ::testing::WithParamInterface<int> {};

// 40 CreateJob at once against a cap of 3 (no worker: every accepted job stays unfinished).
TEST_P(QuotaRaceTest, ConcurrentCreateJobsAcceptExactlyTheCap) {
  CoordinatorOptions o;
  o.max_unfinished_jobs_per_principal = 3;
  o.planner_threads = GetParam();
  Start(o);
  SmallJob job(inputs_.path());
  auto alice = Client(kAlice);
  ASSERT_OK(alice->Submit(job.Load(), "").status());  // uploads the inputs once
  std::atomic<int> accepted{1}, refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 39; ++i) {
    threads.emplace_back([&] {
      absl::StatusOr<emar::v1::Job> j = Client(kAlice)->Submit(job.Load(), "");
      if (j.ok()) {
        ++accepted;
      } else if (absl::IsResourceExhausted(j.status())) {
        ++refused;
      } else {
        ADD_FAILURE() << j.status();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::cerr << "planner threads " << GetParam() << ": " << accepted << " of 40 accepted, cap 3"
            << std::endl;
  EXPECT_EQ(accepted, 3);
  EXPECT_EQ(refused, 37);
  ASSERT_OK_AND_ASSIGN(auto jobs, alice->ListJobs(100));
  EXPECT_EQ(jobs.size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(PlannerThreads, QuotaRaceTest, ::testing::Values(2, 8));

// 12 uploads of 0.9 MB at once against a 4 MB store: what is stored stays within it.
TEST_F(SecuredCoordinatorTest, ConcurrentUploadsStayWithinTheStoreQuota) {
  CoordinatorOptions o;
  o.max_store_bytes = 4'000'000;  // --max-store-gb 0.004
  Start(o);
  std::vector<std::string> paths;
  for (int i = 0; i < 12; ++i) {
    paths.push_back(absl::StrCat(inputs_.path(), "/blob", i));
    Write(paths.back(), std::string(900'000, static_cast<char>('a' + i)));
  }
  std::atomic<int> stored{0};
  std::vector<std::thread> threads;
  for (const std::string& path : paths) {
    threads.emplace_back([&, path] {
      const std::string sha = Sha256Hex(ReadFileToString(path).value());
      absl::Status s = Client(kAlice)->Upload(path, sha);
      if (s.ok()) {
        ++stored;
      } else {
        EXPECT_THAT(s, ::emar::testing::StatusIs(absl::StatusCode::kResourceExhausted,
                                                 HasSubstr("--max-store-gb")));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const int64_t used = coordinator_->blob_access().used_bytes();
  std::cerr << stored << " of 12 uploads stored, " << used << " bytes of a 4000000-byte quota"
            << std::endl;
  EXPECT_LE(used, o.max_store_bytes);
  EXPECT_EQ(stored, 4);  // 4 x 0.9 MB fit, a fifth would not
}

// Alice holds every upload slot with uploads sending a byte every two seconds; Bob's uploads
// get slots (reclaimed from her beyond her share), and her trickles lose theirs once the idle
// timeout has seen too little progress.
TEST_F(SecuredCoordinatorTest, ATricklingPrincipalCannotHoldEveryUploadSlot) {
  ServerOptions s;
  s.uploads = {.max_concurrent = 4, .idle_timeout = absl::Seconds(3)};
  Start({}, s);
  auto alice = ClientStub(kAlice);
  struct Trickle {
    grpc::ClientContext ctx;
    emar::v1::UploadBlobResponse resp;
    std::unique_ptr<grpc::ClientWriter<emar::v1::UploadBlobRequest>> writer;
  };
  std::vector<std::unique_ptr<Trickle>> trickles;
  for (int i = 0; i < 4; ++i) {
    auto t = std::make_unique<Trickle>();
    t->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(40));
    t->writer = alice->UploadBlob(&t->ctx, &t->resp);
    emar::v1::UploadBlobRequest header;
    header.set_sha256(Sha256Hex(absl::StrCat("never sent ", i)));
    header.set_size_bytes(1 << 20);
    header.set_chunk("x");
    ASSERT_TRUE(t->writer->Write(header));
    trickles.push_back(std::move(t));
  }
  // A Write returns once the message is sent: wait until the server has admitted all four, so
  // her fifth upload below meets them (not a race with their headers).
  for (const absl::Time until = absl::Now() + absl::Seconds(20);
       server_->uploads_in_progress() < 4 && absl::Now() < until;) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(server_->uploads_in_progress(), 4);
  // One byte every two seconds on each, until the server ends them (a write then fails).
  std::atomic<int> alive{4};
  std::thread trickler([&] {
    std::vector<bool> ended(trickles.size(), false);
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    while (alive > 0 && absl::Now() < give_up) {
      absl::SleepFor(absl::Seconds(2));
      for (size_t i = 0; i < trickles.size(); ++i) {
        emar::v1::UploadBlobRequest byte;
        byte.set_chunk("x");
        if (!ended[i] && !trickles[i]->writer->Write(byte)) {
          ended[i] = true;
          --alive;
        }
      }
    }
  });
  // Her fifth upload is refused: she holds every slot.
  const std::string own = inputs_.path() + "/alice";
  Write(own, "alice's file\n");
  EXPECT_THAT(Client(kAlice)->Upload(own, Sha256Hex("alice's file\n")),
              ::emar::testing::StatusIs(absl::StatusCode::kResourceExhausted,
                                        HasSubstr("holds its share")));
  int succeeded = 0;
  for (int i = 0; i < 10; ++i) {
    const std::string path = absl::StrCat(inputs_.path(), "/bob", i);
    const std::string text = absl::StrCat("bob's file ", i, "\n");
    Write(path, text);
    absl::Status up = Client(kBob)->Upload(path, Sha256Hex(text));
    EXPECT_OK(up);
    succeeded += up.ok();
  }
  std::cerr << succeeded << " of Bob's 10 uploads succeeded while Alice trickled" << std::endl;
  // Each trickle ends: its slot reclaimed for Bob, or ended as idle once the timeout has seen
  // too little progress (a few bytes in 3 s).
  trickler.join();
  int reclaimed = 0, idle = 0;
  for (auto& t : trickles) {
    const grpc::Status st = t->writer->Finish();
    if (st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      EXPECT_THAT(st.error_message(), HasSubstr("went to another principal"));
      ++reclaimed;
    } else {
      EXPECT_EQ(st.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << st.error_message();
      EXPECT_THAT(st.error_message(), HasSubstr("a trickle holding its slot"));
      ++idle;
    }
  }
  EXPECT_GE(reclaimed, 1);
  EXPECT_GE(idle, 1);
}

}  // namespace
}  // namespace emar
