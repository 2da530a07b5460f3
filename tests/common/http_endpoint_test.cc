#include "common/http_endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// A connected socket to 127.0.0.1:port, or -1.
int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends `request` on a new connection and reads the answer until the server closes it, within
// `timeout`; "" when it did not come in time.
std::string Exchange(int port, const std::string& request, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  const int fd = Connect(port);
  if (fd < 0) return "";
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string answer;
  while (absl::Now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()))) <= 0) {
      break;
    }
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      ::close(fd);
      return answer;
    }
    answer.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return "";
}

HttpEndpoint::Routes TestRoutes() {
  return {{"/healthz",
           [] {
             return HttpAnswer{200, "ok\n"};
           }},
          {"/readyz", [] {
             return HttpAnswer{503, "not yet\n"};
           }}};
}

TEST(HttpEndpointTest, AnswersRoutesAndRefusesTheRest) {
  ASSERT_OK_AND_ASSIGN(auto http, HttpEndpoint::Start("127.0.0.1:0", "--flag", TestRoutes()));
  ASSERT_GT(http->port(), 0);
  const std::string ok =
      Exchange(http->port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", absl::Seconds(5));
  EXPECT_THAT(ok, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(ok, HasSubstr("Content-Length: 3\r\n"));
  EXPECT_THAT(ok, HasSubstr("\r\n\r\nok\n"));
  EXPECT_THAT(Exchange(http->port(), "GET /readyz?verbose=1 HTTP/1.0\r\n\r\n", absl::Seconds(5)),
              StartsWith("HTTP/1.1 503 Service Unavailable\r\n"));
  EXPECT_THAT(Exchange(http->port(), "GET /nope HTTP/1.1\r\n\r\n", absl::Seconds(5)),
              StartsWith("HTTP/1.1 404 "));
  EXPECT_THAT(Exchange(http->port(), "POST /healthz HTTP/1.1\r\n\r\n", absl::Seconds(5)),
              StartsWith("HTTP/1.1 405 "));
  EXPECT_THAT(Exchange(http->port(), "nonsense\r\n\r\n", absl::Seconds(5)),
              StartsWith("HTTP/1.1 400 "));
  EXPECT_THAT(Exchange(http->port(), "GET /healthz HTTP/1.1\r\nX: " + std::string(10000, 'x'),
                       absl::Seconds(5)),
              StartsWith("HTTP/1.1 431 "));
}

TEST(HttpEndpointTest, BadListenAddressesNameTheFlag) {
  EXPECT_THAT(HttpEndpoint::Start("nonsense", "--metrics-listen", TestRoutes()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--metrics-listen")));
  ASSERT_OK_AND_ASSIGN(auto http, HttpEndpoint::Start("127.0.0.1:0", "--a", TestRoutes()));
  EXPECT_THAT(HttpEndpoint::Start(absl::StrCat("127.0.0.1:", http->port()), "--b", TestRoutes()),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("--b")));
}

// Slow clients (a request line and never the blank line that ends the headers) take no thread:
// /healthz answers at once however many there are, and each is closed at its deadline.
TEST(HttpEndpointTest, SlowConnectionsDoNotDelayAProbe) {
  HttpLimits limits;
  limits.request_timeout = absl::Seconds(3);
  ASSERT_OK_AND_ASSIGN(auto http,
                       HttpEndpoint::Start("127.0.0.1:0", "--flag", TestRoutes(), limits));
  // cpp-httplib, which served these ports before, had 8 threads here: four times as many.
  std::vector<int> slow;
  for (int i = 0; i < 32; ++i) {
    const int fd = Connect(http->port());
    ASSERT_GE(fd, 0);
    const std::string partial = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
    ::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL);
    slow.push_back(fd);
  }
  for (int i = 0; i < 3; ++i) {
    const absl::Time start = absl::Now();
    EXPECT_THAT(Exchange(http->port(), "GET /healthz HTTP/1.1\r\n\r\n", absl::Seconds(1)),
                StartsWith("HTTP/1.1 200 OK\r\n"));
    EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  }
  // Past their deadline the slow ones are closed (read returns 0).
  for (int fd : slow) {
    pollfd p{fd, POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 10000), 1);
    char c;
    EXPECT_EQ(::recv(fd, &c, 1, 0), 0);
    ::close(fd);
  }
}

// More connections than the cap: the oldest are closed to make room, and a probe still answers.
TEST(HttpEndpointTest, ConnectionsBeyondTheCapCloseTheOldest) {
  HttpLimits limits;
  limits.max_connections = 8;
  limits.request_timeout = absl::Seconds(60);
  ASSERT_OK_AND_ASSIGN(auto http,
                       HttpEndpoint::Start("127.0.0.1:0", "--flag", TestRoutes(), limits));
  std::vector<int> idle;
  for (int i = 0; i < 16; ++i) idle.push_back(Connect(http->port()));
  EXPECT_THAT(Exchange(http->port(), "GET /healthz HTTP/1.1\r\n\r\n", absl::Seconds(2)),
              StartsWith("HTTP/1.1 200 OK\r\n"));
  pollfd p{idle[0], POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 2000), 1) << "the oldest connection is still open";
  for (int fd : idle) ::close(fd);
}

}  // namespace
}  // namespace emar
