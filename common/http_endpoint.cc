#include "common/http_endpoint.h"

#include <httplib.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace emar {

absl::StatusOr<std::unique_ptr<HttpEndpoint>> HttpEndpoint::Start(const std::string& listen,
                                                                  const std::string& flag,
                                                                  Routes routes) {
  const size_t colon = listen.rfind(':');
  int port = -1;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " '", listen, "' is not HOST:PORT"));
  }
  const std::string host = listen.substr(0, colon);
  std::unique_ptr<HttpEndpoint> s(new HttpEndpoint());
  s->server_ = std::make_unique<httplib::Server>();
  for (auto& [path, handler] : routes) {
    s->server_->Get(
        path, [handler = std::move(handler)](const httplib::Request&, httplib::Response& res) {
          HttpAnswer a = handler();
          res.status = a.status;
          res.set_content(a.body, a.content_type.c_str());
        });
  }
  s->port_ = port == 0 ? s->server_->bind_to_any_port(host)
                       : (s->server_->bind_to_port(host, port) ? port : -1);
  if (s->port_ <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on '", listen, "' (", flag, ")"));
  }
  s->thread_ = std::thread([srv = s->server_.get()] { srv->listen_after_bind(); });
  return s;
}

HttpEndpoint::~HttpEndpoint() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace emar
