// Reads an input named by reference (a job's `{uri, sha256, size}` instead of an uploaded file):
// `file://` under a directory the coordinator may read (--input-root), or `https://` with
// libcurl. Bytes are streamed to a sink while their sha256 and count are checked; the transfer
// stops as soon as it passes the stated size. See docs/inputs.md for the rules.
//
//   InputFetchOptions options{.input_roots = {"/shared"}, .allow_private_urls = false};
//   RETURN_IF_ERROR(options.Resolve());  // realpath of every root, once at start
//   RETURN_IF_ERROR(FetchInput(ref, options, [&](absl::string_view b) { return w->Append(b); }));
//
// Errors never carry a URL's query string (presigned URLs hold their credentials there): every
// message names the URL as RedactUri gives it.
#ifndef EMAR_SERVER_INPUT_FETCH_H_
#define EMAR_SERVER_INPUT_FETCH_H_

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace emar {

struct InputFetchOptions {
  // Directories whose files `file://` references may name (--input-root). Empty: file:// is off.
  std::vector<std::string> input_roots;
  // Largest input, bytes (--max-input-mb); a stated size beyond it is refused before reading.
  int64_t max_bytes = int64_t{1} << 30;
  // Bound of a whole https transfer, and of its connection (--url-timeout-seconds).
  absl::Duration timeout = absl::Seconds(300);
  // A transfer slower than low_speed_bytes per second for low_speed_time is stopped.
  int64_t low_speed_bytes = 1024;
  absl::Duration low_speed_time = absl::Seconds(30);
  // Connect to loopback, link-local, private and unspecified addresses (--allow-private-urls).
  bool allow_private_urls = false;
  // PEM CA bundle that replaces the system's for https references (--url-ca-file).
  std::string ca_file;
  int max_redirects = 5;

  // Replaces every root by its realpath, and checks ca_file can be read: INVALID_ARGUMENT naming
  // a root that does not exist or is not a directory, or the CA file.
  absl::Status Resolve();
};

// One input named by reference, as the job states it.
struct InputReference {
  std::string what;  // the input, for errors: "lora-r16.outputs[mmlu] (candidates[0].outputs...)"
  std::string uri;   // file:///... or https://... (may carry a query: never printed)
  std::string sha256;
  int64_t size = 0;
};

// "https://host:port/path" without user info, query or fragment; file:// URIs unchanged.
std::string RedactUri(absl::string_view uri);

// INVALID_ARGUMENT unless `ref` has a file:// or https:// URI, a 64-hex sha256 and a size >= 0.
absl::Status CheckReference(const InputReference& ref);

// Streams the input into `sink`, checking it is exactly ref.size bytes with digest ref.sha256.
// Errors name ref.what and the redacted URI: INVALID_ARGUMENT (bad URI, digest or size
// mismatch), PERMISSION_DENIED (outside every --input-root, a refused address, a redirect to
// something else than https), RESOURCE_EXHAUSTED (beyond --max-input-mb), DEADLINE_EXCEEDED
// (timeout, too slow), UNAVAILABLE (connection, TLS, HTTP status), or the sink's own error.
// `sink_digest`, when given, returns the sha256 (hex) of all the bytes the sink was given, once
// they are all in: a sink that hashes them anyway (a BlobStore::Writer) saves a second pass.
absl::Status FetchInput(const InputReference& ref, const InputFetchOptions& options,
                        const std::function<absl::Status(absl::string_view)>& sink,
                        const std::function<std::string()>& sink_digest = nullptr);

// Whether a connection to `addr` is refused unless --allow-private-urls: loopback, link-local
// (169.254/16, fe80::/10), private (10/8, 172.16/12, 192.168/16, fc00::/7, 100.64/10),
// unspecified (0/8, ::), and IPv4-mapped or -compatible, NAT64 (64:ff9b::/96) and 6to4 (2002::/16)
// forms of those; 64:ff9b:1::/48 (local-use NAT64) whole. `text` gets the address.
bool IsPrivateAddress(const struct sockaddr* addr, std::string* text);

}  // namespace emar

#endif  // EMAR_SERVER_INPUT_FETCH_H_
