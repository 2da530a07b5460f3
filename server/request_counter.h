// Counts finished gRPC calls by method and status code (emar_grpc_requests_total), through a
// server interceptor that sees every call's status, including refused ones.
//
//   RequestCounter counter;
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

#include "absl/synchronization/mutex.h"

namespace emar {

class RequestCounter {
 public:
  void Add(const std::string& method, int code);
  // Factories for ServerBuilder::experimental().SetInterceptorCreators (one per server).
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
  InterceptorFactories();
  std::string MetricsText() const;

 private:
  mutable absl::Mutex mu_;
  std::map<std::pair<std::string, int>, int64_t> counts_ ABSL_GUARDED_BY(mu_);
};

}  // namespace emar

#endif  // EMAR_SERVER_REQUEST_COUNTER_H_
