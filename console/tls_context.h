// TLS for the console's HTTP server, with OpenSSL: the coordinator's own certificate and key
// (--tls-cert, --tls-key) and, with --tls-client-ca, the same demand for a client certificate as
// on the gRPC port. The only OpenSSL in the console; console/http_server.cc drives it.
//
//   ASSIGN_OR_RETURN(std::shared_ptr<TlsContext> tls, TlsContext::FromFiles(files));
//   HttpServer::Start({.listen = ..., .tls = tls}, handler);
#ifndef EMAR_CONSOLE_TLS_CONTEXT_H_
#define EMAR_CONSOLE_TLS_CONTEXT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/tls_credentials.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace emar {

class TlsContext {
 public:
  // INVALID_ARGUMENT naming the flag and file when one cannot be read or the key does not match.
  static absl::StatusOr<std::shared_ptr<TlsContext>> FromFiles(const ServerTlsFiles& files);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* get() const { return ctx_; }

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* ctx_;
};

}  // namespace emar

#endif  // EMAR_CONSOLE_TLS_CONTEXT_H_
