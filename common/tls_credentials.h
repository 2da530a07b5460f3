// TLS credentials from PEM files, for the coordinator (server side) and for emarctl and workers
// (client side). Empty paths mean plaintext: the default for loopback and the embedded mode.
//
//   ASSIGN_OR_RETURN(auto creds, ServerCredentialsFromFiles({.cert = "tls.crt", .key = "tls.key",
//                                                            .client_ca = "ca.crt"}));  // mTLS
//   ASSIGN_OR_RETURN(auto channel_creds, ChannelCredentialsFromFiles({.ca = "ca.crt"}));
//
// Every error names the flag and the file (unreadable, not PEM, key not matching certificate).
//
// Dates: a certificate outside its validity period is not refused (a coordinator restarted with
// a certificate that just expired would otherwise be down until someone renews it), but
// WarnOfCertificateDates says so on start, naming the file and the date, and its expiry becomes
// a metric (emar_tls_certificate_expiry_timestamp_seconds) to alert on before it comes.
#ifndef EMAR_COMMON_TLS_CREDENTIALS_H_
#define EMAR_COMMON_TLS_CREDENTIALS_H_

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace emar {

// emar-coordinator --tls-cert --tls-key [--tls-client-ca]
struct ServerTlsFiles {
  std::string cert;       // certificate chain (PEM) presented to clients and workers
  std::string key;        // its private key (PEM)
  std::string client_ca;  // when set: mutual TLS, peers must present a certificate signed by it
  // > 0: gRPC's FileWatcherCertificateProvider reads the three files again this often, and new
  // connections get what it read (a renewed certificate, a rotated CA) while existing ones keep
  // theirs. 0: read once.
  int reload_seconds = 0;
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

// The validity period of the first certificate in PEM file `path`; errors name `flag` and path.
struct CertificateDates {
  absl::Time not_before;
  absl::Time not_after;
};
absl::StatusOr<CertificateDates> ReadCertificateDates(const std::string& flag,
                                                      const std::string& path);

// One line when `dates` do not cover `now` (expired, not yet valid) or end within `soon`, naming
// the flag, the file and the date; empty otherwise.
std::string CertificateDateWarning(const std::string& flag, const std::string& path,
                                   const CertificateDates& dates, absl::Time now,
                                   absl::Duration soon = absl::Hours(24 * 14));

// For the coordinator's start: writes CertificateDateWarning of files.cert (if any) to `out` as
// "emar-coordinator: warning: ..." and returns its not_after; InfinitePast without TLS or when it
// is unreadable (ServerCredentialsFromFiles reports that).
absl::Time WarnOfCertificateDates(const ServerTlsFiles& files, absl::Time now, std::ostream& out);

}  // namespace emar

#endif  // EMAR_COMMON_TLS_CREDENTIALS_H_
