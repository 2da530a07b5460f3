#include "console/http_server.h"

#include <fcntl.h>
#include <netdb.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace emar {
namespace {

// A listening, non-blocking socket on host:port ("" or "0.0.0.0": every IPv4 interface).
absl::StatusOr<int> Listen(std::string host, int port) {
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
  if (fd < 0) return absl::UnavailableError(std::strerror(err));
  return fd;
}

int BoundPort(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return -1;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return -1;
}

// One connection's bytes, plain or through TLS, each read and write bounded by `deadline`.
class Stream {
 public:
  Stream(int fd, SSL_CTX* tls, absl::Time deadline) : fd_(fd), deadline_(deadline) {
    if (tls != nullptr) {
      ssl_ = SSL_new(tls);
      if (ssl_ != nullptr) SSL_set_fd(ssl_, fd);
    }
  }
  ~Stream() {
    if (ssl_ != nullptr) {
      SSL_shutdown(ssl_);
      SSL_free(ssl_);
    }
  }
  bool tls() const { return ssl_ != nullptr; }
  // The TLS handshake (true at once for plaintext).
  bool Open(bool want_tls) {
    if (!want_tls) return true;
    return ssl_ != nullptr && ArmTimeout() && SSL_accept(ssl_) == 1;
  }
  // Bytes read (0: closed or timed out).
  size_t Read(char* buf, size_t n) {
    if (!ArmTimeout()) return 0;
    if (ssl_ != nullptr) {
      const int got = SSL_read(ssl_, buf, static_cast<int>(n));
      return got > 0 ? static_cast<size_t>(got) : 0;
    }
    while (true) {
      const ssize_t got = ::recv(fd_, buf, n, 0);
      if (got < 0 && errno == EINTR) continue;
      return got > 0 ? static_cast<size_t>(got) : 0;
    }
  }
  bool WriteAll(absl::string_view data) {
    while (!data.empty()) {
      if (!ArmTimeout()) return false;
      ssize_t sent;
      if (ssl_ != nullptr) {
        sent = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
      } else {
        sent = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR) continue;
      }
      if (sent <= 0) return false;
      data.remove_prefix(static_cast<size_t>(sent));
    }
    return true;
  }

 private:
  // Bounds the next blocking call by what is left until the deadline; false once it passed.
  bool ArmTimeout() {
    const absl::Duration left = deadline_ - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    const timeval tv = absl::ToTimeval(std::max(left, absl::Milliseconds(1)));
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return true;
  }

  int fd_;
  absl::Time deadline_;
  SSL* ssl_ = nullptr;
};

std::string Serialize(const HttpResponse& r) {
  std::string out =
      absl::StrCat("HTTP/1.1 ", HttpStatusText(r.status), "\r\nContent-Type: ", r.content_type,
                   "\r\nContent-Length: ", r.body.size(), "\r\nConnection: close\r\n");
  for (const auto& [name, value] : r.headers) absl::StrAppend(&out, name, ": ", value, "\r\n");
  absl::StrAppend(&out, "\r\n", r.body);
  return out;
}

HttpResponse Plain(int status, absl::string_view text) {
  return HttpResponse{status, "text/plain; charset=utf-8", {}, absl::StrCat(text, "\n")};
}

// Parses the request line and headers of `head` (without the blank line) into `r`; an error
// response when they are malformed.
std::optional<HttpResponse> ParseHead(absl::string_view head, HttpRequest* r) {
  std::vector<absl::string_view> lines = absl::StrSplit(head, '\n');
  const std::vector<absl::string_view> parts =
      absl::StrSplit(absl::StripSuffix(lines[0], "\r"), ' ');
  if (parts.size() != 3 || !absl::StartsWith(parts[2], "HTTP/1.") || parts[1].empty() ||
      parts[1][0] != '/') {
    return Plain(400, "malformed request line");
  }
  r->method = std::string(parts[0]);
  const size_t q = parts[1].find('?');
  r->path = std::string(parts[1].substr(0, q));
  r->query = q == absl::string_view::npos ? "" : std::string(parts[1].substr(q + 1));
  for (size_t i = 1; i < lines.size(); ++i) {
    const absl::string_view line = absl::StripSuffix(lines[i], "\r");
    if (line.empty()) continue;
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos || colon == 0) return Plain(400, "malformed header");
    r->headers.emplace_back(absl::AsciiStrToLower(line.substr(0, colon)),
                            std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  }
  if (r->method != "GET" && r->method != "POST") return Plain(405, "only GET and POST are served");
  return std::nullopt;
}

}  // namespace

std::string HttpStatusText(int status) {
  absl::string_view reason = "Status";
  switch (status) {
    case 200:
      reason = "OK";
      break;
    case 204:
      reason = "No Content";
      break;
    case 303:
      reason = "See Other";
      break;
    case 400:
      reason = "Bad Request";
      break;
    case 401:
      reason = "Unauthorized";
      break;
    case 403:
      reason = "Forbidden";
      break;
    case 404:
      reason = "Not Found";
      break;
    case 405:
      reason = "Method Not Allowed";
      break;
    case 408:
      reason = "Request Timeout";
      break;
    case 409:
      reason = "Conflict";
      break;
    case 413:
      reason = "Content Too Large";
      break;
    case 431:
      reason = "Request Header Fields Too Large";
      break;
    case 500:
      reason = "Internal Server Error";
      break;
    case 503:
      reason = "Service Unavailable";
      break;
  }
  return absl::StrCat(status, " ", reason);
}

std::optional<std::string> HttpRequest::Header(absl::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return std::nullopt;
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options,
                                                              Handler handler) {
  const size_t colon = options.listen.rfind(':');
  int port = -1;
  if (colon == std::string::npos || !absl::SimpleAtoi(options.listen.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(options.flag, " '", options.listen, "' is not HOST:PORT"));
  }
  if (options.threads < 1 || options.max_pending < 1) {
    return absl::InvalidArgumentError("HttpServer needs at least one thread and one pending slot");
  }
  std::unique_ptr<HttpServer> s(new HttpServer(std::move(options), std::move(handler)));
  absl::StatusOr<int> fd = Listen(s->options_.listen.substr(0, colon), port);
  if (!fd.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot listen on '", s->options_.listen, "' (",
                                               s->options_.flag, "): ", fd.status().message()));
  }
  s->listen_fd_ = *fd;
  s->port_ = BoundPort(s->listen_fd_);
  if (::pipe2(s->wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
    return absl::InternalError(absl::StrCat("pipe2: ", std::strerror(errno)));
  }
  s->acceptor_ = std::thread([p = s.get()] { p->AcceptLoop(); });
  for (int i = 0; i < s->options_.threads; ++i) {
    s->servers_.emplace_back([p = s.get()] { p->ServeLoop(); });
  }
  return s;
}

HttpServer::~HttpServer() {
  if (acceptor_.joinable()) {
    const char stop = 1;
    while (::write(wake_[1], &stop, 1) < 0 && errno == EINTR) {
    }
    acceptor_.join();
  }
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : servers_) t.join();
  for (int fd : pending_) ::close(fd);
  for (int fd : {listen_fd_, wake_[0], wake_[1]}) {
    if (fd >= 0) ::close(fd);
  }
}

void HttpServer::AcceptLoop() {
  while (true) {
    pollfd polled[2] = {{wake_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    if (::poll(polled, 2, -1) < 0) {
      if (errno != EINTR) ::usleep(10000);
      continue;
    }
    if (polled[0].revents != 0) return;
    while (true) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);  // blocking I/O
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE) ::usleep(100000);  // out of descriptors: pause
        break;
      }
      absl::MutexLock lock(&mu_);
      if (static_cast<int>(pending_.size()) >= options_.max_pending) {
        ::close(pending_.front());
        pending_.pop_front();
      }
      pending_.push_back(fd);
    }
  }
}

bool HttpServer::HasWork() { return stopping_ || !pending_.empty(); }

void HttpServer::ServeLoop() {
  // A peer that closes while TLS writes to it would raise SIGPIPE (OpenSSL writes with plain
  // write()); blocked on this thread, the write fails with EPIPE instead.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  while (true) {
    int fd = -1;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &HttpServer::HasWork));
      if (stopping_) return;
      fd = pending_.front();
      pending_.pop_front();
    }
    ServeConnection(fd);
    ::close(fd);
  }
}

void HttpServer::ServeConnection(int fd) {
  Stream stream(fd, options_.tls ? options_.tls->get() : nullptr,
                absl::Now() + options_.request_timeout);
  if (!stream.Open(options_.tls != nullptr)) return;
  std::string in;
  size_t head_end = std::string::npos;
  char buf[4096];
  while (head_end == std::string::npos && in.size() <= options_.max_header_bytes) {
    const size_t n = stream.Read(buf, sizeof(buf));
    if (n == 0) return;  // closed or too slow
    in.append(buf, n);
    head_end = in.find("\r\n\r\n");
  }
  if (head_end == std::string::npos || head_end > options_.max_header_bytes) {
    stream.WriteAll(Serialize(Plain(431, "request headers too large")));
    return;
  }
  HttpRequest request;
  request.tls = stream.tls();
  if (std::optional<HttpResponse> bad = ParseHead(in.substr(0, head_end), &request)) {
    stream.WriteAll(Serialize(*bad));
    return;
  }
  if (request.Header("transfer-encoding")) {  // never guess where a chunked body ends
    stream.WriteAll(
        Serialize(Plain(400, "Transfer-Encoding is not accepted; send Content-Length")));
    return;
  }
  size_t length = 0;
  if (std::optional<std::string> cl = request.Header("content-length")) {
    if (!absl::SimpleAtoi(*cl, &length)) {
      stream.WriteAll(Serialize(Plain(400, "malformed Content-Length")));
      return;
    }
  }
  if (length > options_.max_body_bytes) {
    stream.WriteAll(Serialize(Plain(413, "request body too large")));
    return;
  }
  request.body = in.substr(head_end + 4);
  while (request.body.size() < length) {
    const size_t n = stream.Read(buf, std::min(sizeof(buf), length - request.body.size()));
    if (n == 0) return;
    request.body.append(buf, n);
  }
  request.body.resize(length);
  HttpResponse response;
  try {
    response = handler_(request);
  } catch (const std::exception& e) {
    response = Plain(500, absl::StrCat("error: ", e.what()));
  }
  stream.WriteAll(Serialize(response));
}

}  // namespace emar
