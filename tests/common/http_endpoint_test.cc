// The plain-HTTP endpoint on 127.0.0.1 port 0, spoken to with a raw socket: routes, status codes,
// content types, concurrent handlers and the listen-address errors.
#include "common/http_endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_matchers.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// GET `path` from 127.0.0.1:port; the whole response (status line, headers, body).
std::string Get(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "connect failed";
  }
  const std::string req =
      absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return "write failed";
  }
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

TEST(HttpEndpointTest, AnswersEachRouteWithItsStatusTypeAndBody) {
  ASSERT_OK_AND_ASSIGN(auto http,
                       HttpEndpoint::Start("127.0.0.1:0", "--metrics-listen",
                                           {{"/metrics",
                                             [] {
                                               return HttpAnswer{200, "up 1\n"};
                                             }},
                                            {"/readyz",
                                             [] {
                                               return HttpAnswer{503, "not ready\n"};
                                             }},
                                            {"/json", [] {
                                               return HttpAnswer{200, "{}", "application/json"};
                                             }}}));
  ASSERT_GT(http->port(), 0);
  const std::string metrics = Get(http->port(), "/metrics");
  EXPECT_THAT(metrics, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(metrics, HasSubstr("text/plain; charset=utf-8"));
  EXPECT_THAT(metrics, HasSubstr("\r\n\r\nup 1\n"));
  const std::string ready = Get(http->port(), "/readyz");
  EXPECT_THAT(ready, StartsWith("HTTP/1.1 503"));
  EXPECT_THAT(ready, HasSubstr("not ready"));
  EXPECT_THAT(Get(http->port(), "/json"), HasSubstr("application/json"));
  EXPECT_THAT(Get(http->port(), "/nothing-here"), StartsWith("HTTP/1.1 404"));
}

TEST(HttpEndpointTest, HandlersRunForConcurrentRequests) {
  std::atomic<int> calls{0};
  ASSERT_OK_AND_ASSIGN(auto http, HttpEndpoint::Start("127.0.0.1:0", "--metrics-listen",
                                                      {{"/n", [&] {
                                                          calls.fetch_add(1);
                                                          return HttpAnswer{200, "ok"};
                                                        }}}));
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&] {
      if (Get(http->port(), "/n").rfind("HTTP/1.1 200", 0) == 0) ok.fetch_add(1);
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(calls.load(), 8);
}

TEST(HttpEndpointTest, ABadListenAddressNamesTheFlag) {
  EXPECT_THAT(HttpEndpoint::Start("no-port", "--metrics-listen", {}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--metrics-listen 'no-port' is not HOST:PORT")));
  EXPECT_THAT(HttpEndpoint::Start("127.0.0.1:70000", "--metrics-listen", {}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(HttpEndpoint::Start("256.1.1.1:0", "--metrics-listen", {}).status(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("(--metrics-listen)")));
}

}  // namespace
}  // namespace emar
