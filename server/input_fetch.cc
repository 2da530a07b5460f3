#include "server/input_fetch.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "common/status_macros.h"

namespace emar {
namespace {

constexpr absl::string_view kFileScheme = "file://";
constexpr absl::string_view kHttpsScheme = "https://";

// Every "scheme://..." token of `text` cut at its '?' or '#': curl's messages may quote a URL,
// and a presigned one carries its credentials in the query.
std::string ScrubUrls(absl::string_view text) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t scheme = text.find("://", pos);
    if (scheme == absl::string_view::npos) break;
    size_t end = scheme;
    while (end < text.size() && !absl::ascii_isspace(static_cast<unsigned char>(text[end])) &&
           text[end] != '"' && text[end] != '\'') {
      ++end;
    }
    const size_t query = text.substr(0, end).find_first_of("?#", scheme);
    absl::StrAppend(&out, text.substr(pos, std::min(query, end) - pos));
    pos = end;
  }
  absl::StrAppend(&out, text.substr(pos));
  return out;
}

// Checks size and digest as the bytes go by, and hands them on.
class Verifier {
 public:
  Verifier(const InputReference& ref, std::string where,
           const std::function<absl::Status(absl::string_view)>& sink,
           const std::function<std::string()>& sink_digest)
      : ref_(ref), where_(std::move(where)), sink_(sink), sink_digest_(sink_digest) {}

  absl::Status Append(absl::string_view bytes) {
    if (bytes.size() > static_cast<uint64_t>(ref_.size - count_)) {
      return Error(absl::InvalidArgumentError, absl::StrCat("is longer than the stated size of ",
                                                            ref_.size, " bytes (stopped there)"));
    }
    count_ += static_cast<int64_t>(bytes.size());
    if (!sink_digest_) hasher_.Update(bytes);
    return sink_(bytes);
  }

  absl::Status Finish() {
    if (count_ != ref_.size) {
      return Error(absl::InvalidArgumentError,
                   absl::StrCat("has ", count_, " bytes, the job states ", ref_.size));
    }
    const std::string got = sink_digest_ ? sink_digest_() : hasher_.FinishHex();
    if (got != absl::AsciiStrToLower(ref_.sha256)) {
      return Error(absl::InvalidArgumentError,
                   absl::StrCat("sha256 mismatch: expected ", absl::AsciiStrToLower(ref_.sha256),
                                ", got ", got));
    }
    return absl::OkStatus();
  }

  int64_t count() const { return count_; }
  int64_t stated_size() const { return ref_.size; }

  // "input W, URI: what" with the status constructor given.
  absl::Status Error(absl::Status (*make)(absl::string_view), absl::string_view what) const {
    return make(absl::StrCat("input ", ref_.what, ", ", where_, ": ", ScrubUrls(what)));
  }

 private:
  const InputReference& ref_;
  const std::string where_;
  const std::function<absl::Status(absl::string_view)>& sink_;
  const std::function<std::string()>& sink_digest_;
  int64_t count_ = 0;
  Sha256Hasher hasher_;
};

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = absl::ascii_tolower(static_cast<unsigned char>(c));
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// "file:///a/b%20c" -> "/a/b c"; empty when it is not a local absolute path.
std::string LocalPathOf(absl::string_view uri) {
  absl::string_view rest = uri.substr(kFileScheme.size());
  if (rest.empty() || rest[0] != '/' || rest.find_first_of("?#") != absl::string_view::npos) {
    return "";
  }
  std::string path;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] != '%') {
      path.push_back(rest[i]);
      continue;
    }
    const int hi = i + 2 < rest.size() ? HexValue(rest[i + 1]) : -1;
    const int lo = hi >= 0 ? HexValue(rest[i + 2]) : -1;
    if (lo < 0 || (hi == 0 && lo == 0)) return "";
    path.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return path;
}

bool UnderRoot(const std::string& path, const std::vector<std::string>& roots) {
  for (const std::string& root : roots) {
    if (root == "/" || path == root || absl::StartsWith(path, root + "/")) return true;
  }
  return false;
}

absl::Status FetchFile(const InputReference& ref, const InputFetchOptions& options,
                       Verifier* verifier) {
  const std::string path = LocalPathOf(ref.uri);
  if (path.empty()) {
    return verifier->Error(absl::InvalidArgumentError,
                           "a file reference is file:///ABSOLUTE/PATH (no host, query or NUL)");
  }
  const std::string refused =
      options.input_roots.empty()
          ? "file:// inputs are off on this coordinator (emar-coordinator --input-root DIR)"
          : "is outside every directory the coordinator may read (--input-root), symlinks and "
            "'..' resolved";
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) {
    if (options.input_roots.empty()) return verifier->Error(absl::PermissionDeniedError, refused);
    return verifier->Error(absl::NotFoundError,
                           absl::StrCat("cannot open: ", std::generic_category().message(errno)));
  }
  if (!UnderRoot(resolved, options.input_roots)) {
    return verifier->Error(absl::PermissionDeniedError, refused);
  }
  const int fd = ::open(resolved, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return verifier->Error(absl::NotFoundError,
                           absl::StrCat("cannot open: ", std::generic_category().message(errno)));
  }
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  // What was opened, not what was checked: a path swapped for a symlink in between is caught.
  char opened[PATH_MAX];
  const ssize_t n = ::readlink(absl::StrCat("/proc/self/fd/", fd).c_str(), opened, PATH_MAX - 1);
  struct stat st;
  if (n <= 0 || !UnderRoot(std::string(opened, n), options.input_roots) || ::fstat(fd, &st) != 0 ||
      !S_ISREG(st.st_mode)) {
    return verifier->Error(absl::PermissionDeniedError, "is not a regular file under a root");
  }
  std::string buf(1 << 20, '\0');
  for (;;) {
    const ssize_t got = ::read(fd, buf.data(), buf.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0)
      return verifier->Error(absl::DataLossError, std::generic_category().message(errno));
    if (got == 0) break;
    RETURN_IF_ERROR(verifier->Append(absl::string_view(buf.data(), got)));
  }
  return verifier->Finish();
}

// --- https ---

struct Transfer {
  Verifier* verifier;
  const InputFetchOptions* options;
  absl::Status write_error;  // the verifier's or sink's, which stopped the transfer
  std::string refused;       // the address refused, with why
};

size_t OnWrite(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  t->write_error = t->verifier->Append(absl::string_view(data, size * n));
  return t->write_error.ok() ? size * n : 0;
}

// Every connection curl makes, the first and each after a redirect, to the address it actually
// connects to: a name that resolves to a private address (DNS rebinding) cannot slip through.
curl_socket_t OnOpenSocket(void* user, curlsocktype purpose, struct curl_sockaddr* address) {
  auto* t = static_cast<Transfer*>(user);
  std::string text;
  if (purpose != CURLSOCKTYPE_IPCXN ||
      (!t->options->allow_private_urls && IsPrivateAddress(&address->addr, &text))) {
    if (t->refused.empty()) t->refused = text;
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

void ConfigureCurl(CURL* curl, const InputReference& ref, const InputFetchOptions& options,
                   Transfer* t, char* errbuf) {
  curl_easy_setopt(curl, CURLOPT_URL, ref.uri.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, static_cast<long>(options.max_redirects));
  curl_easy_setopt(curl, CURLOPT_PROXY, "");  // no proxy from the environment: we check peers
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options.ca_file.c_str());
  const long timeout_ms = static_cast<long>(absl::ToInt64Milliseconds(options.timeout));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(options.low_speed_bytes));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                   static_cast<long>(absl::ToInt64Seconds(options.low_speed_time)));
  curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(ref.size));
  curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnWrite);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, OnOpenSocket);
  curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, t);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "emar-coordinator");
}

// The error of a failed curl_easy_perform, in words.
absl::Status CurlError(CURLcode code, CURL* curl, const Transfer& t, const char* errbuf) {
  const Verifier& v = *t.verifier;
  const std::string detail = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(code);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  switch (code) {
    case CURLE_WRITE_ERROR:
      if (!t.write_error.ok()) return t.write_error;
      break;
    case CURLE_COULDNT_CONNECT:
      if (!t.refused.empty()) {
        return v.Error(absl::PermissionDeniedError,
                       absl::StrCat("refused to connect to ", t.refused,
                                    " (a loopback, link-local, private or unspecified address; "
                                    "emar-coordinator --allow-private-urls allows them)"));
      }
      break;
    case CURLE_UNSUPPORTED_PROTOCOL:
      return v.Error(absl::PermissionDeniedError,
                     "redirected to a URL that is not https (only https is followed)");
    case CURLE_TOO_MANY_REDIRECTS:
      return v.Error(absl::PermissionDeniedError,
                     absl::StrCat("more than ", t.options->max_redirects, " redirects"));
    case CURLE_OPERATION_TIMEDOUT:
      return v.Error(absl::DeadlineExceededError,
                     absl::StrCat("timed out after ", v.count(), " bytes (--url-timeout-seconds ",
                                  absl::ToInt64Seconds(t.options->timeout), "): ", detail));
    case CURLE_FILESIZE_EXCEEDED:
      return v.Error(absl::InvalidArgumentError,
                     absl::StrCat("the server announces more than the stated size of ",
                                  v.stated_size(), " bytes"));
    case CURLE_HTTP_RETURNED_ERROR:
      return v.Error(status >= 500 ? absl::UnavailableError : absl::FailedPreconditionError,
                     absl::StrCat("HTTP status ", status,
                                  status == 403 ? " (an expired or wrong presigned URL?)" : ""));
    default:
      break;
  }
  return v.Error(absl::UnavailableError, detail);
}

absl::Status FetchHttps(const InputReference& ref, const InputFetchOptions& options,
                        Verifier* verifier) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  struct Cleanup {
    CURL* curl;
    ~Cleanup() { curl_easy_cleanup(curl); }
  } cleanup{curl};
  Transfer t{verifier, &options, absl::OkStatus(), ""};
  char errbuf[CURL_ERROR_SIZE] = {0};
  ConfigureCurl(curl, ref, options, &t, errbuf);
  const CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) return CurlError(code, curl, t, errbuf);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) {
    return verifier->Error(absl::FailedPreconditionError,
                           absl::StrCat("HTTP status ", status, ", expected 200"));
  }
  return verifier->Finish();
}

bool IsPrivateV4(uint32_t a) {  // host order
  const auto in = [a](uint32_t net, int bits) {
    return (a >> (32 - bits)) == (net >> (32 - bits));
  };
  return in(0x00000000, 8) ||                     // 0/8: unspecified, "this network"
         in(0x7f000000, 8) ||                     // 127/8 loopback
         in(0x0a000000, 8) ||                     // 10/8
         in(0xac100000, 12) ||                    // 172.16/12
         in(0xc0a80000, 16) ||                    // 192.168/16
         in(0xa9fe0000, 16) ||                    // 169.254/16 link-local (metadata)
         in(0x64400000, 10) || a == 0xffffffffu;  // 100.64/10 shared, broadcast
}

}  // namespace

absl::Status InputFetchOptions::Resolve() {
  for (std::string& root : input_roots) {
    char resolved[PATH_MAX];
    struct stat st;
    if (root.empty() || ::realpath(root.c_str(), resolved) == nullptr ||
        ::stat(resolved, &st) != 0 || !S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--input-root '", root, "' is not an existing directory"));
    }
    root = resolved;
  }
  if (!ca_file.empty() && ::access(ca_file.c_str(), R_OK) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("--url-ca-file '", ca_file, "' cannot be read"));
  }
  return absl::OkStatus();
}

std::string RedactUri(absl::string_view uri) {
  const size_t scheme = uri.find("://");
  if (scheme == absl::string_view::npos) return std::string(uri.substr(0, uri.find_first_of("?#")));
  absl::string_view rest = uri.substr(scheme + 3);
  absl::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  absl::string_view path = rest.substr(authority.size());
  path = path.substr(0, path.find_first_of("?#"));
  if (const size_t at = authority.rfind('@'); at != absl::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  return absl::StrCat(uri.substr(0, scheme + 3), authority, path);
}

absl::Status CheckReference(const InputReference& ref) {
  const bool https = absl::StartsWithIgnoreCase(ref.uri, kHttpsScheme);
  if (!https && !absl::StartsWith(ref.uri, kFileScheme)) {
    return absl::InvalidArgumentError(absl::StrCat("input ", ref.what, ": uri '",
                                                   RedactUri(ref.uri),
                                                   "' must start with https:// or file://"));
  }
  if (!IsSha256Hex(absl::AsciiStrToLower(ref.sha256))) {
    return absl::InvalidArgumentError(
        absl::StrCat("input ", ref.what, ", ", RedactUri(ref.uri),
                     ": sha256 must be 64 hex digits (emarctl hash FILE prints it)"));
  }
  if (ref.size < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("input ", ref.what, ", ", RedactUri(ref.uri), ": size must not be negative"));
  }
  return absl::OkStatus();
}

absl::Status FetchInput(const InputReference& ref, const InputFetchOptions& options,
                        const std::function<absl::Status(absl::string_view)>& sink,
                        const std::function<std::string()>& sink_digest) {
  RETURN_IF_ERROR(CheckReference(ref));
  Verifier verifier(ref, RedactUri(ref.uri), sink, sink_digest);
  if (ref.size > options.max_bytes) {
    return verifier.Error(
        absl::ResourceExhaustedError,
        absl::StrCat("the stated size of ", ref.size, " bytes exceeds the input limit of ",
                     options.max_bytes, " bytes (emar-coordinator --max-input-mb)"));
  }
  if (absl::StartsWith(ref.uri, kFileScheme)) return FetchFile(ref, options, &verifier);
  return FetchHttps(ref, options, &verifier);
}

bool IsPrivateAddress(const struct sockaddr* addr, std::string* text) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (addr->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(addr);
    ::inet_ntop(AF_INET, &v4->sin_addr, buf, sizeof buf);
    *text = buf;
    return IsPrivateV4(ntohl(v4->sin_addr.s_addr));
  }
  if (addr->sa_family != AF_INET6) {
    *text = "an address of an unknown family";
    return true;
  }
  const auto* v6 = reinterpret_cast<const sockaddr_in6*>(addr);
  ::inet_ntop(AF_INET6, &v6->sin6_addr, buf, sizeof buf);
  *text = buf;
  const uint8_t* b = v6->sin6_addr.s6_addr;
  const auto v4_at = [b](int i) {  // the IPv4 address in bytes i..i+3
    return (uint32_t{b[i]} << 24) | (uint32_t{b[i + 1]} << 16) | (uint32_t{b[i + 2]} << 8) |
           uint32_t{b[i + 3]};
  };
  bool zero10 = true;  // the first ten bytes zero: ::, ::1, IPv4-compatible or -mapped
  for (int i = 0; i < 10; ++i) zero10 = zero10 && b[i] == 0;
  if (zero10 && ((b[10] == 0xff && b[11] == 0xff) || (b[10] == 0 && b[11] == 0))) {
    const uint32_t v4 = v4_at(12);
    return b[10] == 0 ? (v4 <= 1 || IsPrivateV4(v4)) : IsPrivateV4(v4);
  }
  // Translated IPv4: NAT64's well-known prefix 64:ff9b::/96 and 6to4's 2002::/16 reach the IPv4
  // address inside them; 64:ff9b:1::/48 is NAT64 for local use, private by definition.
  const bool nat64 = b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b;
  if (nat64) {
    bool zero = true;  // bytes 4..11 zero: the well-known /96
    for (int i = 4; i < 12; ++i) zero = zero && b[i] == 0;
    if (zero) return IsPrivateV4(v4_at(12));
    if (b[4] == 0 && b[5] == 1) return true;
  }
  if (b[0] == 0x20 && b[1] == 0x02) return IsPrivateV4(v4_at(2));
  return (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) ||  // fe80::/10 link-local
         (b[0] & 0xfe) == 0xfc ||                    // fc00::/7 unique local
         (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) ||  // fec0::/10 site-local (deprecated)
         b[0] == 0xff;                               // multicast
}

}  // namespace emar
