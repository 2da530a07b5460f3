// A tiny plain-HTTP endpoint for Prometheus scrapes and Kubernetes probes (cpp-httplib, confined
// to this file's .cc so its header stays out of every other one). Each route answers GET with a
// status code and a text body.
//
//   ASSIGN_OR_RETURN(auto http, HttpEndpoint::Start("0.0.0.0:9090", "--metrics-listen",
//       {{"/metrics", [&] { return HttpAnswer{200, text()}; }}}));
//   std::cout << http->port();
#ifndef EMAR_COMMON_HTTP_ENDPOINT_H_
#define EMAR_COMMON_HTTP_ENDPOINT_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace httplib {
class Server;
}

namespace emar {

struct HttpAnswer {
  int status = 200;
  std::string body;
  std::string content_type = "text/plain; charset=utf-8";
};

class HttpEndpoint {
 public:
  using Routes = std::map<std::string, std::function<HttpAnswer()>>;
  // `listen` is HOST:PORT (port 0 picks a free one); `flag` names it in errors. Handlers may run
  // on several threads at once.
  static absl::StatusOr<std::unique_ptr<HttpEndpoint>> Start(const std::string& listen,
                                                             const std::string& flag,
                                                             Routes routes);
  ~HttpEndpoint();  // stops serving and joins

  int port() const { return port_; }

 private:
  HttpEndpoint() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace emar

#endif  // EMAR_COMMON_HTTP_ENDPOINT_H_
