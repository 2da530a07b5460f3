// Counts finished gRPC calls by method and status code (emar_grpc_requests_total) and times them
// by method (emar_grpc_request_duration_seconds, from the call's start to its status; long-polls
// and streams included), through a server interceptor that sees every call's status, including
// refused ones. Method labels come
// from a fixed set, the methods the server serves: a call to any other name counts as
// method="unknown", so made-up method names cannot grow /metrics without bound.
//
//   RequestCounter counter(RequestCounter::ServedMethods());
//   builder.experimental().SetInterceptorCreators(counter.InterceptorFactories());
//   std::string text = counter.MetricsText();
#ifndef EMAR_SERVER_REQUEST_COUNTER_H_
#define EMAR_SERVER_REQUEST_COUNTER_H_

#include <grpcpp/support/server_interceptor.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"

namespace emar {

class RequestCounter {
 public:
  // The label of calls to methods outside the known set.
  static constexpr char kUnknownMethod[] = "unknown";

  // Every method the coordinator serves ("/package.Service/Method"): both EMAR services, gRPC
  // health and server reflection.
  static std::vector<std::string> ServedMethods();

  // Counts calls to `methods` under their names, anything else as kUnknownMethod.
  explicit RequestCounter(const std::vector<std::string>& methods);

  // `method` as counted: itself when known, else kUnknownMethod.
  const std::string& LabelOf(const char* method) const;
  void Add(const std::string& method, int code);
  // A finished call: counted, and its duration observed in the method's histogram.
  void Observe(const std::string& method, int code, double seconds);

  // Upper bounds of the duration histogram, seconds.
  static constexpr double kDurationBuckets[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5,
                                                1,     5,     10,   30,   60,  300};
  // Factories for ServerBuilder::experimental().SetInterceptorCreators (one per server).
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
  InterceptorFactories();
  std::string MetricsText() const;

 private:
  // --- constant after construction ---
  const absl::flat_hash_set<std::string> known_;
  const std::string unknown_ = kUnknownMethod;

  // --- protected by mu_ ---
  mutable absl::Mutex mu_;
  std::map<std::pair<std::string, int>, int64_t> counts_ ABSL_GUARDED_BY(mu_);
  struct Durations {
    std::vector<int64_t> buckets;  // per bucket, not cumulative (PrometheusText sums them)
    int64_t count = 0;
    double sum = 0;
  };
  std::map<std::string, Durations> durations_ ABSL_GUARDED_BY(mu_);
};

}  // namespace emar

#endif  // EMAR_SERVER_REQUEST_COUNTER_H_
