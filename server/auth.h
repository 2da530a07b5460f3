// Bearer-token authentication for the coordinator's two APIs (emar-coordinator --tokens FILE).
//
// The tokens file holds one line per token, `ROLE PRINCIPAL SHA256HEX`: role `client`,
// `worker` or `admin`, a principal name (letters, digits, `._@-`, at most 64), and the sha256 of
// the token in hex. The file never holds a token. `#` starts a comment; blank lines are skipped.
//
//   client  team-nlp     9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//   worker  workers      ...
//
// Callers send `authorization: Bearer TOKEN`. Without --tokens every caller is the anonymous
// admin (the embedded mode, loopback tests).
//
//   ASSIGN_OR_RETURN(TokenTable table, TokenTable::Load("/etc/emar/tokens"));
//   Authenticator auth(std::move(table));
//   ASSIGN_OR_RETURN(Principal who, auth.Authorize(*ctx, Api::kClient));
#ifndef EMAR_SERVER_AUTH_H_
#define EMAR_SERVER_AUTH_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/principal.h"

namespace emar {

class TokenTable {
 public:
  // Errors name the file and line: "tokens:3: unknown role 'clinet' (client, worker or admin)".
  static absl::StatusOr<TokenTable> Load(const std::string& path);
  static absl::StatusOr<TokenTable> Parse(absl::string_view text, absl::string_view display_name);

  // The principal holding `token`, if any.
  std::optional<Principal> Find(absl::string_view token) const;
  size_t size() const { return by_digest_.size(); }
  // Does some token still name `who` (its principal, with its role)?
  bool Holds(const Principal& who) const;

 private:
  absl::flat_hash_map<std::string, Principal> by_digest_;  // sha256 hex -> principal
};

// Which API a call is on: the client API takes client and admin tokens, the worker API worker and
// admin tokens.
enum class Api { kClient, kWorker };

class Authenticator {
 public:
  // nullopt: no authentication, every caller is Principal::Anonymous().
  explicit Authenticator(std::optional<TokenTable> tokens = std::nullopt)
      : enabled_(tokens.has_value()),
        tokens_(tokens ? std::make_shared<const TokenTable>(std::move(*tokens)) : nullptr) {}

  bool enabled() const { return enabled_; }
  // A reload (server/token_reloader.h): every call admitted after it is checked against
  // `tokens`; calls and streams admitted before keep going. Only for an enabled authenticator.
  void Replace(TokenTable tokens);
  // UNAUTHENTICATED without a token or with an unknown one; PERMISSION_DENIED when the token's
  // role may not call `api`.
  absl::StatusOr<Principal> Authorize(const grpc::ServerContextBase& ctx, Api api) const;
  // The same, from the value of the `authorization` header (absent: nullopt).
  absl::StatusOr<Principal> Authorize(std::optional<absl::string_view> authorization,
                                      Api api) const;
  // Does a token of the current table still name `who` with its role (always, when not enabled)?
  // A console session opened with a token that a reload removed ends with it.
  bool Holds(const Principal& who) const;

 private:
  std::shared_ptr<const TokenTable> Tokens() const;

  const bool enabled_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const TokenTable> tokens_ ABSL_GUARDED_BY(mu_);  // null when not enabled
};

}  // namespace emar

#endif  // EMAR_SERVER_AUTH_H_
