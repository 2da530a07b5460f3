// The console's HTTP server on 127.0.0.1:0: requests parsed (method, path, query, headers,
// body), limits answered with their status, a slow peer not holding up others, and TLS with the
// test PKI (tests/pki/make-test-pki.sh).
#include "console/http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/status_matchers.h"
#include "tests/console/http_client.h"
#include "tests/server/temp_dir.h"

namespace emar {
namespace {

using ::testing::HasSubstr;

// Echoes what it was sent, so the test sees what the server parsed.
HttpResponse Echo(const HttpRequest& r) {
  HttpResponse out;
  out.content_type = "text/plain";
  out.headers.emplace_back("X-Seen", "yes");
  out.body =
      absl::StrCat(r.method, " ", r.path, " ?", r.query, " host=", r.Header("host").value_or("-"),
                   " body=", r.body, " tls=", r.tls);
  return out;
}

TEST(HttpServerTest, ParsesRequestsAndAnswersWithHeaders) {
  ASSERT_OK_AND_ASSIGN(auto server, HttpServer::Start({.listen = "127.0.0.1:0"}, Echo));
  ASSERT_GT(server->port(), 0);
  HttpReply get = Get(server->port(), "/jobs/a?label=run%3Dx");
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.Header("x-seen"), "yes");
  EXPECT_EQ(get.Header("connection"), "close");
  EXPECT_EQ(get.body, absl::StrCat("GET /jobs/a ?label=run%3Dx host=127.0.0.1:", server->port(),
                                   " body= tls=0"));
  HttpReply post = Post(server->port(), "/login", "token=abc&next=%2F");
  EXPECT_EQ(post.status, 200);
  EXPECT_THAT(post.body, HasSubstr("POST /login ? "));
  EXPECT_THAT(post.body, HasSubstr("body=token=abc&next=%2F"));
}

TEST(HttpServerTest, RefusesWhatItDoesNotServe) {
  ASSERT_OK_AND_ASSIGN(
      auto server,
      HttpServer::Start({.listen = "127.0.0.1:0", .max_header_bytes = 1024, .max_body_bytes = 64},
                        Echo));
  const int port = server->port();
  EXPECT_EQ(Exchange(port, "DELETE / HTTP/1.1\r\n\r\n").status, 405);
  EXPECT_EQ(Exchange(port, "GET nothing\r\n\r\n").status, 400);
  EXPECT_EQ(Exchange(port, "GET / HTTP/1.1\r\nno colon here\r\n\r\n").status, 400);
  EXPECT_EQ(Get(port, "/", absl::StrCat("X-Big: ", std::string(2000, 'x'), "\r\n")).status, 431);
  EXPECT_EQ(Post(port, "/", std::string(65, 'x')).status, 413);
  EXPECT_EQ(Exchange(port, "POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n").status, 400);
  EXPECT_EQ(Exchange(port, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").status,
            400);
}

TEST(HttpServerTest, ASlowPeerDoesNotHoldUpTheOthersAndIsCutOff) {
  ASSERT_OK_AND_ASSIGN(auto server, HttpServer::Start({.listen = "127.0.0.1:0",
                                                       .threads = 2,
                                                       .request_timeout = absl::Milliseconds(500)},
                                                      Echo));
  const int slow = ConnectLoopback(server->port());
  ASSERT_GE(slow, 0);
  ASSERT_GT(::send(slow, "GET / HT", 8, MSG_NOSIGNAL), 0);  // and never the rest
  EXPECT_EQ(Get(server->port(), "/").status, 200);          // the other thread answers
  char buf[16];
  EXPECT_EQ(::recv(slow, buf, sizeof(buf), 0), 0);  // closed once its time is up, unanswered
  ::close(slow);
}

TEST(HttpServerTest, BadListenAddressesNameTheFlag) {
  EXPECT_THAT(HttpServer::Start({.listen = "nope", .flag = "--console-listen"}, Echo),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--console-listen")));
}

TEST(HttpServerTest, ServesTlsWithTheCoordinatorsCertificate) {
  TempDir pki;
  const std::string make = absl::StrCat("/bin/bash ", EMAR_SOURCE_DIR,
                                        "/tests/pki/make-test-pki.sh ", pki.path(), " >/dev/null");
  ASSERT_EQ(std::system(make.c_str()), 0) << make;
  ASSERT_OK_AND_ASSIGN(auto tls, TlsContext::FromFiles({.cert = pki.path() + "/server.crt",
                                                        .key = pki.path() + "/server.key"}));
  ASSERT_OK_AND_ASSIGN(auto server, HttpServer::Start({.listen = "127.0.0.1:0", .tls = tls}, Echo));
  HttpReply r = Get(server->port(), "/x", "", pki.path() + "/ca.crt");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("tls=1"));
  // Plaintext on the TLS port gets no answer; a client trusting another CA none either.
  EXPECT_EQ(Get(server->port(), "/x").status, 0);
  EXPECT_EQ(Get(server->port(), "/x", "", pki.path() + "/other-ca.crt").status, 0);
  EXPECT_THAT(TlsContext::FromFiles(
                  {.cert = pki.path() + "/server.crt", .key = pki.path() + "/client.key"}),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--tls-key")));
}

}  // namespace
}  // namespace emar
