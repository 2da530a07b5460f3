#include "console/session_store.h"

#include <sys/random.h>

#include <cerrno>
#include <iostream>
#include <stdexcept>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/sha256.h"

namespace emar {

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  size_t filled = 0;
  while (filled < bytes) {
    const ssize_t n = ::getrandom(raw.data() + filled, bytes - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("getrandom failed");  // no session without real randomness
    }
    filled += static_cast<size_t>(n);
  }
  return absl::BytesToHexString(raw);
}

namespace {

std::string CsrfOf(absl::string_view id) {
  return Sha256Hex(absl::StrCat("emar console csrf\n", id));
}

}  // namespace

std::string SessionStore::Create(const Principal& who) {
  const absl::Time now = now_();
  std::string id = RandomHex(32);
  Session s{who, CsrfOf(id), now + limits_.lifetime};
  if (table_ != nullptr) {
    // Not fatal: the session still works until this process ends.
    if (absl::Status put = table_->Put(Sha256Hex(id), who, s.expires, now); !put.ok()) {
      std::cerr << "console: a login is not stored and will not survive a restart: " << put
                << std::endl;
    }
  }
  absl::MutexLock lock(&mu_);
  if (sessions_.size() >= limits_.max_sessions) {
    absl::erase_if(sessions_, [&](const auto& kv) { return kv.second.expires <= now; });
  }
  while (!sessions_.empty() && sessions_.size() >= limits_.max_sessions) {
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (it->second.expires < oldest->second.expires) oldest = it;
    }
    sessions_.erase(oldest);
  }
  sessions_.emplace(id, std::move(s));
  return id;
}

std::optional<Session> SessionStore::Find(absl::string_view id) {
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return FindStored(id);
  if (it->second.expires <= now_()) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

std::optional<Session> SessionStore::FindStored(absl::string_view id) {
  if (table_ == nullptr || id.size() != 64) return std::nullopt;  // not one of ours
  const absl::Time now = now_();
  absl::StatusOr<std::optional<StoredSession>> stored = table_->Find(Sha256Hex(id), now);
  if (!stored.ok()) {
    std::cerr << "console: cannot read the stored sessions: " << stored.status() << std::endl;
    return std::nullopt;
  }
  if (!stored->has_value()) return std::nullopt;
  Session s{(*stored)->who, CsrfOf(id), (*stored)->expires};
  if (sessions_.size() < limits_.max_sessions) sessions_.emplace(std::string(id), s);
  return s;
}

void SessionStore::Remove(absl::string_view id) {
  if (table_ != nullptr && id.size() == 64) {
    if (absl::Status gone = table_->Remove(Sha256Hex(id)); !gone.ok()) {
      std::cerr << "console: a logout is not stored: " << gone << std::endl;
    }
  }
  absl::MutexLock lock(&mu_);
  if (auto it = sessions_.find(id); it != sessions_.end()) sessions_.erase(it);
}

size_t SessionStore::size() const {
  absl::MutexLock lock(&mu_);
  return sessions_.size();
}

}  // namespace emar
