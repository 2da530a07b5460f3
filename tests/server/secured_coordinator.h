// A real coordinator on loopback with tokens (client API and worker API on separate ports), for
// tests of who may do what: alice and bob are clients, pool a worker, root an admin.
#ifndef EMAR_TESTS_SERVER_SECURED_COORDINATOR_H_
#define EMAR_TESTS_SERVER_SECURED_COORDINATOR_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client/evaluation_client.h"
#include "common/client_channel.h"
#include "common/sha256.h"
#include "common/status_matchers.h"
#include "gtest/gtest.h"
#include "server/auth.h"
#include "server/coordinator.h"
#include "server/coordinator_server.h"
#include "tests/server/temp_dir.h"
#include "worker/worker_loop.h"

namespace emar {

constexpr char kAlice[] = "alice-secret-token";
constexpr char kBob[] = "bob-secret-token";
constexpr char kWorker[] = "worker-secret-token";
constexpr char kRoot[] = "root-secret-token";

inline std::string TokensFile() {
  return absl::StrCat("# role principal sha256\n",                //
                      "client alice ", Sha256Hex(kAlice), "\n",   //
                      "client bob   ", Sha256Hex(kBob), "\n",     //
                      "worker pool  ", Sha256Hex(kWorker), "\n",  //
                      "admin  root  ", Sha256Hex(kRoot), "  # operators\n");
}

// A clock that can run ahead of the files' times (retention). It must outlive the coordinator
// using it: the fixture owns it.
class ShiftedClock : public Clock {
 public:
  absl::Time Now() override { return absl::Now() + shift.load(); }
  std::atomic<absl::Duration> shift{absl::ZeroDuration()};
};

class SecuredCoordinatorTest : public ::testing::Test {
 protected:
  void Start(CoordinatorOptions o = {}, ServerOptions s = {}) {
    o.data_dir = data_.path();
    o.tick = absl::Milliseconds(10);
    o.reads_need_lease = true;
    auto c = Coordinator::Create(o, clock_);
    ASSERT_OK(c.status());
    coordinator_ = std::move(*c);
    s.listen = "127.0.0.1:0";
    s.worker_listen = "127.0.0.1:0";
    ASSERT_OK_AND_ASSIGN(s.tokens, TokenTable::Parse(TokensFile(), "tokens"));
    auto server = CoordinatorServer::Start(coordinator_.get(), s);
    ASSERT_OK(server.status());
    server_ = std::move(*server);
    client_address_ = absl::StrCat("127.0.0.1:", server_->port());
    worker_address_ = absl::StrCat("127.0.0.1:", server_->worker_port());
    ASSERT_NE(server_->port(), server_->worker_port());
  }
  void TearDown() override {
    if (worker_) worker_->Stop();
    if (worker_thread_.joinable()) worker_thread_.join();
    if (server_) server_->Shutdown(absl::Seconds(2));
    server_.reset();
    coordinator_.reset();
  }

  std::shared_ptr<grpc::Channel> Channel(const std::string& address, const std::string& token) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return *OpenChannel({.target = address, .tls = {}, .token = token}, args);
  }
  std::unique_ptr<EvaluationClient> Client(const std::string& token) {
    return std::make_unique<EvaluationClient>(Channel(client_address_, token));
  }
  std::unique_ptr<emar::v1::EvaluationService::Stub> ClientStub(const std::string& token,
                                                                bool on_worker_port = false) {
    return emar::v1::EvaluationService::NewStub(
        Channel(on_worker_port ? worker_address_ : client_address_, token));
  }
  std::unique_ptr<emar::v1::WorkerService::Stub> WorkerStub(const std::string& token) {
    return emar::v1::WorkerService::NewStub(Channel(worker_address_, token));
  }
  void StartWorker(const std::string& token, const std::string& worker_id = "") {
    WorkerOptions w;
    if (!worker_id.empty()) w.worker_id = worker_id;
    w.threads = 1;
    w.lease_wait = absl::Seconds(1);
    worker_ = std::make_unique<WorkerLoop>(Channel(worker_address_, token), w);
    worker_thread_ = std::thread([this] { worker_->Run(); });
  }

  TempDir data_, inputs_;
  ShiftedClock shifted_clock_;
  Clock* clock_ = Clock::Real();
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<CoordinatorServer> server_;
  std::string client_address_, worker_address_;
  std::unique_ptr<WorkerLoop> worker_;
  std::thread worker_thread_;
};

}  // namespace emar

#endif  // EMAR_TESTS_SERVER_SECURED_COORDINATOR_H_
