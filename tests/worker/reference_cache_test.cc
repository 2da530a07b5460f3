#include "worker/reference_cache.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::StatusOr<ReferenceTable> Parse(const std::string& jsonl) {
  return ReferenceTable::Parse("refs.jsonl", jsonl, FieldConfig{});
}

TEST(ReferenceCacheTest, LoadsOnceAndReturnsTheSameTable) {
  ReferenceCache cache(4);
  int loads = 0;
  auto load = [&] {
    ++loads;
    return Parse("{\"id\": \"a\", \"reference\": \"x\"}\n{\"id\": \"b\", \"reference\": \"y\"}\n");
  };
  ASSERT_OK_AND_ASSIGN(ReferenceCache::Table first, cache.Get("k", load));
  ASSERT_OK_AND_ASSIGN(ReferenceCache::Table second, cache.Get("k", load));
  EXPECT_EQ(loads, 1);
  EXPECT_EQ(first.get(), second.get());
  EXPECT_EQ(first->size(), 2u);
}

TEST(ReferenceCacheTest, KeepsTheMostRecentlyUsedEntries) {
  ReferenceCache cache(2);
  int loads = 0;
  auto load = [&] {
    ++loads;
    return Parse("{\"id\": 1, \"reference\": \"x\"}\n");
  };
  ASSERT_OK(cache.Get("a", load).status());
  ASSERT_OK(cache.Get("b", load).status());
  ASSERT_OK(cache.Get("a", load).status());  // a is now the most recent
  ASSERT_OK(cache.Get("c", load).status());  // evicts b
  EXPECT_THAT(cache.Keys(), ElementsAre("c", "a"));
  EXPECT_EQ(loads, 3);
  ASSERT_OK(cache.Get("b", load).status());  // loaded again
  EXPECT_EQ(loads, 4);
  EXPECT_THAT(cache.Keys(), ElementsAre("b", "c"));
}

TEST(ReferenceCacheTest, ClearDropsEveryTableButNotTheOnesInUse) {
  ReferenceCache cache(4);
  int loads = 0;
  auto load = [&] {
    ++loads;
    return Parse("{\"id\": 1, \"reference\": \"x\"}\n");
  };
  ASSERT_OK_AND_ASSIGN(ReferenceCache::Table held, cache.Get("a", load));
  ASSERT_OK_AND_ASSIGN(ReferenceCache::Table b, cache.Get("b", load));
  std::weak_ptr<const ReferenceTable> b_alive = b;
  b.reset();
  std::shared_ptr<void> dropped = cache.Clear();
  EXPECT_TRUE(cache.Keys().empty());
  EXPECT_FALSE(b_alive.expired());  // freed when the caller lets go of what Clear returned
  dropped.reset();
  EXPECT_TRUE(b_alive.expired());
  EXPECT_EQ(held->id(0), "1");  // a shard still scoring keeps its table
  ASSERT_OK(cache.Get("a", load).status());
  EXPECT_EQ(loads, 3);
}

TEST(ReferenceCacheTest, ErrorsAreReturnedButNotCached) {
  ReferenceCache cache(4);
  int loads = 0;
  auto bad = [&]() -> absl::StatusOr<ReferenceTable> {
    ++loads;
    return Parse("{\"id\": \"a\"}\n");  // no reference field
  };
  absl::StatusOr<ReferenceCache::Table> t = cache.Get("k", bad);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("refs.jsonl:1"));
  EXPECT_TRUE(cache.Keys().empty());
  auto good = [&] {
    ++loads;
    return Parse("{\"id\": \"a\", \"reference\": \"x\"}\n");
  };
  ASSERT_OK(cache.Get("k", good).status());
  EXPECT_EQ(loads, 2);
}

TEST(ReferenceCacheTest, ConcurrentAskersWaitForOneLoad) {
  ReferenceCache cache(4);
  std::atomic<int> loads{0};
  absl::Notification release;
  auto slow = [&] {
    loads.fetch_add(1);
    release.WaitForNotification();
    return Parse("{\"id\": \"a\", \"reference\": \"x\"}\n");
  };
  std::vector<std::thread> threads;
  std::vector<const ReferenceTable*> seen(6, nullptr);
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      auto t = cache.Get("k", slow);
      if (t.ok()) seen[i] = t->get();
    });
  }
  // Every thread is inside Get before the one loader finishes; none may load a second time.
  absl::SleepFor(absl::Milliseconds(50));
  release.Notify();
  for (auto& t : threads) t.join();
  EXPECT_EQ(loads.load(), 1);
  for (const ReferenceTable* p : seen) EXPECT_EQ(p, seen[0]);
  EXPECT_NE(seen[0], nullptr);
}

TEST(ReferenceCacheTest, KeyDependsOnDigestAndFields) {
  emar::v1::ShardTask a;
  a.mutable_references()->set_sha256("abc");
  emar::v1::ShardTask b = a;
  EXPECT_EQ(ReferenceCache::KeyOf(a), ReferenceCache::KeyOf(b));
  b.mutable_fields()->set_id_field("doc_id");
  EXPECT_NE(ReferenceCache::KeyOf(a), ReferenceCache::KeyOf(b));
  b = a;
  b.mutable_references()->set_sha256("abd");
  EXPECT_NE(ReferenceCache::KeyOf(a), ReferenceCache::KeyOf(b));
  // The display name is not part of the identity: the same content under another name is shared.
  b = a;
  b.mutable_references()->set_display_name("other.jsonl");
  EXPECT_EQ(ReferenceCache::KeyOf(a), ReferenceCache::KeyOf(b));
}

}  // namespace
}  // namespace emar
