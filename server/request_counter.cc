#include "server/request_counter.h"

#include <grpcpp/support/status.h>

#include "absl/strings/str_cat.h"

namespace emar {
namespace {

constexpr const char* kCodeNames[] = {
    "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED"};

class CountingInterceptor : public grpc::experimental::Interceptor {
 public:
  CountingInterceptor(RequestCounter* counter, std::string method)
      : counter_(counter), method_(std::move(method)) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      counter_->Add(method_, static_cast<int>(methods->GetSendStatus().error_code()));
    }
    methods->Proceed();
  }

 private:
  RequestCounter* const counter_;
  const std::string method_;
};

class CountingFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CountingFactory(RequestCounter* counter) : counter_(counter) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new CountingInterceptor(counter_, info->method() ? info->method() : "unknown");
  }

 private:
  RequestCounter* const counter_;
};

}  // namespace

void RequestCounter::Add(const std::string& method, int code) {
  absl::MutexLock lock(&mu_);
  ++counts_[{method, code}];
}

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
RequestCounter::InterceptorFactories() {
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> out;
  out.push_back(std::make_unique<CountingFactory>(this));
  return out;
}

std::string RequestCounter::MetricsText() const {
  std::string out =
      "# HELP emar_grpc_requests_total Finished gRPC calls by method and status code.\n"
      "# TYPE emar_grpc_requests_total counter\n";
  absl::MutexLock lock(&mu_);
  for (const auto& [key, n] : counts_) {
    const int code = key.second;
    const char* name =
        code >= 0 && code < static_cast<int>(std::size(kCodeNames)) ? kCodeNames[code] : "UNKNOWN";
    absl::StrAppend(&out, "emar_grpc_requests_total{method=\"", key.first, "\",code=\"", name,
                    "\"} ", n, "\n");
  }
  return out;
}

}  // namespace emar
