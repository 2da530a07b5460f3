#include "worker/reference_cache.h"

#include "absl/strings/str_cat.h"

namespace emar {

std::string ReferenceCache::KeyOf(const emar::v1::ShardTask& task) {
  // A table of the outputs' ids is not the parse of the same bytes as references.
  return absl::StrCat(KeyOf(task.references().sha256(), task.fields()),
                      task.ids_from_outputs() ? "|ids" : "");
}

std::string ReferenceCache::KeyOf(const std::string& sha256, const emar::v1::FieldNames& fields) {
  return absl::StrCat(sha256, "|", fields.SerializeAsString());
}

void ReferenceCache::Put(const std::string& key, Table table) {
  auto entry = std::make_shared<Entry>();
  {
    absl::MutexLock lock(&entry->mu);
    entry->table = std::move(table);
    entry->ready = true;
  }
  absl::MutexLock lock(&mu_);
  for (const auto& e : entries_) {
    if (e.first == key) return;
  }
  entries_.emplace_front(key, std::move(entry));
  while (entries_.size() > static_cast<size_t>(capacity_)) entries_.pop_back();
}

std::shared_ptr<void> ReferenceCache::Clear() {
  auto dropped = std::make_shared<std::list<std::pair<std::string, std::shared_ptr<Entry>>>>();
  absl::MutexLock lock(&mu_);
  dropped->swap(entries_);
  return dropped;  // the tables are freed outside the lock, when the caller lets go of them
}

std::vector<std::string> ReferenceCache::Keys() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> keys;
  for (const auto& [key, entry] : entries_) keys.push_back(key);
  return keys;
}

absl::StatusOr<ReferenceCache::Table> ReferenceCache::Get(const std::string& key,
                                                          const Loader& load) {
  std::shared_ptr<Entry> entry;
  bool loader = false;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->first == key) {
        entries_.splice(entries_.begin(), entries_, it);
        entry = it->second;
        break;
      }
    }
    if (entry == nullptr) {  // first asker loads; threads asking meanwhile wait for its result
      entry = std::make_shared<Entry>();
      loader = true;
      entries_.emplace_front(key, entry);
      while (entries_.size() > static_cast<size_t>(capacity_)) entries_.pop_back();
    }
  }
  if (!loader) {
    absl::MutexLock lock(&entry->mu);
    entry->mu.Await(absl::Condition(&entry->ready));
    return entry->table;
  }
  absl::StatusOr<Table> table = [&]() -> absl::StatusOr<Table> {
    absl::StatusOr<ReferenceTable> parsed = load();
    if (!parsed.ok()) return parsed.status();
    return std::make_shared<const ReferenceTable>(std::move(*parsed));
  }();
  if (!table.ok()) {  // errors are not cached: a later shard tries again
    absl::MutexLock lock(&mu_);
    entries_.remove_if([&](const auto& e) { return e.second == entry; });
  }
  absl::MutexLock lock(&entry->mu);
  entry->table = table;
  entry->ready = true;
  return table;
}

}  // namespace emar
