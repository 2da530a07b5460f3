#include "server/auth.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/file_util.h"
#include "common/sha256.h"

namespace emar {
namespace {

bool ValidPrincipalName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '@' &&
        c != '-') {
      return false;
    }
  }
  return true;
}

bool ValidHexDigest(absl::string_view d) {
  if (d.size() != 64) return false;
  for (char c : d) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<TokenTable> TokenTable::Load(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tokens ", path, ": cannot read: ", text.status().message()));
  }
  return Parse(*text, path);
}

absl::StatusOr<TokenTable> TokenTable::Parse(absl::string_view text,
                                             absl::string_view display_name) {
  TokenTable table;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    if (size_t hash = line.find('#'); hash != absl::string_view::npos) line = line.substr(0, hash);
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (fields.empty()) continue;
    auto error = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat(display_name, ":", line_no, ": ", why));
    };
    if (fields.size() != 3) {
      return error(
          absl::StrCat("expected 'ROLE PRINCIPAL SHA256HEX', got ", fields.size(), " field(s)"));
    }
    Principal p;
    if (fields[0] == "client") {
      p.role = Role::kClient;
    } else if (fields[0] == "worker") {
      p.role = Role::kWorker;
    } else if (fields[0] == "admin") {
      p.role = Role::kAdmin;
    } else {
      return error(absl::StrCat("unknown role '", fields[0], "' (client, worker or admin)"));
    }
    if (!ValidPrincipalName(fields[1])) {
      return error(
          absl::StrCat("principal '", fields[1], "' must be 1 to 64 letters, digits or . _ @ -"));
    }
    p.name = std::string(fields[1]);
    if (!ValidHexDigest(fields[2])) {
      return error(
          "the third field must be the token's sha256 in hex (64 characters; the file never "
          "holds the token itself: sha256sum <<< \"$TOKEN\" is wrong, printf %s \"$TOKEN\" | "
          "sha256sum is right)");
    }
    std::string digest = absl::AsciiStrToLower(fields[2]);
    if (!table.by_digest_.emplace(std::move(digest), std::move(p)).second) {
      return error("the same token digest appears twice");
    }
  }
  if (table.by_digest_.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(display_name, ": no tokens (an empty tokens file would refuse every call)"));
  }
  return table;
}

std::optional<Principal> TokenTable::Find(absl::string_view token) const {
  auto it = by_digest_.find(Sha256Hex(token));
  if (it == by_digest_.end()) return std::nullopt;
  return it->second;
}

bool TokenTable::Holds(const Principal& who) const {
  for (const auto& [digest, p] : by_digest_) {
    if (p.name == who.name && p.role == who.role) return true;
  }
  return false;
}

bool Authenticator::Holds(const Principal& who) const {
  if (!enabled_) return true;
  const std::shared_ptr<const TokenTable> tokens = Tokens();
  return tokens != nullptr && tokens->Holds(who);
}

void Authenticator::Replace(TokenTable tokens) {
  auto table = std::make_shared<const TokenTable>(std::move(tokens));
  absl::MutexLock lock(&mu_);
  if (enabled_) tokens_ = std::move(table);
}

std::shared_ptr<const TokenTable> Authenticator::Tokens() const {
  absl::MutexLock lock(&mu_);
  return tokens_;
}

absl::StatusOr<Principal> Authenticator::Authorize(const grpc::ServerContextBase& ctx,
                                                   Api api) const {
  if (!enabled_) return Principal::Anonymous();
  const auto& md = ctx.client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return Authorize(std::nullopt, api);
  return Authorize(absl::string_view(it->second.data(), it->second.size()), api);
}

absl::StatusOr<Principal> Authenticator::Authorize(std::optional<absl::string_view> authorization,
                                                   Api api) const {
  if (!enabled_) return Principal::Anonymous();
  if (!authorization) {
    return absl::UnauthenticatedError(
        "no token: this coordinator requires 'authorization: Bearer TOKEN' (emarctl and "
        "emar-worker: set EMAR_TOKEN or --token-file)");
  }
  absl::string_view value = absl::StripAsciiWhitespace(*authorization);
  if (value.size() < 7 || !absl::EqualsIgnoreCase(value.substr(0, 7), "bearer ")) {
    return absl::UnauthenticatedError("the authorization header must be 'Bearer TOKEN'");
  }
  std::optional<Principal> p = Tokens()->Find(absl::StripAsciiWhitespace(value.substr(7)));
  if (!p) return absl::UnauthenticatedError("the token is not one this coordinator accepts");
  const bool allowed =
      p->admin() || (api == Api::kClient ? p->role == Role::kClient : p->role == Role::kWorker);
  if (!allowed) {
    return absl::PermissionDeniedError(absl::StrCat(
        "principal '", p->name, "' has a ", RoleName(p->role), " token, which may not call the ",
        api == Api::kClient ? "client API (EvaluationService)" : "worker API (WorkerService)"));
  }
  return *p;
}

}  // namespace emar
