// SHA-256 digests as lowercase hex, the content address of every blob in the service.
//
//   Sha256Hasher h;  h.Update(chunk1);  h.Update(chunk2);  std::string hex = h.FinishHex();
//   absl::StatusOr<std::string> d = Sha256OfFile("/data/out.jsonl");
#ifndef EMAR_COMMON_SHA256_H_
#define EMAR_COMMON_SHA256_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace emar {

// Incremental hasher. Not thread-safe; one per stream.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(absl::string_view data);
  // Returns the digest of everything passed to Update; the hasher must not be used afterwards.
  std::string FinishHex();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::string Sha256Hex(absl::string_view data);
// Streams the file; NOT_FOUND / INTERNAL name the path.
absl::StatusOr<std::string> Sha256OfFile(const std::string& path);
// True for 64 lowercase hex characters.
bool IsSha256Hex(absl::string_view s);

}  // namespace emar

#endif  // EMAR_COMMON_SHA256_H_
