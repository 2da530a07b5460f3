// A tiny plain-HTTP endpoint for Prometheus scrapes and Kubernetes probes. Each route answers GET
// with a status code and a text body; one request per connection (Connection: close).
//
//   ASSIGN_OR_RETURN(auto http, HttpEndpoint::Start("0.0.0.0:9090", "--metrics-listen",
//       {{"/metrics", [&] { return HttpAnswer{200, text()}; }}}));
//   std::cout << http->port();
//
// Never starved by slow clients (a liveness probe must answer whatever other peers do): one
// thread serves every connection from a poll() loop, so a connection that sends its request
// slowly, or never, costs a descriptor and a few KiB, never a thread. Each connection has
// `request_timeout` to send its request and read the answer, then it is closed; at most
// `max_connections` are open, and a new one closes the oldest. Handlers run on that thread, one
// at a time: they must be quick (they format counters).
#ifndef EMAR_COMMON_HTTP_ENDPOINT_H_
#define EMAR_COMMON_HTTP_ENDPOINT_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace emar {

struct HttpAnswer {
  int status = 200;
  std::string body;
  std::string content_type = "text/plain; charset=utf-8";
};

struct HttpLimits {
  absl::Duration request_timeout = absl::Seconds(5);  // accept to the last byte answered
  int max_connections = 256;                          // open at once; more close the oldest
  size_t max_request_bytes = 8 << 10;                 // request line and headers
};

class HttpEndpoint {
 public:
  using Routes = std::map<std::string, std::function<HttpAnswer()>>;
  // `listen` is HOST:PORT (port 0 picks a free one; HOST may be empty for every interface, or
  // [v6] bracketed); `flag` names it in errors.
  static absl::StatusOr<std::unique_ptr<HttpEndpoint>> Start(const std::string& listen,
                                                             const std::string& flag, Routes routes,
                                                             HttpLimits limits = HttpLimits());
  ~HttpEndpoint();  // stops serving, closes every connection and joins

  int port() const { return port_; }

 private:
  HttpEndpoint(Routes routes, HttpLimits limits) : routes_(std::move(routes)), limits_(limits) {}
  void Serve();
  // The whole response to `request` (request line and headers).
  std::string Answer(const std::string& request) const;

  const Routes routes_;
  const HttpLimits limits_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};  // a byte written to wake_[1] stops Serve()
  std::thread thread_;
  int port_ = 0;
};

}  // namespace emar

#endif  // EMAR_COMMON_HTTP_ENDPOINT_H_
