#include "server/request_counter.h"

#include <grpcpp/support/status.h>

#include <algorithm>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/prometheus_text.h"
#include "emar/v1/service.grpc.pb.h"
#include "google/protobuf/descriptor.h"

namespace emar {
namespace {

constexpr const char* kCodeNames[] = {
    "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED"};

class CountingInterceptor : public grpc::experimental::Interceptor {
 public:
  // Made when the call starts: its duration runs from here to the status.
  CountingInterceptor(RequestCounter* counter, const std::string& method)
      : counter_(counter), method_(method), start_(absl::Now()) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      counter_->Observe(method_, static_cast<int>(methods->GetSendStatus().error_code()),
                        absl::ToDoubleSeconds(absl::Now() - start_));
    }
    methods->Proceed();
  }

 private:
  RequestCounter* const counter_;
  const std::string& method_;  // one of the counter's labels: lives as long as it
  const absl::Time start_;
};

class CountingFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CountingFactory(RequestCounter* counter) : counter_(counter) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new CountingInterceptor(counter_, counter_->LabelOf(info->method()));
  }

 private:
  RequestCounter* const counter_;
};

void AddMethodsOf(const char* service_name, std::vector<std::string>* out) {
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service_name);
  if (service == nullptr) return;
  for (int i = 0; i < service->method_count(); ++i) {
    out->push_back(absl::StrCat("/", service->full_name(), "/", service->method(i)->name()));
  }
}

}  // namespace

std::vector<std::string> RequestCounter::ServedMethods() {
  std::vector<std::string> methods;
  AddMethodsOf(emar::v1::EvaluationService::service_full_name(), &methods);
  AddMethodsOf(emar::v1::WorkerService::service_full_name(), &methods);
  AddMethodsOf(emar::v1::AdminService::service_full_name(), &methods);
  for (const char* m : {"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch",
                        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"}) {
    methods.push_back(m);
  }
  return methods;
}

RequestCounter::RequestCounter(const std::vector<std::string>& methods)
    : known_(methods.begin(), methods.end()) {}

const std::string& RequestCounter::LabelOf(const char* method) const {
  if (method == nullptr) return unknown_;
  auto it = known_.find(absl::string_view(method));
  return it == known_.end() ? unknown_ : *it;
}

void RequestCounter::Add(const std::string& method, int code) {
  absl::MutexLock lock(&mu_);
  ++counts_[{method, code}];
}

void RequestCounter::Observe(const std::string& method, int code, double seconds) {
  const size_t bucket = static_cast<size_t>(
      std::lower_bound(std::begin(kDurationBuckets), std::end(kDurationBuckets), seconds) -
      std::begin(kDurationBuckets));
  absl::MutexLock lock(&mu_);
  ++counts_[{method, code}];
  Durations& d = durations_[method];
  d.buckets.resize(std::size(kDurationBuckets));
  if (bucket < d.buckets.size()) ++d.buckets[bucket];  // past the last bound: only in +Inf
  ++d.count;
  d.sum += seconds;
}

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
RequestCounter::InterceptorFactories() {
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> out;
  out.push_back(std::make_unique<CountingFactory>(this));
  return out;
}

std::string RequestCounter::MetricsText() const {
  PrometheusText out;
  out.Family("emar_grpc_requests_total", "counter",
             "Finished gRPC calls by method and status code.");
  absl::MutexLock lock(&mu_);
  for (const auto& [key, n] : counts_) {
    const int code = key.second;
    const char* name =
        code >= 0 && code < static_cast<int>(std::size(kCodeNames)) ? kCodeNames[code] : "UNKNOWN";
    out.Sample("emar_grpc_requests_total", {{"method", key.first}, {"code", name}}, n);
  }
  out.Family("emar_grpc_request_duration_seconds", "histogram",
             "Finished gRPC calls from start to status, by method (long-polls and streams "
             "included).");
  for (const auto& [method, d] : durations_) {
    int64_t cumulative = 0;
    for (size_t b = 0; b < d.buckets.size(); ++b) {
      cumulative += d.buckets[b];
      out.Sample("emar_grpc_request_duration_seconds_bucket",
                 {{"method", method}, {"le", absl::StrCat(kDurationBuckets[b])}}, cumulative);
    }
    out.Sample("emar_grpc_request_duration_seconds_bucket", {{"method", method}, {"le", "+Inf"}},
               d.count);
    out.Sample("emar_grpc_request_duration_seconds_sum", {{"method", method}}, d.sum);
    out.Sample("emar_grpc_request_duration_seconds_count", {{"method", method}}, d.count);
  }
  return std::move(out).Take();
}

}  // namespace emar
