#include "common/tls_credentials.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/file_util.h"

namespace emar {
namespace {

// The file's text, checked to hold a PEM block of `kind` ("CERTIFICATE", "PRIVATE KEY").
absl::StatusOr<std::string> ReadPem(const std::string& flag, const std::string& path,
                                    absl::string_view kind) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", path, ": cannot read: ", text.status().message()));
  }
  if (!absl::StrContains(*text, "-----BEGIN ") || !absl::StrContains(*text, kind)) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", path, ": not a PEM file holding a ", kind));
  }
  return text;
}

// OK when `key_pem` is the private key of the first certificate in `cert_pem`.
absl::Status CheckKeyMatchesCertificate(const std::string& cert_flag, const std::string& cert_path,
                                        const std::string& cert_pem, const std::string& key_flag,
                                        const std::string& key_path, const std::string& key_pem) {
  BIO* cert_bio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* cert = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
  BIO_free(cert_bio);
  if (cert == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(cert_flag, " ", cert_path, ": cannot parse the certificate"));
  }
  BIO* key_bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
  BIO_free(key_bio);
  absl::Status s;
  if (key == nullptr) {
    s = absl::InvalidArgumentError(
        absl::StrCat(key_flag, " ", key_path,
                     ": cannot parse the private key (encrypted keys are not supported)"));
  } else if (X509_check_private_key(cert, key) != 1) {
    s = absl::InvalidArgumentError(absl::StrCat(key_flag, " ", key_path,
                                                " is not the private key of the certificate in ",
                                                cert_flag, " ", cert_path));
  }
  EVP_PKEY_free(key);
  X509_free(cert);
  return s;
}

// An ASN1_TIME as absl::Time; false when it does not convert.
bool ToTime(const ASN1_TIME* t, absl::Time* out) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return false;
  *out = absl::FromTM(tm, absl::UTCTimeZone());
  return true;
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

std::string Days(absl::Duration d) {
  const int64_t days = absl::ToInt64Hours(d) / 24;
  if (days >= 1) return absl::StrCat(days, days == 1 ? " day" : " days");
  return absl::StrCat(absl::ToInt64Hours(d), " hours");
}

}  // namespace

absl::StatusOr<CertificateDates> ReadCertificateDates(const std::string& flag,
                                                      const std::string& path) {
  absl::StatusOr<std::string> pem = ReadPem(flag, path, "CERTIFICATE");
  if (!pem.ok()) return pem.status();
  BIO* bio = BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  CertificateDates dates;
  const bool ok = cert != nullptr && ToTime(X509_get0_notBefore(cert), &dates.not_before) &&
                  ToTime(X509_get0_notAfter(cert), &dates.not_after);
  X509_free(cert);
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", path, ": cannot read the certificate's validity dates"));
  }
  return dates;
}

std::string CertificateDateWarning(const std::string& flag, const std::string& path,
                                   const CertificateDates& dates, absl::Time now,
                                   absl::Duration soon) {
  if (now > dates.not_after) {
    return absl::StrCat(flag, " ", path, " expired at ", Rfc3339(dates.not_after), " (",
                        Days(now - dates.not_after),
                        " ago): peers that check it refuse the connection; renew it");
  }
  if (now < dates.not_before) {
    return absl::StrCat(flag, " ", path, " is not valid before ", Rfc3339(dates.not_before),
                        ": peers that check it refuse the connection until then");
  }
  if (dates.not_after - now < soon) {
    return absl::StrCat(flag, " ", path, " expires at ", Rfc3339(dates.not_after), " (in ",
                        Days(dates.not_after - now), "): renew it");
  }
  return "";
}

absl::Time WarnOfCertificateDates(const ServerTlsFiles& files, absl::Time now, std::ostream& out) {
  if (files.cert.empty()) return absl::InfinitePast();
  absl::StatusOr<CertificateDates> dates = ReadCertificateDates("--tls-cert", files.cert);
  if (!dates.ok()) return absl::InfinitePast();
  const std::string warning = CertificateDateWarning("--tls-cert", files.cert, *dates, now);
  if (!warning.empty()) out << "emar-coordinator: warning: " << warning << std::endl;
  return dates->not_after;
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFromFiles(
    const ServerTlsFiles& files) {
  if (!files.enabled()) return grpc::InsecureServerCredentials();
  if (files.cert.empty() || files.key.empty()) {
    return absl::InvalidArgumentError(
        "TLS needs both --tls-cert and --tls-key (--tls-client-ca alone is not enough)");
  }
  absl::StatusOr<std::string> cert = ReadPem("--tls-cert", files.cert, "CERTIFICATE");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPem("--tls-key", files.key, "PRIVATE KEY");
  if (!key.ok()) return key.status();
  if (absl::Status s =
          CheckKeyMatchesCertificate("--tls-cert", files.cert, *cert, "--tls-key", files.key, *key);
      !s.ok()) {
    return s;
  }
  const grpc_ssl_client_certificate_request_type request =
      files.client_ca.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                              : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  std::string client_ca;
  if (!files.client_ca.empty()) {
    absl::StatusOr<std::string> ca = ReadPem("--tls-client-ca", files.client_ca, "CERTIFICATE");
    if (!ca.ok()) return ca.status();
    client_ca = *ca;
  }
  if (files.reload_seconds > 0) {
    // The files were checked above; from now on gRPC's watcher re-reads them. Replace key and
    // certificate together (as Kubernetes swaps a mounted Secret's files, or by rename).
    auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
        files.key, files.cert, files.client_ca, files.reload_seconds);
    grpc::experimental::TlsServerCredentialsOptions options(provider);
    options.watch_identity_key_cert_pairs();
    if (!files.client_ca.empty()) options.watch_root_certs();
    options.set_cert_request_type(request);
    return grpc::experimental::TlsServerCredentials(options);
  }
  grpc::SslServerCredentialsOptions options(request);
  options.pem_root_certs = client_ca;
  options.pem_key_cert_pairs.push_back({*key, *cert});
  return grpc::SslServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFromFiles(
    const ClientTlsFiles& files) {
  if (!files.enabled()) return grpc::InsecureChannelCredentials();
  if (files.cert.empty() != files.key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  grpc::SslCredentialsOptions options;
  if (!files.ca.empty()) {
    absl::StatusOr<std::string> ca = ReadPem("--tls-ca", files.ca, "CERTIFICATE");
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *ca;
  }
  if (!files.cert.empty()) {
    absl::StatusOr<std::string> cert = ReadPem("--tls-cert", files.cert, "CERTIFICATE");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadPem("--tls-key", files.key, "PRIVATE KEY");
    if (!key.ok()) return key.status();
    if (absl::Status s = CheckKeyMatchesCertificate("--tls-cert", files.cert, *cert, "--tls-key",
                                                    files.key, *key);
        !s.ok()) {
      return s;
    }
    options.pem_cert_chain = *cert;
    options.pem_private_key = *key;
  }
  return grpc::SslCredentials(options);
}

}  // namespace emar
