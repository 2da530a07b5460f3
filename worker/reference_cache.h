// The worker's cache of parsed references files, shared by its lease threads: a file is fetched
// and parsed once for every thread that needs it, the most recently used `capacity` tables are
// kept, and a failed load is not cached (a later shard tries again).
//
//   ReferenceCache cache(/*capacity=*/4);
//   ASSIGN_OR_RETURN(auto table, cache.Get(ReferenceCache::KeyOf(task), [&] { return Load(task);
//   }));
//
// Thread-safe. While one thread loads a key, other threads asking for it wait for that result
// instead of loading it again.
#ifndef EMAR_WORKER_REFERENCE_CACHE_H_
#define EMAR_WORKER_REFERENCE_CACHE_H_

#include <functional>
#include <list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "emar/v1/service.pb.h"
#include "eval/input/reference_table.h"

namespace emar {

class ReferenceCache {
 public:
  using Table = std::shared_ptr<const ReferenceTable>;
  using Loader = std::function<absl::StatusOr<ReferenceTable>()>;

  explicit ReferenceCache(int capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

  // A shard's references are the same table when the content digest and the field names match.
  static std::string KeyOf(const emar::v1::ShardTask& task);
  static std::string KeyOf(const std::string& sha256, const emar::v1::FieldNames& fields);

  // Adds a table parsed elsewhere (the embedded coordinator's planner) under `key`, unless the key
  // is already held or being loaded.
  void Put(const std::string& key, Table table);

  // The table under `key`, calling `load` (on this thread) when no one holds or loads it.
  absl::StatusOr<Table> Get(const std::string& key, const Loader& load);

  // Forgets every table held (a load under way still hands its table to those waiting for it).
  // Returns them: they are freed when the result goes, on the caller's thread of choice (freeing a
  // large table's millions of small strings takes a while).
  std::shared_ptr<void> Clear();

  // Keys held now, most recently used first (for tests and diagnostics).
  std::vector<std::string> Keys() const;

 private:
  struct Entry {
    absl::Mutex mu;
    bool ready ABSL_GUARDED_BY(mu) = false;
    absl::StatusOr<Table> table ABSL_GUARDED_BY(mu);
  };

  const int capacity_;
  mutable absl::Mutex mu_;
  std::list<std::pair<std::string, std::shared_ptr<Entry>>> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace emar

#endif  // EMAR_WORKER_REFERENCE_CACHE_H_
