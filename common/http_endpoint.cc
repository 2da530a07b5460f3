#include "common/http_endpoint.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <functional>
#include <list>
#include <system_error>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace emar {
namespace {

// After an accept error that no closing of ours can cure (the process is out of descriptors
// and holds no connection), the listening socket is left alone this long.
constexpr absl::Duration kAcceptPause = absl::Milliseconds(100);
// Connections accepted per loop turn, so a flood cannot delay the answers to those open.
constexpr int kAcceptsPerTurn = 64;

struct Connection {
  int fd = -1;
  absl::Time deadline;
  std::string in;   // the request so far
  std::string out;  // the response, once known
  size_t sent = 0;
};

absl::string_view Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

std::string Response(const HttpAnswer& a) {
  return absl::StrCat("HTTP/1.1 ", a.status, " ", Reason(a.status),
                      "\r\nContent-Type: ", a.content_type, "\r\nContent-Length: ", a.body.size(),
                      "\r\nConnection: close\r\n\r\n", a.body);
}

// A listening, non-blocking socket on host:port ("" or "0.0.0.0": every IPv4 interface).
absl::StatusOr<int> Listen(absl::string_view host_port, int port) {
  std::string host(host_port);
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]")) {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), std::to_string(port).c_str(),
                               &hints, &found);
  if (rc != 0) return absl::UnavailableError(::gai_strerror(rc));
  int err = 0;
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, 128) != 0) {
      err = errno;
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) return absl::UnavailableError(std::generic_category().message(err));
  return fd;
}

std::list<Connection>::iterator CloseConnection(std::list<Connection>& open,
                                                std::list<Connection>::iterator it) {
  ::close(it->fd);
  return open.erase(it);
}

// Reads or writes what the connection is ready for; false when it is done with.
bool StepConnection(Connection& c, short revents, size_t max_request_bytes,
                    const std::function<std::string(const std::string&)>& answer) {
  if (c.out.empty()) {
    if ((revents & (POLLIN | POLLHUP | POLLERR)) == 0) return true;
    char buf[4096];
    const ssize_t n = ::recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    if (n == 0) return false;  // closed before its request was whole
    c.in.append(buf, static_cast<size_t>(n));
    const bool whole =
        c.in.find("\r\n\r\n") != std::string::npos || c.in.find("\n\n") != std::string::npos;
    if (!whole && c.in.size() <= max_request_bytes) return true;
    c.out = whole ? answer(c.in) : Response({431, "request too large\n"});
  }
  const ssize_t n =
      ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  c.sent += static_cast<size_t>(n);
  if (c.sent < c.out.size()) return true;
  ::shutdown(c.fd, SHUT_WR);
  return false;
}

// Accepts what the listening socket has (a bounded number per call). Past max_connections, or
// out of descriptors, the oldest connection is closed to make room; out of descriptors with
// none open, accepting pauses for kAcceptPause.
void AcceptConnections(int listen_fd, const HttpLimits& limits, absl::Time now,
                       std::list<Connection>& open, absl::Time* paused_until) {
  for (int i = 0; i < kAcceptsPerTurn; ++i) {
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      if (static_cast<int>(open.size()) >= limits.max_connections) {
        CloseConnection(open, open.begin());
      }
      Connection c;
      c.fd = fd;
      c.deadline = now + limits.request_timeout;
      open.push_back(std::move(c));
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    if ((errno == EMFILE || errno == ENFILE) && !open.empty()) {
      CloseConnection(open, open.begin());
      continue;
    }
    *paused_until = now + kAcceptPause;
    return;
  }
}

int BoundPort(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return -1;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return -1;
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpEndpoint>> HttpEndpoint::Start(const std::string& listen,
                                                                  const std::string& flag,
                                                                  Routes routes,
                                                                  HttpLimits limits) {
  const size_t colon = listen.rfind(':');
  int port = -1;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " '", listen, "' is not HOST:PORT"));
  }
  std::unique_ptr<HttpEndpoint> s(new HttpEndpoint(std::move(routes), limits));
  absl::StatusOr<int> fd = Listen(listen.substr(0, colon), port);
  if (!fd.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on '", listen, "' (", flag, "): ", fd.status().message()));
  }
  s->listen_fd_ = *fd;
  s->port_ = BoundPort(s->listen_fd_);
  if (::pipe2(s->wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
    return absl::InternalError(absl::StrCat("pipe2: ", std::generic_category().message(errno)));
  }
  s->thread_ = std::thread([p = s.get()] { p->Serve(); });
  return s;
}

HttpEndpoint::~HttpEndpoint() {
  if (thread_.joinable()) {
    const char stop = 1;
    while (::write(wake_[1], &stop, 1) < 0 && errno == EINTR) {
    }
    thread_.join();
  }
  for (int fd : {listen_fd_, wake_[0], wake_[1]}) {
    if (fd >= 0) ::close(fd);
  }
}

std::string HttpEndpoint::Answer(const std::string& request) const {
  const absl::string_view line =
      absl::StripSuffix(absl::string_view(request).substr(0, request.find('\n')), "\r");
  const std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
  if (parts.size() != 3 || !absl::StartsWith(parts[2], "HTTP/")) {
    return Response({400, "malformed request line\n"});
  }
  if (parts[0] != "GET") return Response({405, "only GET is served\n"});
  const absl::string_view path = parts[1].substr(0, parts[1].find('?'));
  auto route = routes_.find(std::string(path));
  if (route == routes_.end()) return Response({404, "not found\n"});
  try {
    return Response(route->second());
  } catch (const std::exception& e) {
    return Response({500, absl::StrCat("error: ", e.what(), "\n")});
  }
}

void HttpEndpoint::Serve() {
  std::list<Connection> open;  // oldest first
  std::vector<pollfd> polled;
  std::vector<std::list<Connection>::iterator> polled_connections;
  absl::Time accept_paused_until = absl::InfinitePast();
  const auto answer = [this](const std::string& request) { return Answer(request); };
  while (true) {
    const absl::Time now = absl::Now();
    for (auto it = open.begin(); it != open.end();) {
      it = it->deadline <= now ? CloseConnection(open, it) : std::next(it);
    }
    const bool accepting = now >= accept_paused_until;
    polled.assign({pollfd{wake_[0], POLLIN, 0}, pollfd{accepting ? listen_fd_ : -1, POLLIN, 0}});
    polled_connections.clear();
    absl::Time wake_at = accepting ? absl::InfiniteFuture() : accept_paused_until;
    for (auto it = open.begin(); it != open.end(); ++it) {
      polled.push_back(pollfd{it->fd, static_cast<short>(it->out.empty() ? POLLIN : POLLOUT), 0});
      polled_connections.push_back(it);
      wake_at = std::min(wake_at, it->deadline);
    }
    const int timeout_ms =
        wake_at == absl::InfiniteFuture()
            ? -1
            : static_cast<int>(std::clamp<int64_t>(
                  absl::ToInt64Milliseconds(absl::Ceil(wake_at - now, absl::Milliseconds(1))), 0,
                  60000));
    if (::poll(polled.data(), polled.size(), timeout_ms) < 0) {
      if (errno != EINTR) ::usleep(10000);
      continue;
    }
    if (polled[0].revents != 0) break;  // stop
    for (size_t i = 0; i < polled_connections.size(); ++i) {
      const short revents = polled[i + 2].revents;
      if (revents != 0 &&
          !StepConnection(*polled_connections[i], revents, limits_.max_request_bytes, answer)) {
        CloseConnection(open, polled_connections[i]);
      }
    }
    if (polled[1].revents != 0) {
      AcceptConnections(listen_fd_, limits_, absl::Now(), open, &accept_paused_until);
    }
  }
  for (auto it = open.begin(); it != open.end();) it = CloseConnection(open, it);
}

}  // namespace emar
