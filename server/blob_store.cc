#include "server/blob_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/client_message.h"
#include "common/file_util.h"
#include "common/status_macros.h"

namespace emar {
namespace {
std::atomic<uint64_t> tmp_counter{0};

// A failed write into the store: the full message names the file, for the server's log; a
// client is told the condition only (a full disk, or the system's reason).
absl::Status StoreWriteError(absl::StatusCode code, const std::string& path, int err) {
  const std::string client = err == ENOSPC || err == EDQUOT
                                 ? absl::StrCat("the coordinator's storage is full (",
                                                std::generic_category().message(err),
                                                "): nothing was stored; retry once space is freed")
                                 : absl::StrCat("the coordinator could not store the data: ",
                                                std::generic_category().message(err));
  return WithClientMessage(
      absl::Status(code,
                   absl::StrCat(path, ": write failed: ", std::generic_category().message(err))),
      client);
}

absl::Status CheckDigest(absl::string_view sha256) {
  if (!IsSha256Hex(sha256)) {
    return absl::InvalidArgumentError(
        absl::StrCat("sha256 '", sha256, "' is not 64 lowercase hex characters"));
  }
  return absl::OkStatus();
}
}  // namespace

BlobStore::Writer::Writer(BlobStore* store, std::string final_path, std::string tmp_path,
                          FILE* file, std::string sha256, int64_t size, bool durable)
    : store_(store),
      final_path_(std::move(final_path)),
      tmp_path_(std::move(tmp_path)),
      file_(file),
      sha256_(std::move(sha256)),
      size_(size),
      durable_(durable) {}

BlobStore::Writer::~Writer() {
  if (file_ != nullptr) std::fclose(file_);
  if (!committed_) ::unlink(tmp_path_.c_str());
}

absl::Status BlobStore::Writer::Append(absl::string_view chunk) {
  if (committed_ || file_ == nullptr)
    return absl::FailedPreconditionError("blob already committed");
  if (written_ + static_cast<int64_t>(chunk.size()) > size_) {
    return absl::InvalidArgumentError(
        absl::StrCat("blob ", sha256_, ": more data than the declared ", size_, " bytes"));
  }
  if (std::fwrite(chunk.data(), 1, chunk.size(), file_) != chunk.size()) {
    return StoreWriteError(absl::StatusCode::kResourceExhausted, tmp_path_, errno);
  }
  hasher_.Update(chunk);
  written_ += static_cast<int64_t>(chunk.size());
  if (durable_ && written_ - synced_ >= kWritebackBytes) {
    std::fflush(file_);
    ::sync_file_range(::fileno(file_), synced_, written_ - synced_, SYNC_FILE_RANGE_WRITE);
    synced_ = written_;
  }
  return absl::OkStatus();
}

const std::string& BlobStore::Writer::Digest() {
  if (!digest_) digest_ = hasher_.FinishHex();
  return *digest_;
}

absl::Status BlobStore::Writer::Commit() {
  if (committed_ || file_ == nullptr)
    return absl::FailedPreconditionError("blob already committed");
  if (written_ != size_) {
    return absl::InvalidArgumentError(
        absl::StrCat("blob ", sha256_, ": received ", written_, " bytes, declared ", size_));
  }
  const std::string& actual = Digest();
  if (sha256_.empty()) {  // ImportFile: named by its content
    sha256_ = actual;
    final_path_ = store_->PathOf(actual);
    RETURN_IF_ERROR(store_->MakeBlobDir(actual));
  }
  if (actual != sha256_) {
    return absl::InvalidArgumentError(absl::StrCat("digest mismatch: declared sha256 ", sha256_,
                                                   ", received data has sha256 ", actual));
  }
  const bool flushed = std::fflush(file_) == 0 && (!durable_ || ::fsync(::fileno(file_)) == 0);
  const int flush_errno = errno;
  std::fclose(file_);
  file_ = nullptr;
  if (!flushed) {
    return StoreWriteError(flush_errno == ENOSPC || flush_errno == EDQUOT
                               ? absl::StatusCode::kResourceExhausted
                               : absl::StatusCode::kInternal,
                           tmp_path_, flush_errno);
  }
  RETURN_IF_ERROR(store_->Publish(tmp_path_, final_path_, size_));
  committed_ = true;
  return absl::OkStatus();
}

absl::Status BlobStore::Publish(const std::string& tmp_path, const std::string& final_path,
                                int64_t size) {
  absl::MutexLock lock(&publish_mu_);
  struct stat st;
  const bool existed = ::stat(final_path.c_str(), &st) == 0;
  if (::rename(tmp_path.c_str(), final_path.c_str()) != 0) {
    return StoreWriteError(absl::StatusCode::kInternal, final_path, errno);
  }
  if (!existed) used_bytes_ += size;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> BlobStore::Remove(absl::string_view sha256) {
  RETURN_IF_ERROR(CheckDigest(sha256));
  absl::MutexLock lock(&publish_mu_);
  const std::string path = PathOf(sha256);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  if (::unlink(path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat(path, ": ", std::generic_category().message(errno)));
  }
  used_bytes_ -= static_cast<int64_t>(st.st_size);
  return static_cast<int64_t>(st.st_size);
}

absl::StatusOr<std::vector<BlobStore::BlobInfo>> BlobStore::List() const {
  std::vector<BlobInfo> out;
  const std::string top = absl::StrCat(root_, "/blobs");
  DIR* d = ::opendir(top.c_str());
  if (d == nullptr)
    return absl::InternalError(absl::StrCat(top, ": ", std::generic_category().message(errno)));
  std::vector<std::string> subdirs;
  while (const struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') subdirs.push_back(absl::StrCat(top, "/", e->d_name));
  }
  ::closedir(d);
  for (const std::string& sub : subdirs) {
    DIR* s = ::opendir(sub.c_str());
    if (s == nullptr) continue;
    while (const struct dirent* e = ::readdir(s)) {
      if (!IsSha256Hex(e->d_name)) continue;
      struct stat st;
      if (::stat(absl::StrCat(sub, "/", e->d_name).c_str(), &st) != 0) continue;
      out.push_back({e->d_name, static_cast<int64_t>(st.st_size), absl::FromTimeT(st.st_mtime)});
    }
    ::closedir(s);
  }
  return out;
}

BlobStore::BlobStore(std::string root, bool durable) : root_(std::move(root)), durable_(durable) {}

absl::Status BlobStore::Init() {
  RETURN_IF_ERROR(MakeDirs(absl::StrCat(root_, "/blobs")));
  RETURN_IF_ERROR(MakeDirs(absl::StrCat(root_, "/tmp")));
  ASSIGN_OR_RETURN(stale_temp_files_removed_, RemoveTempFiles());
  ASSIGN_OR_RETURN(std::vector<BlobInfo> blobs, List());
  int64_t used = 0;
  for (const BlobInfo& b : blobs) used += b.size;
  used_bytes_ = used;
  return absl::OkStatus();
}

absl::StatusOr<int> BlobStore::RemoveTempFiles() {
  const std::string dir = absl::StrCat(root_, "/tmp");
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr)
    return absl::InternalError(absl::StrCat(dir, ": ", std::generic_category().message(errno)));
  int removed = 0;
  absl::Status status;
  while (const struct dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = absl::StrCat(dir, "/", name);
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0 || S_ISDIR(st.st_mode)) continue;  // never made here
    if (::unlink(path.c_str()) == 0) {
      ++removed;
    } else if (errno != ENOENT && status.ok()) {
      status =
          absl::InternalError(absl::StrCat(path, ": ", std::generic_category().message(errno)));
    }
  }
  ::closedir(d);
  if (!status.ok()) return status;
  return removed;
}

std::string BlobStore::PathOf(absl::string_view sha256) const {
  return absl::StrCat(root_, "/blobs/", sha256.substr(0, 2), "/", sha256);
}

bool BlobStore::Has(absl::string_view sha256) const {
  if (!IsSha256Hex(sha256)) return false;
  struct stat st;
  return ::stat(PathOf(sha256).c_str(), &st) == 0;
}

absl::StatusOr<int64_t> BlobStore::Size(absl::string_view sha256) const {
  RETURN_IF_ERROR(CheckDigest(sha256));
  struct stat st;
  if (::stat(PathOf(sha256).c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("blob ", sha256, " not found"));
  }
  return static_cast<int64_t>(st.st_size);
}

absl::StatusOr<std::unique_ptr<BlobStore::Writer>> BlobStore::StartWrite(absl::string_view sha256,
                                                                         int64_t size) {
  RETURN_IF_ERROR(CheckDigest(sha256));
  if (size < 0) return absl::InvalidArgumentError("blob size must not be negative");
  RETURN_IF_ERROR(MakeBlobDir(sha256));
  return NewWriter(sha256, size);
}

absl::Status BlobStore::MakeBlobDir(absl::string_view sha256) const {
  return MakeDirs(absl::StrCat(root_, "/blobs/", sha256.substr(0, 2)));
}

absl::StatusOr<std::unique_ptr<BlobStore::Writer>> BlobStore::NewWriter(absl::string_view sha256,
                                                                        int64_t size) {
  const std::string tmp = absl::StrCat(root_, "/tmp/", sha256.empty() ? "import" : sha256, ".",
                                       ::getpid(), ".", tmp_counter.fetch_add(1));
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) {
    const int err = errno;
    return StoreWriteError(err == ENOSPC || err == EDQUOT ? absl::StatusCode::kResourceExhausted
                                                          : absl::StatusCode::kInternal,
                           tmp, err);
  }
  return std::unique_ptr<Writer>(new Writer(this, sha256.empty() ? "" : PathOf(sha256), tmp, f,
                                            std::string(sha256), size, durable_));
}

absl::StatusOr<std::string> BlobStore::Put(absl::string_view data) {
  const std::string sha = Sha256Hex(data);
  if (Has(sha)) return sha;
  ASSIGN_OR_RETURN(auto writer, StartWrite(sha, static_cast<int64_t>(data.size())));
  RETURN_IF_ERROR(writer->Append(data));
  RETURN_IF_ERROR(writer->Commit());
  return sha;
}

absl::StatusOr<std::string> BlobStore::ImportFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    const std::string why =
        absl::StrCat(path, ": cannot be read: ", std::generic_category().message(err));
    return err == ENOENT ? absl::NotFoundError(why) : absl::InternalError(why);
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::InternalError(absl::StrCat(path, ": not a regular file"));
  }
  const int64_t size = st.st_size;
  ASSIGN_OR_RETURN(std::unique_ptr<Writer> w, NewWriter("", size));  // named at Commit
  // Small enough to stay in the core's cache between the read, the write and the hash.
  std::string buf(std::min<int64_t>(size, int64_t{256} << 10), '\0');
  for (int64_t done = 0; done < size;) {
    const ssize_t n = ::read(fd, buf.data(), std::min<size_t>(buf.size(), size - done));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return absl::InternalError(absl::StrCat(path, ": shrank while it was read"));
    if (n < 0) {
      return absl::InternalError(
          absl::StrCat(path, ": read failed: ", std::generic_category().message(errno)));
    }
    RETURN_IF_ERROR(w->Append(absl::string_view(buf.data(), static_cast<size_t>(n))));
    done += n;
  }
  char extra;
  if (::read(fd, &extra, 1) > 0) {
    return absl::InternalError(absl::StrCat(path, ": grew while it was read"));
  }
  RETURN_IF_ERROR(w->Commit());
  return w->Digest();
}

absl::StatusOr<FileBytes> BlobStore::Map(absl::string_view sha256) const {
  RETURN_IF_ERROR(CheckDigest(sha256));
  absl::StatusOr<FileBytes> bytes = FileBytes::Open(PathOf(sha256));
  if (absl::IsNotFound(bytes.status()))
    return absl::NotFoundError(absl::StrCat("blob ", sha256, " not found"));
  return bytes;
}

absl::StatusOr<std::string> BlobStore::Read(absl::string_view sha256, int64_t offset,
                                            int64_t length) const {
  ASSIGN_OR_RETURN(const int64_t size, Size(sha256));
  if (offset < 0 || offset > size || (length >= 0 && length > size - offset)) {
    return absl::OutOfRangeError(absl::StrCat("range [", offset, ", +", length, ") outside blob ",
                                              sha256, " of ", size, " bytes"));
  }
  if (length < 0) length = size - offset;
  FILE* f = std::fopen(PathOf(sha256).c_str(), "rb");
  if (f == nullptr) return absl::NotFoundError(absl::StrCat("blob ", sha256, " not found"));
  std::string out(static_cast<size_t>(length), '\0');
  const bool ok =
      ::fseeko(f, offset, SEEK_SET) == 0 && std::fread(out.data(), 1, out.size(), f) == out.size();
  std::fclose(f);
  if (!ok) return absl::InternalError(absl::StrCat("blob ", sha256, ": short read"));
  return out;
}

}  // namespace emar
