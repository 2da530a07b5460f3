#include "common/tls_credentials.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
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

}  // namespace

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
  grpc::SslServerCredentialsOptions options(
      files.client_ca.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                              : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  if (!files.client_ca.empty()) {
    absl::StatusOr<std::string> ca = ReadPem("--tls-client-ca", files.client_ca, "CERTIFICATE");
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *ca;
  }
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
