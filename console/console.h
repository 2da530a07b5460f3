// The web console: the coordinator's jobs, reports and runs in a browser, read-only, on a port of
// its own (emar-coordinator --console-listen HOST:PORT). Pages (console/console_pages.h):
//
//   /                              jobs, newest first; ?label=K=V&state=running&page=TOKEN
//   /jobs/ID                       state and progress, live while it runs, then the report
//   /jobs/ID/status                the small JSON that page polls
//   /jobs/ID/report.{json,md,html} the report as emarctl prints it (--format json|markdown|html)
//   /jobs/ID/flips?dataset=D[&kind=learned|forgot&candidate=C&metric=M&page=N]
//                                  what a candidate learned and forgot (emarctl flips, paged)
//   /runs?label=K=V&by=L[&dataset=D]  a run's series, refreshed as checkpoints finish
//   /compare?a=ID&b=ID             two jobs' candidates side by side
//   /login (GET form, POST token), /logout (POST with the session's CSRF token)
//
// Access is the API's: without tokens everyone is the anonymous admin; with them a request
// carries `Authorization: Bearer TOKEN` or the session cookie that logging in with a client or
// admin token sets (HttpOnly, SameSite=Strict, Secure and __Host- under TLS). A principal sees
// its own jobs only: another's is 404, exactly like one that does not exist. Nothing but the
// session changes state; logging out needs the session's CSRF token, logging in a same-origin
// Origin (when the browser sends one). Every answer carries a Content-Security-Policy that lets
// only the console's own script run (console/console_script.h) and loads nothing from outside.
//
//   ASSIGN_OR_RETURN(auto console, Console::Start({.listen = "0.0.0.0:8080"}, coordinator.get(),
//                                                 Authenticator(tokens)));
#ifndef EMAR_CONSOLE_CONSOLE_H_
#define EMAR_CONSOLE_CONSOLE_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "console/console_pages.h"
#include "console/http_server.h"
#include "console/session_store.h"
#include "console/tls_context.h"
#include "server/auth.h"
#include "server/service_cores.h"

namespace emar {

struct ConsoleOptions {
  std::string listen;               // HOST:PORT (port 0: a free one)
  std::shared_ptr<TlsContext> tls;  // the coordinator's certificate; null: plaintext
  int threads = 4;                  // requests served at once
  SessionLimits sessions;
  SessionTable* session_table = nullptr;  // where logins survive a restart; null: memory only
  int page_size = 50;                     // jobs per page of the list
  int flips_page_size = 200;              // items per flips page
};

class Console {
 public:
  // `core` and `auth` must outlive the console. `auth` is the gRPC port's own authenticator, so a
  // token reload (server/token_reloader.h) reaches the console's logins too.
  static absl::StatusOr<std::unique_ptr<Console>> Start(ConsoleOptions options, ClientCore* core,
                                                        const Authenticator* auth);
  ~Console();

  int port() const { return http_ ? http_->port() : 0; }
  // One request's answer, with the security headers (the server calls it; tests may too).
  HttpResponse Handle(const HttpRequest& request);

 private:
  Console(ConsoleOptions options, ClientCore* core, const Authenticator* auth)
      : options_(std::move(options)),
        core_(core),
        auth_(auth),
        sessions_(
            options_.sessions, [] { return absl::Now(); }, options_.session_table) {}

  // Who is asking; nullopt with `refusal` set when nobody (or a bad token) is.
  struct Caller {
    Principal who;
    Viewer viewer;
    std::string session_id;
  };
  std::optional<Caller> Identify(const HttpRequest& request, HttpResponse* refusal);
  HttpResponse Route(const HttpRequest& request);
  HttpResponse Login(const HttpRequest& request);
  HttpResponse Logout(const HttpRequest& request, const Caller& caller);
  HttpResponse Jobs(const HttpRequest& request, const Caller& caller);
  HttpResponse JobRoute(const std::string& id, const std::string& what, const Caller& caller);
  HttpResponse Flips(const std::string& id, const HttpRequest& request, const Caller& caller);
  HttpResponse Runs(const HttpRequest& request, const Caller& caller, bool part_only);
  HttpResponse Compare(const HttpRequest& request, const Caller& caller);
  HttpResponse Page(const std::string& title, const Caller& caller, const std::string& main,
                    bool live = false, int status = 200);
  // An error of the core as a page (NOT_FOUND: 404, INVALID_ARGUMENT: 400, ...).
  HttpResponse Failure(const absl::Status& status, const Caller& caller);
  JobSummary SummaryOf(const emar::v1::Job& job, const Principal& who);
  std::string CookieName(bool tls) const;

  const ConsoleOptions options_;
  ClientCore* const core_;
  const Authenticator* const auth_;
  SessionStore sessions_;
  absl::Mutex summaries_mu_;
  // Finished jobs' summaries (a report never changes once built).
  absl::flat_hash_map<std::string, JobSummary> summaries_ ABSL_GUARDED_BY(summaries_mu_);
  std::unique_ptr<HttpServer> http_;  // last: stopped before the rest is destroyed
};

}  // namespace emar

#endif  // EMAR_CONSOLE_CONSOLE_H_
