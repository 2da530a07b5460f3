// `emarctl submit --no-cache` and `emarctl cache drop`, as processes against a coordinator and a
// worker on loopback: each makes the next job score its shards again instead of reusing them.
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/system/generated_job.h"
#include "tests/system/local_cluster.h"
#include "tests/system/process.h"
#include "tests/system/report_json.h"

namespace emar::testing {
namespace {

using ::testing::HasSubstr;

TEST(CacheCliTest, NoCacheAndCacheDropForceARescore) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("cache-cli"));
  ASSERT_OK_AND_ASSIGN(GeneratedJob gen, WriteGeneratedJob(dir.path(), 400, 200, 50));
  ClusterOptions options;
  options.workers = 1;
  options.rows_per_shard = 100;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LocalCluster> cluster, LocalCluster::Start(options));
  // Submits the job (with `flags`), waits for it and returns it finished.
  auto run = [&](std::vector<std::string> flags) -> emar::v1::Job {
    std::vector<std::string> args = {"submit", gen.job_file, "--format", "json"};
    args.insert(args.end(), flags.begin(), flags.end());
    CommandResult submitted = cluster->Emarctl(args);
    EXPECT_TRUE(submitted.exit.Exited(0)) << submitted.err << cluster->Logs();
    absl::StatusOr<emar::v1::Job> job = ParseJobJson(submitted.out);
    if (!job.ok()) return {};
    CommandResult watched = cluster->Emarctl({"watch", job->job_id()}, absl::Seconds(120));
    EXPECT_TRUE(watched.exit.Exited(0)) << watched.err;
    CommandResult status = cluster->Emarctl({"status", job->job_id(), "--format", "json"});
    return ParseJobJson(status.out).value_or(emar::v1::Job());
  };
  const emar::v1::Job first = run({});
  const int total = first.progress().shards_total();
  ASSERT_GT(total, 4);
  EXPECT_EQ(first.progress().shards_reused(), 0);
  EXPECT_EQ(run({}).progress().shards_reused(), total);
  EXPECT_EQ(run({"--no-cache"}).progress().shards_reused(), 0);
  EXPECT_EQ(run({}).progress().shards_reused(), total);

  CommandResult dropped = cluster->Emarctl({"cache", "drop", "--job", first.job_id()});
  ASSERT_TRUE(dropped.exit.Exited(0)) << dropped.err;
  EXPECT_THAT(dropped.out, HasSubstr(absl::StrCat("dropped ", total, " score cache entries")));
  EXPECT_EQ(run({}).progress().shards_reused(), 0);
  CommandResult usage = cluster->Emarctl({"cache", "drop"});
  EXPECT_TRUE(usage.exit.Exited(2)) << usage.exit.ToString();
  EXPECT_THAT(usage.err, HasSubstr("exactly one of --job J and --digest D"));
}

}  // namespace
}  // namespace emar::testing
