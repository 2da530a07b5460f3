// Inputs named by reference ({uri, sha256, size}, docs/inputs.md) between real processes: a
// coordinator reading https:// inputs from a real HTTPS server on 127.0.0.1
// (tests/system/https_fixture.py under /usr/bin/python3, with a CA and certificate made by openssl
// in the test: tests/pki/make-test-pki.sh) and file:// inputs under --input-root. No network
// beyond loopback.
//
// Every fetch that must really happen reads content the coordinator has not stored yet: outputs
// may come in any order, so each case names its own rotation of the candidate's target outputs
// (another digest, the same report).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/sha256.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/system/generated_job.h"
#include "tests/system/local_cluster.h"
#include "tests/system/process.h"

namespace emar::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// In every https reference's query: a presigned URL's credentials, which must never be printed.
constexpr char kSecret[] = "X-Amz-Signature=s3cr3tsignature&X-Amz-Credential=AKIAEXAMPLE";
constexpr char kCandTarget[] = "out/cand.target.jsonl";

struct Shared {
  TempDir dir;  // pki/, job/ (the generated job, served over https), root/, outside/
  GeneratedJob job;
  std::unique_ptr<Process> https;
  int port = 0;
  std::unique_ptr<LocalCluster> cluster;  // --allow-private-urls, the test CA, --input-root root/
};
Shared* shared = nullptr;

std::string JobDir() { return shared->dir.Join("job"); }

absl::Status StartHttps() {
  const std::string pki = shared->dir.Join("pki");
  CommandResult made =
      RunCommand({"/bin/bash", absl::StrCat(EMAR_SOURCE_DIR, "/tests/pki/make-test-pki.sh"), pki},
                 absl::Seconds(120));
  if (!made.exit.Exited(0)) return absl::InternalError(absl::StrCat("pki: ", made.err));
  const std::string port_file = shared->dir.Join("https.port");
  auto https = Process::Start(
      {"/usr/bin/python3", absl::StrCat(EMAR_SOURCE_DIR, "/tests/system/https_fixture.py"),
       "--cert", pki + "/server.crt", "--key", pki + "/server.key", "--dir", JobDir(),
       "--port-file", port_file},
      shared->dir.path());
  if (!https.ok()) return https.status();
  shared->https = std::move(*https);
  if (!PollUntil([&] { return access(port_file.c_str(), R_OK) == 0; }, absl::Seconds(60))) {
    return absl::UnavailableError(
        absl::StrCat("https fixture did not start: ", shared->https->ReadStderr()));
  }
  auto text = ReadFile(port_file);
  if (!text.ok()) return text.status();
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &shared->port)) {
    return absl::InternalError("bad port file");
  }
  return absl::OkStatus();
}

std::vector<std::string> TrustingFlags() {
  return {"--allow-private-urls",
          "--url-ca-file",
          shared->dir.Join("pki/ca.crt"),
          "--url-timeout-seconds",
          "3",
          "--input-root",
          shared->dir.Join("root"),
          "--max-input-mb",
          "64"};
}

class InputsByReferenceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto dir = TempDir::Create("emar-inputs-by-ref");
    ASSERT_OK(dir.status());
    shared = new Shared{std::move(*dir)};
    for (const char* sub : {"job", "root/runs/42", "outside"}) {
      std::filesystem::create_directories(shared->dir.Join(sub));
    }
    ASSERT_OK_AND_ASSIGN(shared->job, WriteGeneratedJob(JobDir(), 3000, 2000));
    ASSERT_OK(StartHttps());
    ASSERT_OK_AND_ASSIGN(shared->cluster,
                         LocalCluster::Start({.workers = 1, .coordinator_flags = TrustingFlags()}));
  }
  static void TearDownTestSuite() {
    delete shared;
    shared = nullptr;
  }
  void SetUp() override {
    if (shared == nullptr || shared->cluster == nullptr) GTEST_SKIP() << "suite setup failed";
  }

  static std::string Url(const std::string& kind, const std::string& rel, bool secret = true) {
    return absl::StrCat("https://127.0.0.1:", shared->port, "/", kind, "/", rel,
                        secret ? absl::StrCat("?", kSecret) : "");
  }

  // `{uri: "URI", sha256: ..., size: ...}` of the job file `rel` (under job/), the size shifted
  // by `size_delta`, the digest `sha` when given.
  static std::string Ref(const std::string& uri, const std::string& rel, int64_t size_delta = 0,
                         std::string sha = "") {
    const std::string path = absl::StrCat(JobDir(), "/", rel);
    auto content = ReadFile(path);
    EXPECT_OK(content.status());
    if (sha.empty()) sha = Sha256Hex(*content);
    return absl::StrCat("{uri: \"", uri, "\", sha256: ", sha,
                        ", size: ", static_cast<int64_t>(content->size()) + size_delta, "}");
  }

  // The candidate's target outputs rotated by `k` lines: job/out/cand.target.<k>.jsonl.
  static std::string Variant(int k) {
    auto text = ReadFile(absl::StrCat(JobDir(), "/", kCandTarget));
    EXPECT_OK(text.status());
    std::vector<std::string> lines = absl::StrSplit(*text, '\n', absl::SkipEmpty());
    std::rotate(lines.begin(), lines.begin() + k, lines.end());
    const std::string rel = absl::StrCat("out/cand.target.", k, ".jsonl");
    EXPECT_OK(WriteFile(absl::StrCat(JobDir(), "/", rel),
                        absl::StrCat(absl::StrJoin(lines, "\n"), "\n")));
    return rel;
  }

  // The generated job file with each `path: replacement` made, written as job/<name>.yaml.
  static std::string JobWith(const std::string& name,
                             const std::map<std::string, std::string>& replace) {
    auto text = ReadFile(shared->job.job_file);
    EXPECT_OK(text.status());
    std::string yaml = *text;
    for (const auto& [from, to] : replace) {
      EXPECT_THAT(yaml, HasSubstr(from));
      yaml = absl::StrReplaceAll(yaml, {{absl::StrCat(": ", from), absl::StrCat(": ", to)}});
    }
    const std::string path = absl::StrCat(JobDir(), "/", name, ".yaml");
    EXPECT_OK(WriteFile(path, yaml));
    return path;
  }

  static CommandResult Submit(LocalCluster& cluster, const std::string& job_file,
                              std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"submit", job_file,     "--wait", "--format",
                                     "json",   "--progress", "off"};
    args.insert(args.end(), extra.begin(), extra.end());
    return cluster.Emarctl(args, absl::Seconds(180));
  }

  // Submits a job whose candidate target outputs are `ref`; expects CreateJob to fail with a
  // one-line error naming the input and containing `want`, and never the URL's query.
  static void ExpectRefused(const std::string& name, const std::string& ref,
                            const std::string& want, LocalCluster* cluster = nullptr) {
    CommandResult r =
        Submit(cluster ? *cluster : *shared->cluster, JobWith(name, {{kCandTarget, ref}}));
    EXPECT_TRUE(r.exit.Exited(1)) << r.exit.ToString() << " " << r.out << r.err;
    const std::string err = WithoutProgressLines(r.err);
    EXPECT_THAT(err, HasSubstr("cand.target_outputs (candidates[0].target_outputs)"));
    EXPECT_THAT(err, HasSubstr(want));
    EXPECT_THAT(err, Not(HasSubstr("s3cr3t")));
    EXPECT_THAT(err, Not(HasSubstr("AKIA")));
  }
};

// Replaces the value of every `"key": "..."` of a JSON text by "*".
std::string Mask(const std::string& json, const std::string& key) {
  return std::regex_replace(json, std::regex(absl::StrCat("\"", key, "\": \"[^\"]*\"")),
                            absl::StrCat("\"", key, "\": \"*\""));
}

TEST_F(InputsByReferenceTest, AJobByUrlGivesTheSameReportAsByUpload) {
  // A coordinator of its own: every input is new to it, so all six are really fetched.
  ASSERT_OK_AND_ASSIGN(auto cluster,
                       LocalCluster::Start({.workers = 1, .coordinator_flags = TrustingFlags()}));
  std::map<std::string, std::string> refs;
  for (const char* rel :
       {"data/target.jsonl", "data/benchmark.jsonl", "out/base.target.jsonl",
        "out/base.benchmark.jsonl", "out/cand.target.jsonl", "out/cand.benchmark.jsonl"}) {
    refs[rel] = Ref(Url("files", rel), rel);
  }
  // --no-cache: the second job scores everything again instead of copying the first's results.
  CommandResult by_url = Submit(*cluster, JobWith("by-url", refs), {"--no-cache"});
  ASSERT_TRUE(by_url.exit.Exited(0)) << by_url.err << cluster->Logs();
  CommandResult by_upload = Submit(*cluster, shared->job.job_file, {"--no-cache"});
  ASSERT_TRUE(by_upload.exit.Exited(0)) << by_upload.err;
  // Byte for byte, apart from the job id and the provenance's names of the inputs (a URL there,
  // a path here); their digests and sizes are the same.
  EXPECT_EQ(Mask(Mask(by_url.out, "job_id"), "path_or_name"),
            Mask(Mask(by_upload.out, "job_id"), "path_or_name"));
  EXPECT_THAT(by_url.out, HasSubstr(absl::StrCat("https://127.0.0.1:", shared->port,
                                                 "/files/out/cand.target.jsonl\"")));
  // All six were read by the coordinator (none was uploaded).
  const std::string logs = cluster->Logs();
  size_t fetched = 0;
  for (size_t at = logs.find("input_fetched"); at != std::string::npos;
       at = logs.find("input_fetched", at + 1)) {
    ++fetched;
  }
  EXPECT_EQ(fetched, 6u) << logs;
  // The presigned URL's query reaches no report, job, log or stored byte.
  CommandResult listed = cluster->Emarctl({"list", "--format", "json"});
  EXPECT_TRUE(listed.exit.Exited(0)) << listed.err;
  for (const std::string& text : {by_url.out, by_url.err, listed.out, cluster->Logs()}) {
    EXPECT_THAT(text, Not(HasSubstr("s3cr3t")));
  }
  for (const char* file : {"jobs.db", "jobs.db-wal"}) {
    auto bytes = ReadFile(absl::StrCat(cluster->data_dir(), "/", file));
    if (bytes.ok()) EXPECT_THAT(*bytes, Not(HasSubstr("s3cr3t"))) << file;
  }
}

TEST_F(InputsByReferenceTest, WrongDigestNamesExpectedAndGot) {
  const std::string rel = Variant(1);
  const std::string wrong = Sha256Hex("something else");
  auto content = ReadFile(absl::StrCat(JobDir(), "/", rel));
  ASSERT_OK(content.status());
  ExpectRefused("wrong-digest", Ref(Url("files", rel), rel, 0, wrong),
                absl::StrCat(Url("files", rel, /*secret=*/false), ": sha256 mismatch: expected ",
                             wrong, ", got ", Sha256Hex(*content)));
}

TEST_F(InputsByReferenceTest, WrongOrOversizedSizesAreRefused) {
  const std::string rel = Variant(2);
  const int64_t size = static_cast<int64_t>(ReadFile(absl::StrCat(JobDir(), "/", rel))->size());
  // Stated larger than the file: it ends early.
  ExpectRefused("size-larger", Ref(Url("files", rel), rel, 10),
                absl::StrCat("has ", size, " bytes, the job states ", size + 10));
  // Stated smaller: the announced Content-Length is refused before a byte is read...
  ExpectRefused("size-smaller", Ref(Url("files", rel), rel, -10),
                absl::StrCat("the server announces more than the stated size of ", size - 10));
  // ... and without one, the transfer stops once past the stated size.
  ExpectRefused("no-length", Ref(Url("nolength", rel), rel), "is longer than the stated size");
  // A server that announces more than it sends.
  ExpectRefused("short", Ref(Url("short", rel), rel, 100),
                "transfer closed with 100 bytes remaining to read");
  // Beyond --max-input-mb (64 here): refused without reading.
  const std::string huge = absl::StrReplaceAll(
      Ref(Url("files", rel), rel), {{absl::StrCat("size: ", size), "size: 5000000000"}});
  ExpectRefused("huge", huge, "exceeds the input limit of 67108864 bytes");
}

TEST_F(InputsByReferenceTest, AStalledServerHitsTheTimeout) {
  const std::string rel = Variant(3);
  ExpectRefused("slow", Ref(Url("slow", rel), rel), "timed out after 1 bytes");
}

TEST_F(InputsByReferenceTest, RedirectsFollowHttpsOnly) {
  const std::string rel = Variant(4);
  ExpectRefused("to-http", Ref(Url("redirect-http", rel), rel),
                "redirected to a URL that is not https");
  ExpectRefused("loop", Ref(Url("redirect-loop", "x"), rel), "more than 5 redirects");
  CommandResult r = Submit(
      *shared->cluster, JobWith("to-https", {{kCandTarget, Ref(Url("redirect-https", rel), rel)}}));
  EXPECT_TRUE(r.exit.Exited(0)) << r.err << shared->cluster->Logs();
}

TEST_F(InputsByReferenceTest, HttpErrorsNameTheStatus) {
  const std::string rel = Variant(5);
  ExpectRefused("forbidden", Ref(Url("status", "403"), rel), "HTTP status 403");
  ExpectRefused("missing", Ref(Url("files", "no-such.jsonl"), rel), "HTTP status 404");
}

TEST_F(InputsByReferenceTest, LoopbackIsRefusedWithoutAllowPrivateUrls) {
  ASSERT_OK_AND_ASSIGN(
      auto strict,
      LocalCluster::Start(
          {.workers = 0, .coordinator_flags = {"--url-ca-file", shared->dir.Join("pki/ca.crt")}}));
  const std::string rel = Variant(6);
  ExpectRefused("loopback", Ref(Url("files", rel), rel),
                "refused to connect to 127.0.0.1 (a loopback, link-local, private or unspecified "
                "address; emar-coordinator --allow-private-urls allows them)",
                strict.get());
  // By name too: the address connected to is checked, not the host name.
  ExpectRefused("localhost",
                Ref(absl::StrCat("https://localhost:", shared->port, "/files/", rel), rel),
                "refused to connect to", strict.get());
  // And no file:// without --input-root.
  ExpectRefused("no-roots", Ref(absl::StrCat("file://", JobDir(), "/", rel), rel),
                "file:// inputs are off on this coordinator", strict.get());
}

TEST_F(InputsByReferenceTest, FileUrisUnderTheRootOnly) {
  const std::string rel = Variant(7);
  const std::string content = *ReadFile(absl::StrCat(JobDir(), "/", rel));
  const std::string root = shared->dir.Join("root"), outside = shared->dir.Join("outside");
  ASSERT_OK(WriteFile(outside + "/cand.jsonl", content));
  ASSERT_EQ(::symlink((outside + "/cand.jsonl").c_str(), (root + "/link.jsonl").c_str()), 0);
  for (const std::string& uri :
       {"file://" + outside + "/cand.jsonl", "file://" + root + "/../outside/cand.jsonl",
        "file://" + root + "/link.jsonl"}) {
    ExpectRefused("outside", Ref(uri, rel),
                  "is outside every directory the coordinator may read (--input-root)");
  }
  ASSERT_OK(WriteFile(root + "/runs/42/cand.jsonl", content));
  CommandResult r = Submit(
      *shared->cluster,
      JobWith("under-root", {{kCandTarget, Ref("file://" + root + "/runs/42/cand.jsonl", rel)}}));
  EXPECT_TRUE(r.exit.Exited(0)) << r.err << shared->cluster->Logs();
}

TEST_F(InputsByReferenceTest, HashPrintsWhatAReferenceStates) {
  const std::string path = absl::StrCat(JobDir(), "/", kCandTarget);
  CommandResult r = RunEmarctl({"hash", path, "--format", "json"});
  ASSERT_TRUE(r.exit.Exited(0)) << r.err;
  auto content = ReadFile(path);
  ASSERT_OK(content.status());
  EXPECT_EQ(r.out, absl::StrCat("{\"path\": \"", path, "\", \"sha256\": \"", Sha256Hex(*content),
                                "\", \"size\": ", content->size(), "}\n"));
}

}  // namespace
}  // namespace emar::testing
