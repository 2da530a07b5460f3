#include "console/session_store.h"

#include <gtest/gtest.h>

#include <set>

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

}  // namespace
}  // namespace emar
