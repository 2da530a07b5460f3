// TLS credentials from PEM files, for the coordinator (server side) and for emarctl and workers
// (client side). Empty paths mean plaintext: the default for loopback and the embedded mode.
//
//   ASSIGN_OR_RETURN(auto creds, ServerCredentialsFromFiles({.cert = "tls.crt", .key = "tls.key",
//                                                            .client_ca = "ca.crt"}));  // mTLS
//   ASSIGN_OR_RETURN(auto channel_creds, ChannelCredentialsFromFiles({.ca = "ca.crt"}));
//
// Every error names the flag and the file (unreadable, not PEM, key not matching certificate).
#ifndef EMAR_COMMON_TLS_CREDENTIALS_H_
#define EMAR_COMMON_TLS_CREDENTIALS_H_

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace emar {

// emar-coordinator --tls-cert --tls-key [--tls-client-ca]
struct ServerTlsFiles {
  std::string cert;       // certificate chain (PEM) presented to clients and workers
  std::string key;        // its private key (PEM)
  std::string client_ca;  // when set: mutual TLS, peers must present a certificate signed by it
  bool enabled() const { return !cert.empty() || !key.empty() || !client_ca.empty(); }
};

// emarctl / emar-worker --tls-ca [--tls-cert --tls-key]
struct ClientTlsFiles {
  std::string ca;    // CA that signed the coordinator's certificate (empty with TLS: system roots)
  std::string cert;  // own certificate, for a coordinator that requires mutual TLS
  std::string key;
  bool enabled() const { return !ca.empty() || !cert.empty() || !key.empty(); }
};

// Insecure credentials when `files` is empty; INVALID_ARGUMENT naming flag and file otherwise.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFromFiles(
    const ServerTlsFiles& files);
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFromFiles(
    const ClientTlsFiles& files);

}  // namespace emar

#endif  // EMAR_COMMON_TLS_CREDENTIALS_H_
