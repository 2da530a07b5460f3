// Inputs by reference, the parts that need no server: which addresses are refused, what a URL
// looks like once its credentials are cut off, how a request's references become ordinary
// inputs, and file:// reads under and outside the roots. The https path runs against a real
// server in tests/system/inputs_by_reference_test.cc.
#include "server/input_references.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/blob_store.h"
#include "server/input_fetch.h"

namespace emar {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

bool Private(const std::string& text) {
  std::string printed;
  if (text.find(':') == std::string::npos) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    EXPECT_EQ(inet_pton(AF_INET, text.c_str(), &a.sin_addr), 1) << text;
    return IsPrivateAddress(reinterpret_cast<sockaddr*>(&a), &printed);
  }
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  EXPECT_EQ(inet_pton(AF_INET6, text.c_str(), &a.sin6_addr), 1) << text;
  return IsPrivateAddress(reinterpret_cast<sockaddr*>(&a), &printed);
}

TEST(IsPrivateAddressTest, RefusesLoopbackLinkLocalPrivateAndUnspecified) {
  for (const char* a : {"127.0.0.1",
                        "127.8.9.10",
                        "10.1.2.3",
                        "172.16.0.1",
                        "172.31.255.255",
                        "192.168.1.1",
                        "169.254.169.254",
                        "0.0.0.0",
                        "100.64.0.1",
                        "::1",
                        "::",
                        "fe80::1",
                        "fc00::1",
                        "fd12:3456::1",
                        "::ffff:127.0.0.1",
                        "::ffff:169.254.169.254",
                        "::ffff:10.0.0.1",
                        "ff02::1",
                        "64:ff9b::a9fe:a9fe",
                        "64:ff9b::10.0.0.1",
                        "64:ff9b:1::8.8.8.8",
                        "2002:a9fe:a9fe::1",
                        "2002:7f00:1::"}) {
    EXPECT_TRUE(Private(a)) << a;
  }
  for (const char* a :
       {"8.8.8.8", "172.32.0.1", "172.15.255.255", "192.169.0.1", "1.1.1.1", "2606:4700::1111",
        "::ffff:8.8.8.8", "169.253.0.1", "64:ff9b::8.8.8.8", "2002:808:808::1"}) {
    EXPECT_FALSE(Private(a)) << a;
  }
}

TEST(RedactUriTest, DropsQueryFragmentAndUserInfo) {
  EXPECT_EQ(RedactUri("https://b.s3.amazonaws.com/k/o.jsonl?X-Amz-Signature=abc#f"),
            "https://b.s3.amazonaws.com/k/o.jsonl");
  EXPECT_EQ(RedactUri("https://user:pw@host:8443/p?q"), "https://host:8443/p");
  EXPECT_EQ(RedactUri("https://host?q=1"), "https://host");
  EXPECT_EQ(RedactUri("file:///shared/run42/out.jsonl"), "file:///shared/run42/out.jsonl");
}

emar::v1::CreateJobRequest TwoModels() {
  emar::v1::CreateJobRequest r;
  emar::v1::JobSpec* s = r.mutable_spec();
  s->mutable_target()->set_references("https://h/t.jsonl?sig=SECRET");
  s->mutable_benchmark()->set_references("data/b.jsonl");
  s->mutable_base()->set_name("base");
  s->mutable_base()->set_target_outputs("https://h/t.jsonl?sig=SECRET");
  s->mutable_base()->set_benchmark_outputs("data/b0.jsonl");
  (*s->mutable_input_references())["https://h/t.jsonl?sig=SECRET"].set_sha256(std::string(64, 'A'));
  (*s->mutable_input_references())["https://h/t.jsonl?sig=SECRET"].set_size(10);
  (*r.mutable_input_digests())["data/b.jsonl"] = std::string(64, 'b');
  return r;
}

TEST(ResolveInputReferencesTest, RewritesPathsToTheUriWithoutQueryAndFillsDigests) {
  ASSERT_OK_AND_ASSIGN(ReferencedInputs in, ResolveInputReferences(TwoModels()));
  EXPECT_EQ(in.request.spec().target().references(), "https://h/t.jsonl");
  EXPECT_EQ(in.request.spec().base().target_outputs(), "https://h/t.jsonl");
  EXPECT_EQ(in.request.spec().benchmark().references(), "data/b.jsonl");
  EXPECT_TRUE(in.request.spec().input_references().empty());
  EXPECT_EQ(in.request.input_digests().at("https://h/t.jsonl"), std::string(64, 'a'));
  EXPECT_THAT(in.request.DebugString(), Not(HasSubstr("SECRET")));
  ASSERT_EQ(in.refs.size(), 1u);
  EXPECT_EQ(in.refs[0].uri, "https://h/t.jsonl?sig=SECRET");  // the fetch needs the query
  EXPECT_EQ(in.refs[0].what, "target.references");
}

TEST(ResolveInputReferencesTest, RefusesMalformedUnusedAndConflictingReferences) {
  emar::v1::CreateJobRequest bad = TwoModels();
  (*bad.mutable_spec()->mutable_input_references())["https://h/t.jsonl?sig=SECRET"].set_sha256(
      "xyz");
  EXPECT_THAT(ResolveInputReferences(bad).status().message(),
              HasSubstr("sha256 must be 64 hex digits"));
  emar::v1::CreateJobRequest unused = TwoModels();
  (*unused.mutable_spec()->mutable_input_references())["https://h/other?x"].set_sha256(
      std::string(64, 'c'));
  EXPECT_THAT(ResolveInputReferences(unused).status().message(),
              HasSubstr("'https://h/other' is named by no input path"));
  emar::v1::CreateJobRequest twice = TwoModels();
  twice.mutable_spec()->mutable_base()->set_target_outputs("https://h/t.jsonl?sig=OTHER");
  (*twice.mutable_spec()->mutable_input_references())["https://h/t.jsonl?sig=OTHER"].set_sha256(
      std::string(64, 'c'));
  EXPECT_THAT(ResolveInputReferences(twice).status().message(),
              HasSubstr("differ only in their query string"));
  emar::v1::CreateJobRequest ftp = TwoModels();
  ftp.mutable_spec()->mutable_target()->set_references("ftp://h/t");
  (*ftp.mutable_spec()->mutable_input_references())["ftp://h/t"].set_sha256(std::string(64, 'c'));
  EXPECT_THAT(ResolveInputReferences(ftp).status().message(),
              HasSubstr("must start with https:// or file://"));
}

class FileReferenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("emar-file-ref-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_ / "root/sub");
    std::filesystem::create_directories(dir_ / "outside");
    for (const auto& p : {dir_ / "root/sub/in.jsonl", dir_ / "outside/out.jsonl"}) {
      std::ofstream(p) << kContent;
    }
    options_.input_roots = {(dir_ / "root").string()};
    ASSERT_OK(options_.Resolve());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  absl::Status Fetch(const std::string& path, int64_t size = sizeof(kContent) - 1) {
    InputReference ref{"target.references", "file://" + path, Sha256Hex(kContent), size};
    got_.clear();
    return FetchInput(ref, options_, [&](absl::string_view b) {
      got_.append(b.data(), b.size());
      return absl::OkStatus();
    });
  }

  static constexpr char kContent[] = "{\"id\": 1, \"reference\": \"x\"}\n";
  std::filesystem::path dir_;
  InputFetchOptions options_;
  std::string got_;
};

TEST_F(FileReferenceTest, ReadsUnderTheRootAndRefusesEverythingElse) {
  ASSERT_OK(Fetch((dir_ / "root/sub/in.jsonl").string()));
  EXPECT_EQ(got_, kContent);
  std::filesystem::create_symlink(dir_ / "outside/out.jsonl", dir_ / "root/link.jsonl");
  for (const std::string& p :
       {(dir_ / "outside/out.jsonl").string(), (dir_ / "root/../outside/out.jsonl").string(),
        (dir_ / "root/link.jsonl").string()}) {
    absl::Status s = Fetch(p);
    EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << p << ": " << s;
    EXPECT_THAT(s.message(), HasSubstr("outside every directory")) << p;
  }
  EXPECT_THAT(Fetch((dir_ / "root/sub/in.jsonl").string(), 5).message(),
              HasSubstr("is longer than the stated size of 5 bytes"));
  EXPECT_THAT(Fetch((dir_ / "root/sub/nope.jsonl").string()).message(), HasSubstr("cannot open"));
  options_.input_roots.clear();
  EXPECT_THAT(Fetch((dir_ / "root/sub/in.jsonl").string()).message(),
              HasSubstr("file:// inputs are off"));
}

// A wrong digest is refused naming expected and got, whether FetchInput hashes the bytes itself
// or takes the digest a blob store writer computed while storing them (one pass); the writer's
// blob is then neither committed nor left behind.
TEST_F(FileReferenceTest, DigestMismatchIsNamedWithItsOwnHashOrTheWritersDigest) {
  const std::string path = (dir_ / "root/sub/in.jsonl").string();
  const std::string wrong(64, 'a');
  InputReference ref{"target.references", "file://" + path, wrong, sizeof(kContent) - 1};
  const std::string expected =
      absl::StrCat("sha256 mismatch: expected ", wrong, ", got ", Sha256Hex(kContent));
  absl::Status own = FetchInput(ref, options_, [](absl::string_view) { return absl::OkStatus(); });
  EXPECT_EQ(own.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(own.message(), HasSubstr(expected));

  BlobStore blobs((dir_ / "blobs").string(), /*durable=*/false);
  ASSERT_OK(blobs.Init());
  for (const std::string& sha : {wrong, Sha256Hex(kContent)}) {
    ref.sha256 = sha;
    auto writer = blobs.StartWrite(sha, ref.size);
    ASSERT_OK(writer.status());
    absl::Status s = FetchInput(
        ref, options_, [&](absl::string_view b) { return (*writer)->Append(b); },
        [&]() -> std::string { return (*writer)->Digest(); });
    if (sha == wrong) {
      EXPECT_THAT(s.message(), HasSubstr(expected));
      writer->reset();  // abandoned: its temporary file goes
      EXPECT_FALSE(blobs.Has(wrong));
    } else {
      ASSERT_OK(s);
      ASSERT_OK((*writer)->Commit());  // the digest already taken is the one Commit checks
      EXPECT_EQ(*blobs.Read(sha, 0, -1), kContent);
    }
  }
}

}  // namespace
}  // namespace emar
