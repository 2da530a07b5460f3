#include "console/session_store.h"

#include <gtest/gtest.h>

#include <set>

#include "common/sha256.h"
#include "server/job_store.h"
#include "server/session_table.h"
#include "tests/server/temp_dir.h"

namespace emar {
namespace {

TEST(SessionStoreTest, SessionsAreRandomBoundToTheirPrincipalAndExpire) {
  absl::Time now = absl::FromUnixSeconds(1000);
  SessionStore store({.lifetime = absl::Hours(1), .max_sessions = 100}, [&] { return now; });
  const Principal alice{Role::kClient, "alice"};
  const Principal root{Role::kAdmin, "root"};
  const std::string a = store.Create(alice);
  const std::string r = store.Create(root);
  EXPECT_EQ(a.size(), 64u);  // 256 bits, hex
  EXPECT_NE(a, r);
  ASSERT_TRUE(store.Find(a).has_value());
  EXPECT_EQ(store.Find(a)->who.name, "alice");
  EXPECT_FALSE(store.Find(a)->who.admin());
  EXPECT_TRUE(store.Find(r)->who.admin());
  EXPECT_EQ(store.Find(a)->csrf.size(), 64u);
  EXPECT_NE(store.Find(a)->csrf, store.Find(r)->csrf);
  EXPECT_FALSE(store.Find("").has_value());
  EXPECT_FALSE(store.Find(a.substr(1)).has_value());
  now += absl::Minutes(59);
  EXPECT_TRUE(store.Find(a).has_value());
  now += absl::Minutes(1);
  EXPECT_FALSE(store.Find(a).has_value());  // expired, and removed
  EXPECT_EQ(store.size(), 1u);
}

TEST(SessionStoreTest, RemovedSessionsAreGone) {
  SessionStore store;
  const std::string id = store.Create(Principal{Role::kClient, "alice"});
  store.Remove(id);
  EXPECT_FALSE(store.Find(id).has_value());
  store.Remove("unknown");  // harmless
}

TEST(SessionStoreTest, AFullStoreDropsExpiredThenTheOldest) {
  absl::Time now = absl::FromUnixSeconds(1000);
  SessionStore store({.lifetime = absl::Hours(1), .max_sessions = 3}, [&] { return now; });
  const std::string first = store.Create(Principal{Role::kClient, "p0"});
  now += absl::Seconds(1);
  const std::string second = store.Create(Principal{Role::kClient, "p1"});
  now += absl::Seconds(1);
  store.Create(Principal{Role::kClient, "p2"});
  now += absl::Seconds(1);
  const std::string fourth = store.Create(Principal{Role::kClient, "p3"});
  EXPECT_EQ(store.size(), 3u);
  EXPECT_FALSE(store.Find(first).has_value());
  EXPECT_TRUE(store.Find(second).has_value());
  EXPECT_TRUE(store.Find(fourth).has_value());
}

TEST(SessionStoreTest, RandomHexIsNeverRepeated) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(RandomHex(16));
  EXPECT_EQ(seen.size(), 1000u);
}

// With a SessionTable, a second store over the same file (a restarted coordinator) finds the
// first one's sessions, with the same CSRF token, until they expire; a removal reaches the file.
TEST(SessionStoreTest, StoredSessionsOutliveTheStoreUntilTheyExpire) {
  TempDir dir;
  const std::string path = dir.path() + "/jobs.db";
  ASSERT_TRUE(JobStore::Open(path).ok());  // the schema, with console_sessions
  absl::StatusOr<std::unique_ptr<SessionTable>> table = SessionTable::Open(path);
  ASSERT_TRUE(table.ok()) << table.status();
  absl::Time now = absl::FromUnixSeconds(1000);
  const SessionLimits limits{.lifetime = absl::Hours(1), .max_sessions = 100};
  std::string alice, root, csrf;
  {
    SessionStore before(
        limits, [&] { return now; }, table->get());
    alice = before.Create(Principal{Role::kClient, "alice"});
    root = before.Create(Principal{Role::kAdmin, "root"});
    csrf = before.Find(alice)->csrf;
  }
  SessionStore after(
      limits, [&] { return now; }, table->get());
  ASSERT_TRUE(after.Find(alice).has_value());
  EXPECT_EQ(after.Find(alice)->who.name, "alice");
  EXPECT_FALSE(after.Find(alice)->who.admin());
  EXPECT_EQ(after.Find(alice)->csrf, csrf);
  EXPECT_TRUE(after.Find(root)->who.admin());
  EXPECT_FALSE(after.Find(std::string(64, '0')).has_value());
  // The file knows the sessions by the sha256 of their ids only.
  EXPECT_TRUE((*table)->Find(Sha256Hex(alice), now)->has_value());
  EXPECT_FALSE((*table)->Find(alice, now)->has_value());
  after.Remove(root);
  EXPECT_FALSE(SessionStore(
                   limits, [&] { return now; }, table->get())
                   .Find(root)
                   .has_value());
  now += absl::Hours(1);
  EXPECT_FALSE(SessionStore(
                   limits, [&] { return now; }, table->get())
                   .Find(alice)
                   .has_value());
  EXPECT_FALSE((*table)->Find(Sha256Hex(alice), now - absl::Hours(1))->has_value());  // deleted
}

TEST(SessionStoreTest, ASessionTableNeedsTheJobStoresSchema) {
  TempDir dir;
  absl::StatusOr<std::unique_ptr<SessionTable>> table = SessionTable::Open(dir.path() + "/none.db");
  EXPECT_FALSE(table.ok());
}

}  // namespace
}  // namespace emar
