#include "server/token_reloader.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/event_log.h"
#include "common/file_util.h"

namespace emar {

TokenReloader::TokenReloader(Authenticator* auth, std::string path, absl::Duration interval)
    : auth_(auth), path_(std::move(path)) {
  {
    absl::MutexLock lock(&mu_);
    absl::StatusOr<std::string> now = ReadFileToString(path_);
    if (now.ok()) loaded_ = std::move(*now);
  }
  if (interval > absl::ZeroDuration()) {
    poll_ = std::make_unique<PeriodicTask>(interval, [this] { Reload().IgnoreError(); });
  }
}

TokenReloader::~TokenReloader() { poll_.reset(); }

absl::StatusOr<bool> TokenReloader::Reload() {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<std::string> text = ReadFileToString(path_);
  if (!text.ok()) {
    LogEvent("tokens_reload_failed",
             {{"file", path_}, {"error", std::string(text.status().message())}});
    return text.status();
  }
  if (*text == loaded_) return false;
  absl::StatusOr<TokenTable> table = TokenTable::Parse(*text, path_);
  if (!table.ok()) {
    // Logged once per change of the file, not at every poll.
    loaded_ = *text;
    LogEvent("tokens_reload_failed",
             {{"file", path_}, {"error", std::string(table.status().message())}});
    return table.status();
  }
  const size_t count = table->size();
  auth_->Replace(std::move(*table));
  loaded_ = std::move(*text);
  LogEvent("tokens_reloaded", {{"file", path_}, {"tokens", count}});
  return true;
}

}  // namespace emar
