#include "server/blob_store.h"

#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/client_message.h"
#include "common/grpc_status.h"
#include "common/sha256.h"
#include "common/status_matchers.h"
#include "tests/server/temp_dir.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::HasSubstr;

TEST(BlobStoreTest, WriteVerifiesDigestAndReadsRanges) {
  TempDir dir;
  BlobStore store(dir.path());
  ASSERT_OK(store.Init());
  const std::string data = "hello\nworld\n";
  const std::string sha = Sha256Hex(data);
  EXPECT_FALSE(store.Has(sha));
  ASSERT_OK_AND_ASSIGN(auto w, store.StartWrite(sha, static_cast<int64_t>(data.size())));
  ASSERT_OK(w->Append("hello\n"));
  EXPECT_FALSE(store.Has(sha));  // invisible until committed
  ASSERT_OK(w->Append("world\n"));
  ASSERT_OK(w->Commit());
  EXPECT_TRUE(store.Has(sha));
  ASSERT_OK_AND_ASSIGN(std::string all, store.Read(sha, 0, -1));
  EXPECT_EQ(all, data);
  ASSERT_OK_AND_ASSIGN(std::string part, store.Read(sha, 6, 5));
  EXPECT_EQ(part, "world");
  EXPECT_THAT(store.Read(sha, 10, 5),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("outside blob")));
}

TEST(BlobStoreTest, DigestMismatchIsRejectedAndNothingIsStored) {
  TempDir dir;
  BlobStore store(dir.path());
  ASSERT_OK(store.Init());
  const std::string claimed = Sha256Hex("the real content");
  ASSERT_OK_AND_ASSIGN(auto w, store.StartWrite(claimed, 16));
  ASSERT_OK(w->Append("tampered content"));
  EXPECT_THAT(w->Commit(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("digest mismatch")));
  EXPECT_FALSE(store.Has(claimed));
}

TEST(BlobStoreTest, SizeMismatchAndBadDigestAreRejected) {
  TempDir dir;
  BlobStore store(dir.path());
  ASSERT_OK(store.Init());
  const std::string sha = Sha256Hex("abc");
  ASSERT_OK_AND_ASSIGN(auto w, store.StartWrite(sha, 3));
  EXPECT_THAT(w->Append("abcd"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("more data")));
  ASSERT_OK_AND_ASSIGN(auto w2, store.StartWrite(sha, 3));
  ASSERT_OK(w2->Append("ab"));
  EXPECT_THAT(w2->Commit(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("received 2 bytes")));
  EXPECT_THAT(store.StartWrite("XYZ", 3),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("64 lowercase hex")));
  EXPECT_THAT(store.Read(Sha256Hex("missing"), 0, -1), StatusIs(absl::StatusCode::kNotFound));
}

TEST(BlobStoreTest, PutIsContentAddressed) {
  TempDir dir;
  BlobStore store(dir.path());
  ASSERT_OK(store.Init());
  ASSERT_OK_AND_ASSIGN(std::string a, store.Put("same"));
  ASSERT_OK_AND_ASSIGN(std::string b, store.Put("same"));
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, Sha256Hex("same"));
}

// The embedded mode's inputs: a local file copied in, named by the digest of what was copied.
TEST(BlobStoreTest, ImportFileStoresAFileUnderItsDigest) {
  TempDir dir, files;
  BlobStore store(dir.path(), /*durable=*/false);
  ASSERT_OK(store.Init());
  std::string big;
  for (int i = 0; big.size() < (9 << 20); ++i) absl::StrAppend(&big, "{\"id\": ", i, "}\n");
  const std::string path = files.path() + "/big.jsonl";
  {
    FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fwrite(big.data(), 1, big.size(), f), big.size());
    std::fclose(f);
  }
  ASSERT_OK_AND_ASSIGN(std::string sha, store.ImportFile(path));  // several 4 MiB reads
  EXPECT_EQ(sha, Sha256Hex(big));
  ASSERT_OK_AND_ASSIGN(std::string back, store.Read(sha, 0, -1));
  EXPECT_TRUE(back == big);
  EXPECT_EQ(store.used_bytes(), static_cast<int64_t>(big.size()));
  ASSERT_OK_AND_ASSIGN(std::string again, store.ImportFile(path));  // counted once
  EXPECT_EQ(again, sha);
  EXPECT_EQ(store.used_bytes(), static_cast<int64_t>(big.size()));
  const std::string empty = files.path() + "/empty.jsonl";
  std::fclose(std::fopen(empty.c_str(), "wb"));
  ASSERT_OK_AND_ASSIGN(std::string empty_sha, store.ImportFile(empty));
  EXPECT_EQ(empty_sha, Sha256Hex(""));
  EXPECT_THAT(store.ImportFile(files.path() + "/gone.jsonl"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("gone.jsonl: cannot be read")));
  EXPECT_THAT(store.ImportFile(files.path()),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("not a regular file")));
  // Nothing half-written is left behind.
  DIR* tmp = ::opendir((dir.path() + "/tmp").c_str());
  ASSERT_NE(tmp, nullptr);
  int left = 0;
  while (dirent* e = ::readdir(tmp)) left += e->d_name[0] != '.';
  ::closedir(tmp);
  EXPECT_EQ(left, 0);
}

TEST(BlobStoreTest, InitRemovesPartialUploadsLeftInTmp) {
  TempDir dir;
  {
    BlobStore store(dir.path());
    ASSERT_OK(store.Init());
    EXPECT_EQ(store.stale_temp_files_removed(), 0);
    ASSERT_OK(store.Put("kept"));
    // Two uploads cut short by SIGKILL in a child process: nothing gets to remove their files.
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      auto w1 = store.StartWrite(Sha256Hex("first partial"), 100);
      auto w2 = store.StartWrite(Sha256Hex("second partial"), 100);
      if (w1.ok() && w2.ok() && (*w1)->Append("first").ok()) ::kill(::getpid(), SIGKILL);
      ::_exit(1);
    }
    int wstatus = 0;
    ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
    ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL);
  }
  auto tmp_entries = [&] {
    int n = 0;
    DIR* d = ::opendir((dir.path() + "/tmp").c_str());
    if (d == nullptr) return -1;
    while (const struct dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
    ::closedir(d);
    return n;
  };
  ASSERT_EQ(tmp_entries(), 2);

  BlobStore restarted(dir.path());
  ASSERT_OK(restarted.Init());
  EXPECT_EQ(restarted.stale_temp_files_removed(), 2);
  EXPECT_EQ(tmp_entries(), 0);
  EXPECT_TRUE(restarted.Has(Sha256Hex("kept")));  // published blobs stay
  EXPECT_FALSE(restarted.Has(Sha256Hex("first partial")));
  ASSERT_OK_AND_ASSIGN(std::string again, restarted.Put("first partial"));  // re-upload works
  EXPECT_TRUE(restarted.Has(again));
  EXPECT_EQ(tmp_entries(), 0);
}

// A full disk: the error's text for the server's log names the temporary file; the text a
// client gets (ToGrpcStatus) names the condition and no path of the server. The disk is
// /dev/full (every write fails with ENOSPC), under each name the next temporary file can take.
TEST(BlobStoreTest, AFullDiskIsReportedToClientsWithoutServerPaths) {
  TempDir dir;
  BlobStore store(dir.path());
  ASSERT_OK(store.Init());
  const std::string data(1 << 20, 'x');
  const std::string sha = Sha256Hex(data);
  for (int counter = 0; counter < 4096; ++counter) {
    const std::string tmp = absl::StrCat(dir.path(), "/tmp/", sha, ".", ::getpid(), ".", counter);
    ASSERT_EQ(::symlink("/dev/full", tmp.c_str()), 0) << tmp;
  }
  ASSERT_OK_AND_ASSIGN(auto w, store.StartWrite(sha, static_cast<int64_t>(data.size())));
  absl::Status s = w->Append(data);
  if (s.ok()) s = w->Commit();  // a write the buffer took fails at the flush
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(dir.path()));  // for the server's log
  EXPECT_THAT(std::string(s.message()), HasSubstr("No space left on device"));
  const grpc::Status sent = ToGrpcStatus(s);
  EXPECT_EQ(sent.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(sent.error_message(), HasSubstr("storage is full (No space left on device)"));
  EXPECT_THAT(sent.error_message(), ::testing::Not(HasSubstr(dir.path())));
  EXPECT_THAT(sent.error_message(), ::testing::Not(HasSubstr("/tmp")));
  EXPECT_FALSE(store.Has(sha));
}

}  // namespace
}  // namespace emar
