// Whole-file reads, mapped file bytes, atomic writes, mkdir -p and path joining, on a real
// temporary directory.
#include "common/file_util.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "common/status_matchers.h"
#include "tests/server/temp_dir.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::HasSubstr;

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  while (const dirent* e = d ? ::readdir(d) : nullptr) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") out.push_back(name);
  }
  if (d) ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(FileUtilTest, ReadsAWholeFileAndNamesAMissingOne) {
  TempDir dir;
  WriteFile(dir.path() + "/a", std::string("one\0two", 7));
  ASSERT_OK_AND_ASSIGN(std::string text, ReadFileToString(dir.path() + "/a"));
  EXPECT_EQ(text, std::string("one\0two", 7));
  EXPECT_THAT(ReadFileToString(dir.path() + "/nope").status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(dir.path() + "/nope")));
}

TEST(FileUtilTest, FileBytesMapsRegularFilesAndReadsEmptyOnes) {
  TempDir dir;
  WriteFile(dir.path() + "/a", "mapped bytes");
  WriteFile(dir.path() + "/empty", "");
  ASSERT_OK_AND_ASSIGN(FileBytes a, FileBytes::Open(dir.path() + "/a"));
  EXPECT_EQ(a.bytes(), "mapped bytes");
  FileBytes moved = std::move(a);
  EXPECT_EQ(moved.bytes(), "mapped bytes");
  ASSERT_OK_AND_ASSIGN(FileBytes empty, FileBytes::Open(dir.path() + "/empty"));
  EXPECT_EQ(empty.bytes(), "");
  EXPECT_THAT(FileBytes::Open(dir.path() + "/nope").status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(dir.path() + "/nope")));
}

TEST(FileUtilTest, WriteFileAtomicallyReplacesTheFileAndLeavesNoTemporary) {
  TempDir dir;
  const std::string path = dir.path() + "/state";
  ASSERT_OK(WriteFileAtomically(path, "first"));
  ASSERT_OK(WriteFileAtomically(path, "second, longer"));
  ASSERT_OK_AND_ASSIGN(std::string text, ReadFileToString(path));
  EXPECT_EQ(text, "second, longer");
  EXPECT_EQ(Entries(dir.path()), std::vector<std::string>{"state"});
  EXPECT_THAT(WriteFileAtomically(dir.path() + "/no/such/dir/f", "x"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(dir.path() + "/no/such/dir/f")));
}

TEST(FileUtilTest, MakeDirsCreatesEveryLevelAndAcceptsExistingOnes) {
  TempDir dir;
  const std::string deep = dir.path() + "/a/b/c";
  ASSERT_OK(MakeDirs(deep));
  ASSERT_OK(MakeDirs(deep));
  struct stat st;
  ASSERT_EQ(::stat(deep.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  WriteFile(dir.path() + "/file", "x");
  EXPECT_FALSE(MakeDirs(dir.path() + "/file/sub").ok());
}

TEST(FileUtilTest, DirNameAndJoinPath) {
  EXPECT_EQ(DirName("a/b/c.jsonl"), "a/b");
  EXPECT_EQ(DirName("c.jsonl"), ".");
  EXPECT_EQ(DirName("/c.jsonl"), "/");
  EXPECT_EQ(JoinPath("a/b", "c.jsonl"), "a/b/c.jsonl");
  EXPECT_EQ(JoinPath("a/b", "/abs/c.jsonl"), "/abs/c.jsonl");
  EXPECT_EQ(JoinPath(".", "c.jsonl"), "c.jsonl");
}

}  // namespace
}  // namespace emar
