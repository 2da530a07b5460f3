// Request counting (server/request_counter.h): method labels from a fixed set, counts by status
// code and a duration histogram in Prometheus text, and the interceptor on a real server.
#include "server/request_counter.h"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "emar/v1/service.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kGetJob[] = "/emar.v1.EvaluationService/GetJob";

TEST(RequestCounterTest, ServedMethodsAreBothServicesHealthAndReflection) {
  const std::vector<std::string> methods = RequestCounter::ServedMethods();
  EXPECT_THAT(methods, Contains(kGetJob));
  EXPECT_THAT(methods, Contains("/emar.v1.EvaluationService/UploadBlob"));
  EXPECT_THAT(methods, Contains("/emar.v1.WorkerService/Lease"));
  EXPECT_THAT(methods, Contains("/grpc.health.v1.Health/Check"));
  EXPECT_THAT(methods, Contains("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"));
}

TEST(RequestCounterTest, UnknownNamesShareOneLabel) {
  RequestCounter counter({kGetJob});
  EXPECT_EQ(counter.LabelOf(kGetJob), kGetJob);
  EXPECT_EQ(counter.LabelOf("/made.up/Method"), RequestCounter::kUnknownMethod);
  EXPECT_EQ(counter.LabelOf(nullptr), RequestCounter::kUnknownMethod);
}

TEST(RequestCounterTest, CountsByCodeAndCumulativeDurationBuckets) {
  RequestCounter counter({kGetJob});
  counter.Observe(kGetJob, 0, 0.003);  // <= 0.005
  counter.Observe(kGetJob, 0, 0.2);    // <= 0.5
  counter.Observe(kGetJob, 5, 1000);   // past the last bound: +Inf only
  counter.Add("unknown", 12);          // counted, not timed
  const std::string text = counter.MetricsText();
  EXPECT_THAT(text, HasSubstr("# TYPE emar_grpc_requests_total counter\n"));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("emar_grpc_requests_total{method=\"", kGetJob,
                                           "\",code=\"OK\"} 2\n")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("emar_grpc_requests_total{method=\"", kGetJob,
                                           "\",code=\"NOT_FOUND\"} 1\n")));
  EXPECT_THAT(text,
              HasSubstr("emar_grpc_requests_total{method=\"unknown\",code=\"UNIMPLEMENTED\"} 1\n"));
  const std::string bucket =
      absl::StrCat("emar_grpc_request_duration_seconds_bucket{method=\"", kGetJob, "\",le=\"");
  EXPECT_THAT(text, HasSubstr(bucket + "0.001\"} 0\n"));
  EXPECT_THAT(text, HasSubstr(bucket + "0.005\"} 1\n"));
  EXPECT_THAT(text, HasSubstr(bucket + "0.1\"} 1\n"));
  EXPECT_THAT(text, HasSubstr(bucket + "0.5\"} 2\n"));
  EXPECT_THAT(text, HasSubstr(bucket + "300\"} 2\n"));
  EXPECT_THAT(text, HasSubstr(bucket + "+Inf\"} 3\n"));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("emar_grpc_request_duration_seconds_count{method=\"",
                                           kGetJob, "\"} 3\n")));
  EXPECT_THAT(text, Not(HasSubstr("duration_seconds_count{method=\"unknown\"}")));
}

// The interceptor on a real server over loopback: every finished call is counted under its
// method and status code, and timed. (Made-up method names: tests/server/edge_test.cc.)
TEST(RequestCounterTest, TheInterceptorCountsEveryFinishedCall) {
  RequestCounter counter(RequestCounter::ServedMethods());
  emar::v1::EvaluationService::CallbackService unimplemented;  // every method UNIMPLEMENTED
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&unimplemented);
  builder.experimental().SetInterceptorCreators(counter.InterceptorFactories());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
  auto stub = emar::v1::EvaluationService::NewStub(channel);
  for (int i = 0; i < 2; ++i) {
    grpc::ClientContext ctx;
    emar::v1::GetJobRequest req;
    emar::v1::Job job;
    EXPECT_EQ(stub->GetJob(&ctx, req, &job).error_code(), grpc::StatusCode::UNIMPLEMENTED);
  }
  server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  const std::string text = counter.MetricsText();
  EXPECT_THAT(text, HasSubstr(absl::StrCat("emar_grpc_requests_total{method=\"", kGetJob,
                                           "\",code=\"UNIMPLEMENTED\"} 2\n")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("emar_grpc_request_duration_seconds_count{method=\"",
                                           kGetJob, "\"} 2\n")));
}

}  // namespace
}  // namespace emar
