// The web console's HTTP/1.1 server: GET and POST with headers and a small body, one request per
// connection (Connection: close), plaintext or TLS (console/tls_context.h).
//
//   ASSIGN_OR_RETURN(auto http, HttpServer::Start({.listen = "127.0.0.1:0"},
//       [](const HttpRequest& r) { return HttpResponse{.body = "hello"}; }));
//   std::cout << http->port();
//
// It serves the console only, on a port of its own: the liveness probes and /metrics stay on
// common/http_endpoint's poll() loop, which nothing here can slow down. One thread accepts;
// `threads` threads each serve one connection at a time with blocking reads bounded by
// `request_timeout` (accept to the last byte answered), so a peer that sends slowly holds one
// of them for that long at most. Accepted connections wait in a queue of `max_pending`; when it
// is full the oldest waiting one is closed. Handlers may take a while (they render pages): they
// run on the serving threads, several at once.
#ifndef EMAR_CONSOLE_HTTP_SERVER_H_
#define EMAR_CONSOLE_HTTP_SERVER_H_

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "console/tls_context.h"

namespace emar {

struct HttpRequest {
  std::string method;  // GET or POST (others are answered 405 before a handler sees them)
  std::string path;    // as sent, without the query
  std::string query;   // after '?', undecoded ("" without one)
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  bool tls = false;  // arrived over TLS

  // The first header named `name` (lower case), if any.
  std::optional<std::string> Header(absl::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;  // beyond the type and length
  std::string body;
};

struct HttpServerOptions {
  std::string listen;               // HOST:PORT; port 0 picks a free one
  std::string flag = "--listen";    // names `listen` in errors
  std::shared_ptr<TlsContext> tls;  // null: plaintext
  int threads = 4;                  // connections served at once
  int max_pending = 128;            // accepted connections waiting for a thread
  absl::Duration request_timeout = absl::Seconds(10);
  size_t max_header_bytes = 16 << 10;  // request line and headers
  size_t max_body_bytes = 16 << 10;    // a login form is a few hundred bytes
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(HttpServerOptions options,
                                                           Handler handler);
  ~HttpServer();  // stops accepting, closes waiting connections, joins every thread

  int port() const { return port_; }

 private:
  HttpServer(HttpServerOptions options, Handler handler)
      : options_(std::move(options)), handler_(std::move(handler)) {}
  void AcceptLoop();
  void ServeLoop();
  bool HasWork() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ServeConnection(int fd);

  const HttpServerOptions options_;
  const Handler handler_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};  // a byte written to wake_[1] stops AcceptLoop()
  int port_ = 0;
  std::thread acceptor_;
  std::vector<std::thread> servers_;
  absl::Mutex mu_;
  std::deque<int> pending_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

// "200 OK": the status line's code and reason.
std::string HttpStatusText(int status);

}  // namespace emar

#endif  // EMAR_CONSOLE_HTTP_SERVER_H_
