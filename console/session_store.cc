#include "console/session_store.h"

#include <sys/random.h>

#include <cerrno>
#include <stdexcept>
#include <vector>

#include "absl/strings/escaping.h"

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

std::string SessionStore::Create(const Principal& who) {
  const absl::Time now = now_();
  Session s{who, RandomHex(32), now + limits_.lifetime};
  std::string id = RandomHex(32);
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
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.expires <= now_()) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

void SessionStore::Remove(absl::string_view id) {
  absl::MutexLock lock(&mu_);
  if (auto it = sessions_.find(id); it != sessions_.end()) sessions_.erase(it);
}

size_t SessionStore::size() const {
  absl::MutexLock lock(&mu_);
  return sessions_.size();
}

}  // namespace emar
