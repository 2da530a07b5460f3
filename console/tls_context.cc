#include "console/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "absl/strings/str_cat.h"

namespace emar {
namespace {

std::string OpenSslError() {
  const unsigned long e = ERR_get_error();
  if (e == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

absl::Status Refused(const std::string& flag, const std::string& path, const std::string& what) {
  return absl::InvalidArgumentError(
      absl::StrCat("console TLS: ", flag, " '", path, "': ", what, " (", OpenSslError(), ")"));
}

}  // namespace

absl::StatusOr<std::shared_ptr<TlsContext>> TlsContext::FromFiles(const ServerTlsFiles& files) {
  if (files.cert.empty() || files.key.empty()) {
    return absl::InvalidArgumentError("console TLS needs both --tls-cert and --tls-key");
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return absl::InternalError("SSL_CTX_new: " + OpenSslError());
  std::shared_ptr<TlsContext> out(new TlsContext(ctx));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx, files.cert.c_str()) != 1) {
    return Refused("--tls-cert", files.cert, "cannot load the certificate chain");
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, files.key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Refused("--tls-key", files.key, "cannot load the private key");
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return Refused("--tls-key", files.key, "does not match --tls-cert");
  }
  if (!files.client_ca.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, files.client_ca.c_str(), nullptr) != 1) {
      return Refused("--tls-client-ca", files.client_ca, "cannot load the CA");
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return out;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

}  // namespace emar
