// A tiny HTTP server for Prometheus: GET /metrics answers with `render()` in the text exposition
// format (cpp-httplib, confined to this file's .cc so its header stays out of every other one).
//
//   ASSIGN_OR_RETURN(auto http, MetricsHttpServer::Start("0.0.0.0:9090", [&] { return text(); }));
//   std::cout << http->port();
#ifndef EMAR_SERVER_METRICS_HTTP_H_
#define EMAR_SERVER_METRICS_HTTP_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace httplib {
class Server;
}

namespace emar {

class MetricsHttpServer {
 public:
  // `listen` is HOST:PORT; port 0 picks a free one. `render` may be called from several threads.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& listen, std::function<std::string()> render);
  ~MetricsHttpServer();  // stops serving and joins

  int port() const { return port_; }

 private:
  MetricsHttpServer() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace emar

#endif  // EMAR_SERVER_METRICS_HTTP_H_
