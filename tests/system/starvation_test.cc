// The coordinator and the worker stay reachable when peers misbehave, as real processes on
// loopback: after the coordinator ran out of file descriptors (a connection flood under a low
// `ulimit -n`), after slow HTTP clients occupied its probe ports, and when its certificate
// has expired (it starts, says so, and exports the expiry).
#include <arpa/inet.h>
#include <dirent.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/status_matchers.h"
#include "emar/v1/service.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/system/http_probe.h"
#include "tests/system/local_cluster.h"
#include "tests/system/process.h"

namespace emar::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// How many descriptors process `pid` has open.
int OpenDescriptors(pid_t pid) {
  DIR* d = ::opendir(absl::StrCat("/proc/", pid, "/fd").c_str());
  if (d == nullptr) return -1;
  int n = 0;
  while (const dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
  ::closedir(d);
  return n;
}

// One ListJobs on a fresh channel, with a short deadline.
bool ListJobsAnswers(const std::string& server) {
  auto stub = emar::v1::EvaluationService::NewStub(
      grpc::CreateChannel(server, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  emar::v1::ListJobsResponse resp;
  return stub->ListJobs(&ctx, emar::v1::ListJobsRequest(), &resp).ok();
}

// gRPC 1.51 stopped accepting for good after one `accept4: Too many open files` (before the
// reserve descriptor, this coordinator never answered again); now a call succeeds within
// seconds of the flood's end.
TEST(DescriptorExhaustionTest, TheCoordinatorAnswersAgainOnceTheFloodIsGone) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("emar-emfile"));
  const std::string port_file = dir.Join("port");
  ASSERT_OK_AND_ASSIGN(
      auto coordinator,
      Process::Start({"/usr/bin/prlimit", "--nofile=128", BinPath("emar-coordinator"), "--listen",
                      "127.0.0.1:0", "--data_dir", dir.Join("data"), "--port_file", port_file},
                     dir.path()));
  const int port = WaitForPortFile(port_file, *coordinator);
  ASSERT_GT(port, 0) << coordinator->ReadStderr();
  const std::string server = absl::StrCat("127.0.0.1:", port);
  ASSERT_TRUE(ListJobsAnswers(server)) << coordinator->ReadStderr();

  // Twice the coordinator's descriptors: it accepts until EMFILE; the rest wait in the backlog.
  std::vector<int> flood;
  for (int i = 0; i < 256; ++i) {
    const int fd = Connect(port);
    if (fd >= 0) flood.push_back(fd);
  }
  ASSERT_GT(flood.size(), 128u);
  // Its descriptors run out (gRPC logs "Failed accept4: Too many open files", or the reserve
  // closes what it cannot keep).
  ASSERT_TRUE(
      PollUntil([&] { return OpenDescriptors(coordinator->pid()) >= 120; }, absl::Seconds(10)))
      << OpenDescriptors(coordinator->pid()) << " descriptors open\n"
      << coordinator->ReadStderr();
  for (int fd : flood) ::close(fd);

  const absl::Time closed = absl::Now();
  const bool answered = PollUntil([&] { return ListJobsAnswers(server); }, absl::Seconds(20),
                                  absl::Milliseconds(200));
  const absl::Duration took = absl::Now() - closed;
  std::cerr << "after the flood: " << (answered ? "answered" : "no answer") << " in " << took
            << "\n";
  EXPECT_TRUE(answered) << "no call succeeded " << took << " after the flood ended\n"
                        << coordinator->ReadStderr();
  EXPECT_LT(took, absl::Seconds(10));
  EXPECT_TRUE(coordinator->running());
}

// Slow HTTP clients (headers begun, never finished) on the probe ports: four times the threads
// cpp-httplib had there (8) on each. /healthz still answers at once on both binaries.
TEST(ProbeStarvationTest, SlowClientsDoNotDelayHealthzOnTheCoordinatorOrTheWorker) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("emar-slow-http"));
  ClusterOptions options;
  options.workers = 0;
  options.coordinator_flags = {"--metrics_listen", "127.0.0.1:0", "--metrics_port_file",
                               dir.Join("metrics-port")};
  ASSERT_OK_AND_ASSIGN(auto cluster, LocalCluster::Start(options));
  const int coordinator_port = WaitForPortFile(dir.Join("metrics-port"), cluster->coordinator());
  ASSERT_GT(coordinator_port, 0) << cluster->Logs();
  ASSERT_OK_AND_ASSIGN(auto worker,
                       Process::Start({BinPath("emar-worker"), "--coordinator", cluster->server(),
                                       "--health_listen", "127.0.0.1:0"},
                                      dir.path()));
  int worker_port = 0;
  ASSERT_TRUE(PollUntil(
      [&] {
        const std::string out = worker->ReadStdout();
        const size_t at = out.find("health on port ");
        return at != std::string::npos &&
               absl::SimpleAtoi(absl::StripAsciiWhitespace(out.substr(at + 15, 6)), &worker_port);
      },
      absl::Seconds(30)))
      << worker->ReadStdout() << worker->ReadStderr();

  for (const auto& [name, port] :
       {std::pair{"coordinator", coordinator_port}, std::pair{"worker", worker_port}}) {
    std::vector<int> slow;
    for (int i = 0; i < 32; ++i) {
      const int fd = Connect(port);
      ASSERT_GE(fd, 0);
      const std::string partial = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n";
      ::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL);
      slow.push_back(fd);
    }
    const absl::Time start = absl::Now();
    EXPECT_THAT(HttpGet(port, "/healthz", absl::Seconds(2)), StartsWith("HTTP/1.1 200 "))
        << name << " /healthz did not answer within 2 s of 32 slow connections";
    std::cerr << name << " /healthz answered in " << absl::Now() - start << "\n";
    for (int fd : slow) ::close(fd);
  }
}

// An expired certificate: the coordinator starts (a renewal should not need an outage), warns
// on stderr naming the file and the date, and exports the expiry for alerting.
TEST(CertificateExpiryTest, TheCoordinatorWarnsAndExportsTheExpiry) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("emar-expired"));
  // `openssl ca` is the tool that signs with explicit dates (req -x509 takes only -days > 0).
  ASSERT_OK(WriteFile(dir.Join("ca.cnf"),
                      "[ca]\ndefault_ca = expired\n[expired]\ndatabase = index.txt\n"
                      "new_certs_dir = .\nserial = serial\ndefault_md = sha256\npolicy = any\n"
                      "[any]\ncommonName = supplied\n[req]\ndistinguished_name = dn\n[dn]\n"));
  const std::string script = absl::StrCat(
      "set -e; cd '", dir.path(),
      "'; touch index.txt; echo 01 > serial; "
      "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -config ca.cnf "
      "-keyout tls.key -out tls.csr -subj /CN=localhost 2>/dev/null; "
      "openssl ca -batch -config ca.cnf -selfsign -keyfile tls.key -in tls.csr -out tls.crt "
      "-startdate 20200101000000Z -enddate 20200102000000Z 2>/dev/null");
  CommandResult made = RunCommand({"/bin/bash", "-c", script}, absl::Seconds(30));
  ASSERT_TRUE(made.exit.Exited(0)) << made.err;

  const std::string port_file = dir.Join("port");
  const std::string metrics_port_file = dir.Join("metrics-port");
  ASSERT_OK_AND_ASSIGN(
      auto coordinator,
      Process::Start({BinPath("emar-coordinator"), "--listen", "127.0.0.1:0", "--data_dir",
                      dir.Join("data"), "--port_file", port_file, "--tls_cert", dir.Join("tls.crt"),
                      "--tls_key", dir.Join("tls.key"), "--metrics_listen", "127.0.0.1:0",
                      "--metrics_port_file", metrics_port_file},
                     dir.path()));
  ASSERT_GT(WaitForPortFile(port_file, *coordinator), 0) << coordinator->ReadStderr();
  EXPECT_THAT(coordinator->ReadStderr(),
              HasSubstr(absl::StrCat("warning: --tls-cert ", dir.Join("tls.crt"),
                                     " expired at 2020-01-02T00:00:00Z")));
  const int metrics_port = WaitForPortFile(metrics_port_file, *coordinator);
  ASSERT_GT(metrics_port, 0);
  EXPECT_THAT(HttpGet(metrics_port, "/metrics", absl::Seconds(5)),
              HasSubstr("\nemar_tls_certificate_expiry_timestamp_seconds 1577923200\n"));
}

}  // namespace
}  // namespace emar::testing
