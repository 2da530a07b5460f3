// A minimal HTTP/1.1 client for the console's tests: one request per connection on 127.0.0.1,
// plaintext or TLS (OpenSSL, verifying the server against a CA file), the raw answer parsed into
// status, headers and body.
#ifndef EMAR_TESTS_CONSOLE_HTTP_CLIENT_H_
#define EMAR_TESTS_CONSOLE_HTTP_CLIENT_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace emar {

struct HttpReply {
  int status = 0;                                            // 0: no answer
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::optional<std::string> Header(const std::string& name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return std::nullopt;
  }
};

inline int ConnectLoopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

inline HttpReply ParseReply(const std::string& raw) {
  HttpReply r;
  const size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos) return r;
  std::vector<std::string> lines = absl::StrSplit(raw.substr(0, end), "\r\n");
  const std::vector<std::string> first = absl::StrSplit(lines[0], absl::MaxSplits(' ', 2));
  if (first.size() < 2 || !absl::SimpleAtoi(first[1], &r.status)) return r;
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    if (colon == std::string::npos) continue;
    r.headers.emplace_back(absl::AsciiStrToLower(lines[i].substr(0, colon)),
                           std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1))));
  }
  r.body = raw.substr(end + 4);
  return r;
}

// Sends `request` as it is and reads the answer until the server closes. With `ca_file`, over TLS.
inline HttpReply Exchange(int port, const std::string& request, const std::string& ca_file = "") {
  const int fd = ConnectLoopback(port);
  if (fd < 0) return {};
  std::string raw;
  char buf[8192];
  if (ca_file.empty()) {
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) raw.append(buf, static_cast<size_t>(n));
  } else {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    SSL_set1_host(ssl, "127.0.0.1");
    if (SSL_connect(ssl) == 1) {
      SSL_write(ssl, request.data(), static_cast<int>(request.size()));
      int n;
      while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0) raw.append(buf, static_cast<size_t>(n));
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
  }
  ::close(fd);
  return ParseReply(raw);
}

// GET `target` with extra header lines ("Cookie: a=b\r\n").
inline HttpReply Get(int port, const std::string& target, const std::string& headers = "",
                     const std::string& ca_file = "") {
  return Exchange(
      port,
      absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: 127.0.0.1:", port, "\r\n", headers, "\r\n"),
      ca_file);
}

// POST a form body to `target`.
inline HttpReply Post(int port, const std::string& target, const std::string& body,
                      const std::string& headers = "", const std::string& ca_file = "") {
  return Exchange(port,
                  absl::StrCat("POST ", target, " HTTP/1.1\r\nHost: 127.0.0.1:", port,
                               "\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                               "Content-Length: ",
                               body.size(), "\r\n", headers, "\r\n", body),
                  ca_file);
}

}  // namespace emar

#endif  // EMAR_TESTS_CONSOLE_HTTP_CLIENT_H_
