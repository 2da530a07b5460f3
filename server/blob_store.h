// Content-addressed blob store on local disk: every uploaded input lives at
// DIR/blobs/<first two hex>/<sha256>, written under a temporary name and renamed into place only
// after its size and digest were verified, so a visible blob is always complete and correct.
//
//   BlobStore store("/var/lib/emar");
//   ASSIGN_OR_RETURN(auto w, store.StartWrite(sha, size));
//   RETURN_IF_ERROR(w->Append(chunk)); ...; RETURN_IF_ERROR(w->Commit());
//   ASSIGN_OR_RETURN(std::string bytes, store.Read(sha, 0, -1));
//
// Thread-safe: concurrent writers of the same blob each write their own temporary file; the
// rename is atomic and both contents are identical by construction.
#ifndef EMAR_SERVER_BLOB_STORE_H_
#define EMAR_SERVER_BLOB_STORE_H_

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/file_util.h"
#include "common/sha256.h"

namespace emar {

class BlobStore {
 public:
  // One upload in progress. Destroying it without Commit() discards the temporary file.
  class Writer {
   public:
    ~Writer();
    absl::Status Append(absl::string_view chunk);
    // Verifies size and digest, then publishes the blob. INVALID_ARGUMENT on mismatch. A writer
    // started without a digest (ImportFile) publishes under the digest of what it was given.
    absl::Status Commit();
    // The sha256 (hex) of the bytes appended: ends the hash, so call it once they are all in.
    // Commit uses the same value (a caller that checks the digest itself hashes nothing twice).
    const std::string& Digest();
    int64_t bytes_written() const { return written_; }

   private:
    friend class BlobStore;
    Writer(BlobStore* store, std::string final_path, std::string tmp_path, FILE* file,
           std::string sha256, int64_t size, bool durable);
    BlobStore* const store_;
    std::string final_path_, tmp_path_;
    FILE* file_;
    std::string sha256_;
    int64_t size_;
    int64_t written_ = 0;
    Sha256Hasher hasher_;
    std::optional<std::string> digest_;  // set by Digest()
    bool committed_ = false;
    bool durable_;
    // A durable blob's bytes are handed to the disk every kWritebackBytes as they arrive
    // (sync_file_range), so the fsync in Commit waits for the tail, not the whole blob.
    int64_t synced_ = 0;
    static constexpr int64_t kWritebackBytes = 8 << 20;
  };

  // `root` is created if needed. A durable store fsyncs every blob before publishing it; a
  // scratch store (the embedded default's temporary data dir) skips that.
  explicit BlobStore(std::string root, bool durable = true);

  // Creates the directories and removes every file left in DIR/tmp: partial uploads of a process
  // that died (the store is tmp/'s only writer, and Init runs before anything is served).
  absl::Status Init();
  // How many leftover temporary files Init() removed.
  int stale_temp_files_removed() const { return stale_temp_files_removed_; }
  bool Has(absl::string_view sha256) const;
  absl::StatusOr<int64_t> Size(absl::string_view sha256) const;
  // INVALID_ARGUMENT for a malformed digest or a negative size.
  absl::StatusOr<std::unique_ptr<Writer>> StartWrite(absl::string_view sha256, int64_t size);
  // Stores `data` whole (used for decompressed copies); returns its digest.
  absl::StatusOr<std::string> Put(absl::string_view data);
  // Copies a local file into the store, named by the digest of the bytes copied, which it
  // returns: read, hashed and written in one pass (the embedded mode's inputs; an upload would
  // hash the file first, then copy it through gRPC and hash it again). NOT_FOUND / INTERNAL
  // naming `path` when it cannot be read, or changed size while it was.
  absl::StatusOr<std::string> ImportFile(const std::string& path);
  // Bytes [offset, offset+length) of the blob; length -1 reads to the end. NOT_FOUND for an
  // unknown blob, OUT_OF_RANGE for a range past its end.
  absl::StatusOr<std::string> Read(absl::string_view sha256, int64_t offset, int64_t length) const;
  // The whole blob, mapped rather than copied (a blob is never written in place). NOT_FOUND for
  // an unknown blob.
  absl::StatusOr<FileBytes> Map(absl::string_view sha256) const;
  std::string PathOf(absl::string_view sha256) const;

  // Bytes of all blobs stored (counted at Init, kept up to date by Commit and Remove).
  int64_t used_bytes() const { return used_bytes_.load(); }
  // Deletes the blob; returns the bytes freed (0 when it was not there).
  absl::StatusOr<int64_t> Remove(absl::string_view sha256);
  struct BlobInfo {
    std::string sha256;
    int64_t size = 0;
    absl::Time modified;  // when it was stored
  };
  // Every stored blob (for retention).
  absl::StatusOr<std::vector<BlobInfo>> List() const;

 private:
  absl::StatusOr<int> RemoveTempFiles();
  // DIR/blobs/<first two hex of sha256>, created if needed.
  absl::Status MakeBlobDir(absl::string_view sha256) const;
  // A writer of a new temporary file. An empty `sha256` (ImportFile): the blob is named by its
  // content at Commit.
  absl::StatusOr<std::unique_ptr<Writer>> NewWriter(absl::string_view sha256, int64_t size);
  // Publishes a verified temporary file, counting its bytes if the blob is new.
  absl::Status Publish(const std::string& tmp_path, const std::string& final_path, int64_t size);

  const std::string root_;
  const bool durable_;
  int stale_temp_files_removed_ = 0;
  absl::Mutex publish_mu_;  // Publish and Remove: keeps used_bytes_ exact
  std::atomic<int64_t> used_bytes_{0};
};

}  // namespace emar

#endif  // EMAR_SERVER_BLOB_STORE_H_
