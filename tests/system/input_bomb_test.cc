// Decompression bombs against a real coordinator: a gzip and a zstd file that expand to 1 GiB of
// zeros, named by every input of a job, are refused with RESOURCE_EXHAUSTED naming the limit,
// and the coordinator's resident memory grows by less than the input limit while it decides
// (two planner threads decode the bomb at once).
#include <grpcpp/grpcpp.h>
#include <zlib.h>
#include <zstd.h>

#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "common/sha256.h"
#include "common/status_matchers.h"
#include "emar/v1/service.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/system/local_cluster.h"
#include "tests/system/proc_status.h"

namespace emar::testing {
namespace {

using ::testing::HasSubstr;

constexpr int kLimitMb = 128;
constexpr size_t kBombBytes = size_t{1} << 30;  // 8x the limit

// `kBombBytes` zeros, gzip-compressed a MiB at a time (about 1 MB).
std::string GzipBomb() {
  z_stream zs{};
  deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
  const std::string zeros(1 << 20, '\0');
  std::string out;
  char buf[1 << 16];
  for (size_t fed = 0; fed < kBombBytes; fed += zeros.size()) {
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
    zs.avail_in = static_cast<uInt>(zeros.size());
    const int flush = fed + zeros.size() == kBombBytes ? Z_FINISH : Z_NO_FLUSH;
    do {
      zs.next_out = reinterpret_cast<Bytef*>(buf);
      zs.avail_out = sizeof(buf);
      deflate(&zs, flush);
      out.append(buf, sizeof(buf) - zs.avail_out);
    } while (zs.avail_out == 0);
  }
  deflateEnd(&zs);
  return out;
}

// The same zeros as one zstd frame that declares no size (as streaming compressors write it).
std::string ZstdBomb() {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  const std::string zeros(1 << 20, '\0');
  std::string out;
  std::string buf(ZSTD_CStreamOutSize(), '\0');
  for (size_t fed = 0; fed < kBombBytes; fed += zeros.size()) {
    ZSTD_inBuffer in{zeros.data(), zeros.size(), 0};
    const bool last = fed + zeros.size() == kBombBytes;
    size_t left;
    do {
      ZSTD_outBuffer o{buf.data(), buf.size(), 0};
      left = ZSTD_compressStream2(cctx, &o, &in, last ? ZSTD_e_end : ZSTD_e_continue);
      out.append(buf.data(), o.pos);
    } while (in.pos < in.size || (last && left != 0));
  }
  ZSTD_freeCCtx(cctx);
  return out;
}

class InputBombTest : public ::testing::TestWithParam<std::string> {};

TEST_P(InputBombTest, IsRefusedWithinTheInputLimitOfMemory) {
  const std::string bomb = GetParam() == "gzip" ? GzipBomb() : ZstdBomb();
  ASSERT_LT(bomb.size(), size_t{2} << 20);
  ClusterOptions options;
  options.workers = 0;
  options.coordinator_flags = {"--max_input_mb", std::to_string(kLimitMb)};
  ASSERT_OK_AND_ASSIGN(auto cluster, LocalCluster::Start(options));
  auto channel = grpc::CreateChannel(cluster->server(), grpc::InsecureChannelCredentials());
  auto stub = emar::v1::EvaluationService::NewStub(channel);
  const std::string sha = Sha256Hex(bomb);
  {
    grpc::ClientContext ctx;
    emar::v1::UploadBlobResponse resp;
    auto w = stub->UploadBlob(&ctx, &resp);
    emar::v1::UploadBlobRequest msg;
    msg.set_sha256(sha);
    msg.set_size_bytes(static_cast<int64_t>(bomb.size()));
    msg.set_chunk(bomb);
    w->Write(msg);
    w->WritesDone();
    const grpc::Status st = w->Finish();
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  emar::v1::CreateJobRequest req;
  emar::v1::JobSpec& s = *req.mutable_spec();
  s.set_name("bomb");
  for (emar::v1::DatasetSpec* d : {s.mutable_target(), s.mutable_benchmark()}) {
    d->set_name("d");
    d->set_references("bomb.jsonl.z");
    d->set_metric("accuracy");
  }
  s.mutable_base()->set_name("base");
  s.mutable_base()->set_target_outputs("bomb.jsonl.z");
  s.mutable_base()->set_benchmark_outputs("bomb.jsonl.z");
  *s.add_candidates() = s.base();
  s.mutable_candidates(0)->set_name("cand");
  (*req.mutable_input_digests())["bomb.jsonl.z"] = sha;

  const pid_t pid = cluster->coordinator().pid();
  const int64_t before_kb = ProcStatusKb(pid, "VmRSS");
  ASSERT_GT(before_kb, 0);
  ASSERT_TRUE(ResetPeakRssOf(pid));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  emar::v1::Job job;
  const absl::Time start = absl::Now();
  const grpc::Status st = stub->CreateJob(&ctx, req, &job);
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << st.error_message();
  EXPECT_THAT(st.error_message(), HasSubstr("bomb.jsonl.z: decompressed data exceeds the limit"));
  EXPECT_THAT(st.error_message(), HasSubstr("--max-input-mb"));
  const int64_t grown_kb = ProcStatusKb(pid, "VmHWM") - before_kb;
  EXPECT_LT(grown_kb, int64_t{kLimitMb} << 10)
      << "the coordinator's peak grew by " << grown_kb << " KiB deciding on a bomb";
  std::cerr << GetParam() << " bomb refused in " << took << ", peak growth " << grown_kb
            << " KiB (limit " << kLimitMb << " MiB)\n";
  // Still serving.
  grpc::ClientContext list_ctx;
  emar::v1::ListJobsResponse list;
  EXPECT_TRUE(stub->ListJobs(&list_ctx, emar::v1::ListJobsRequest(), &list).ok());
}

INSTANTIATE_TEST_SUITE_P(Formats, InputBombTest, ::testing::Values("gzip", "zstd"));

}  // namespace
}  // namespace emar::testing
