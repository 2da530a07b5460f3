// The console against a real coordinator (SQLite store, gRPC on loopback with tokens, a worker
// loop), over real HTTP on 127.0.0.1:0: logging in and out, tenancy (another principal's job is
// 404 and never listed), filters and pages, the report's formats, runs and comparisons, and the
// flips pages against ListFlips.
#include "console/console.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <regex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "client/evaluation_client.h"
#include "common/client_channel.h"
#include "common/sha256.h"
#include "common/status_matchers.h"
#include "server/coordinator_server.h"
#include "server/session_table.h"
#include "tests/console/http_client.h"
#include "tests/server/small_job.h"
#include "tests/server/temp_dir.h"
#include "worker/worker_loop.h"

namespace emar {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAlice[] = "alice-token", kBob[] = "bob-token", kRoot[] = "root-token",
               kWorker[] = "worker-token";

std::string Bearer(const std::string& token) {
  return absl::StrCat("Authorization: Bearer ", token, "\r\n");
}

// A coordinator with tokens, its gRPC server on loopback, the console, and (once started) a
// worker loop.
class Service {
 public:
  Service() {
    CoordinatorOptions o;
    o.data_dir = data_.path();
    o.tick = absl::Milliseconds(10);
    coordinator_ = *Coordinator::Create(o);
    TokenTable tokens = *TokenTable::Parse(
        absl::StrCat("client alice ", Sha256Hex(kAlice), "\nclient bob ", Sha256Hex(kBob),
                     "\nadmin root ", Sha256Hex(kRoot), "\nworker w ", Sha256Hex(kWorker), "\n"),
        "tokens");
    ServerOptions so;
    so.listen = "127.0.0.1:0";
    so.tokens = tokens;
    server_ = *CoordinatorServer::Start(coordinator_.get(), so);
    console_ = *Console::Start({.listen = "127.0.0.1:0", .page_size = 2, .flips_page_size = 2},
                               coordinator_.get(), &server_->authenticator());
  }
  ~Service() {
    if (worker_) worker_->Stop();
    if (thread_.joinable()) thread_.join();
    console_.reset();
    server_->Shutdown(absl::Seconds(2));
  }
  std::shared_ptr<grpc::Channel> Channel(const std::string& token) {
    return *OpenChannel({.target = absl::StrCat("127.0.0.1:", server_->port()), .token = token},
                        grpc::ChannelArguments());
  }
  void StartWorker() {
    worker_ = std::make_unique<WorkerLoop>(
        Channel(kWorker), WorkerOptions{.threads = 2, .lease_wait = absl::Seconds(1)});
    thread_ = std::thread([this] { worker_->Run(); });
  }
  // Submits the small job as `token`'s principal with `labels`; returns its id.
  std::string Submit(const std::string& token, const std::string& name,
                     std::vector<std::pair<std::string, std::string>> labels = {}) {
    SmallJob small(inputs_.path());
    JobFile job = small.Load();
    job.spec.set_name(name);
    for (const auto& [k, v] : labels) (*job.spec.mutable_labels())[k] = v;
    return SubmitFile(token, job);
  }
  std::string SubmitFile(const std::string& token, const JobFile& job) {
    EvaluationClient client(Channel(token));
    absl::StatusOr<emar::v1::Job> created = client.Submit(job, "");
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? created->job_id() : "";
  }
  emar::v1::Job Finish(const std::string& token, const std::string& id) {
    EvaluationClient client(Channel(token));
    return *client.Watch(id, nullptr);
  }
  int port() const { return console_->port(); }
  Console& console() { return *console_; }

 private:
  TempDir data_, inputs_;
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<CoordinatorServer> server_;
  std::unique_ptr<Console> console_;
  std::unique_ptr<WorkerLoop> worker_;
  std::thread thread_;
};

// The session cookie a login sets ("emar_session=ID"), checked for its attributes.
std::string LogIn(int port, const std::string& token) {
  HttpReply r = Post(port, "/login", absl::StrCat("token=", token, "&next=%2F"));
  EXPECT_EQ(r.status, 303) << r.body;
  EXPECT_EQ(r.Header("location"), "/");
  const std::string cookie = r.Header("set-cookie").value_or("");
  EXPECT_THAT(cookie, HasSubstr("HttpOnly"));
  EXPECT_THAT(cookie, HasSubstr("SameSite=Strict"));
  EXPECT_THAT(cookie, HasSubstr("Path=/"));
  EXPECT_THAT(cookie, Not(HasSubstr("Secure")));  // plaintext
  return cookie.substr(0, cookie.find(';'));
}

std::string Cookie(const std::string& c) { return absl::StrCat("Cookie: ", c, "\r\n"); }

class ConsoleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    service_ = new Service();
    queued_ = service_->Submit(kAlice, "alice-queued");  // no worker yet: it stays queued
    // Before the worker starts, the job waits: no report, and its status says so.
    HttpReply status = Get(service_->port(), "/jobs/" + queued_ + "/status", Bearer(kAlice));
    EXPECT_EQ(status.status, 200);
    EXPECT_EQ(status.Header("content-type"), "application/json");
    EXPECT_THAT(status.body, HasSubstr("\"state\": \"queued\""));
    EXPECT_THAT(status.body, HasSubstr("\"done\": false"));
    EXPECT_EQ(Get(service_->port(), "/jobs/" + queued_ + "/report.json", Bearer(kAlice)).status,
              409);
    HttpReply flips =
        Get(service_->port(), "/jobs/" + queued_ + "/flips?dataset=t", Bearer(kAlice));
    EXPECT_EQ(flips.status, 409);
    EXPECT_THAT(flips.body, HasSubstr("is queued: its flips are listed once it has succeeded"));
    service_->StartWorker();
    alice_ = {queued_, service_->Submit(kAlice, "alice-1", {{"run", "exp"}, {"step", "1"}}),
              service_->Submit(kAlice, "alice-2", {{"run", "exp"}, {"step", "2"}})};
    bob_ = service_->Submit(kBob, "bob-secret", {{"run", "exp"}, {"step", "3"}});
    markup_ = SubmitMarkup();
    for (const std::string& id : alice_) service_->Finish(kAlice, id);
    service_->Finish(kBob, bob_);
    service_->Finish(kBob, markup_);
  }
  static void TearDownTestSuite() {
    delete service_;
    delete markup_dir_;
  }
  // Bob's job (no labels: no list or run shows it) whose name, dataset and ids are markup.
  static std::string SubmitMarkup() {
    markup_dir_ = new TempDir();
    SmallJob small(markup_dir_->path());
    Write(small.dir + "/t.jsonl",
          "{\"id\": \"<i>a&'\\\"\", \"reference\": \"pos\"}\n"
          "{\"id\": \"<i>b&'\\\"\", \"reference\": \"neg\"}\n");
    Write(small.dir + "/base.t.jsonl",
          "{\"id\": \"<i>a&'\\\"\", \"prediction\": \"neg\"}\n"
          "{\"id\": \"<i>b&'\\\"\", \"prediction\": \"<script>x</script>\"}\n");
    Write(small.dir + "/cand.t.jsonl",
          "{\"id\": \"<i>a&'\\\"\", \"prediction\": \"pos\"}\n"
          "{\"id\": \"<i>b&'\\\"\", \"prediction\": \"neg\"}\n");
    small.yaml = absl::StrReplaceAll(
        small.yaml, {{"name: small", "name: \"<b>job</b>\""}, {"{name: t,", "{name: \"<t>&'\","}});
    return service_->SubmitFile(kBob, small.Load());
  }
  static std::vector<emar::v1::FlipItem> ListFlips(const std::string& token,
                                                   emar::v1::ListFlipsRequest req) {
    EvaluationClient client(service_->Channel(token));
    std::vector<emar::v1::FlipItem> items;
    EXPECT_OK(client.ListFlips(req, [&](const emar::v1::FlipItem& i) { items.push_back(i); }));
    return items;
  }

  static Service* service_;
  static TempDir* markup_dir_;
  static std::string queued_, bob_, markup_;
  static std::vector<std::string> alice_;  // oldest first
};
Service* ConsoleTest::service_ = nullptr;
TempDir* ConsoleTest::markup_dir_ = nullptr;
std::string ConsoleTest::queued_, ConsoleTest::bob_, ConsoleTest::markup_;
std::vector<std::string> ConsoleTest::alice_;

TEST_F(ConsoleTest, WithoutCredentialsPagesSendToTheLoginFormAndDataIsRefused) {
  const int port = service_->port();
  HttpReply page = Get(port, "/jobs/x?y=1");
  EXPECT_EQ(page.status, 303);
  EXPECT_EQ(page.Header("location"), "/login?next=%2Fjobs%2Fx%3Fy%3D1");
  EXPECT_EQ(Get(port, "/jobs/x/status").status, 401);
  EXPECT_EQ(Get(port, "/", Bearer("wrong")).status, 401);
  EXPECT_EQ(Get(port, "/", Bearer(kWorker)).status, 403);
  EXPECT_EQ(Get(port, "/", Cookie("emar_session=forged")).status, 303);
  HttpReply form = Get(port, "/login?next=%2Fruns");
  EXPECT_EQ(form.status, 200);
  EXPECT_THAT(form.body, HasSubstr("name=\"next\" value=\"/runs\""));
  EXPECT_THAT(form.body, HasSubstr("type=\"password\" name=\"token\""));
}

TEST_F(ConsoleTest, LoginRefusesBadTokensForeignOriginsAndOffsiteRedirects) {
  const int port = service_->port();
  HttpReply bad = Post(port, "/login", "token=nope");
  EXPECT_EQ(bad.status, 401);
  EXPECT_THAT(bad.body, HasSubstr("That token is not accepted."));
  EXPECT_FALSE(bad.Header("set-cookie").has_value());
  EXPECT_EQ(Post(port, "/login", absl::StrCat("token=", kWorker)).status, 403);
  EXPECT_EQ(Post(port, "/login", absl::StrCat("token=", kAlice), "Origin: http://evil.example\r\n")
                .status,
            403);
  HttpReply same = Post(port, "/login", absl::StrCat("token=", kAlice, "&next=%2F%2Fevil.example"),
                        absl::StrCat("Origin: http://127.0.0.1:", port, "\r\n"));
  EXPECT_EQ(same.status, 303);
  EXPECT_EQ(same.Header("location"), "/");  // never another site
}

TEST_F(ConsoleTest, APrincipalSeesItsOwnJobsOnlyAndAnothersIsNotFound) {
  const int port = service_->port();
  const std::string alice = Cookie(LogIn(port, kAlice));
  HttpReply list = Get(port, "/", alice);
  ASSERT_EQ(list.status, 200);
  EXPECT_THAT(list.body, HasSubstr(alice_[2]));  // newest first, two a page
  EXPECT_THAT(list.body, HasSubstr(alice_[1]));
  EXPECT_THAT(list.body, Not(HasSubstr(bob_)));
  EXPECT_THAT(list.body, Not(HasSubstr("bob-secret")));
  EXPECT_LT(list.body.find(alice_[2]), list.body.find(alice_[1]));
  EXPECT_THAT(list.body, HasSubstr(">alice<"));       // who is logged in
  EXPECT_THAT(list.body, HasSubstr("cand: 0.5000"));  // EMAR of the small job: 0.25 / 0.5
  HttpReply mine = Get(port, "/jobs/" + alice_[1], alice);
  EXPECT_EQ(mine.status, 200);
  EXPECT_THAT(mine.body, HasSubstr("EMAR report: alice-1"));
  for (const std::string& path : {"", "/status", "/report.json", "/report.md", "/report.html"}) {
    EXPECT_EQ(Get(port, "/jobs/" + bob_ + path, alice).status, 404) << path;
  }
  EXPECT_EQ(Get(port, "/jobs/no-such-job", alice).status, 404);
  EXPECT_EQ(Get(port, absl::StrCat("/compare?a=", alice_[1], "&b=", bob_), alice).status, 404);
  // Bob by bearer token sees his job; the admin sees everyone's.
  HttpReply bob = Get(port, "/jobs/" + bob_, Bearer(kBob));
  EXPECT_EQ(bob.status, 200);
  EXPECT_THAT(bob.body, HasSubstr("bob-secret"));
  HttpReply all = Get(port, "/?label=run%3Dexp", Bearer(kRoot));
  EXPECT_THAT(all.body, HasSubstr(bob_));
}

TEST_F(ConsoleTest, FiltersAndPagesTheList) {
  const int port = service_->port();
  const std::string alice = Bearer(kAlice);
  HttpReply first = Get(port, "/", alice);
  std::smatch next;
  ASSERT_TRUE(std::regex_search(first.body, next, std::regex("href=\"/\\?page=([0-9.]+)\"")))
      << first.body;
  HttpReply second = Get(port, "/?page=" + next[1].str(), alice);
  EXPECT_THAT(second.body, HasSubstr(alice_[0]));
  EXPECT_THAT(second.body, Not(HasSubstr(alice_[2])));
  EXPECT_THAT(second.body, Not(HasSubstr("Older jobs")));
  HttpReply step = Get(port, "/?label=step%3D2", alice);
  EXPECT_THAT(step.body, HasSubstr(alice_[2]));
  EXPECT_THAT(step.body, Not(HasSubstr(alice_[1])));
  HttpReply done = Get(port, "/?state=succeeded&label=run%3Dexp", alice);
  EXPECT_THAT(done.body, HasSubstr(alice_[1]));
  EXPECT_THAT(done.body, Not(HasSubstr(alice_[0])));  // no run label
  HttpReply none = Get(port, "/?state=cancelled", alice);
  EXPECT_THAT(none.body, HasSubstr("No jobs match."));
  HttpReply bogus = Get(port, "/?state=bogus", alice);
  EXPECT_EQ(bogus.status, 400);
  EXPECT_THAT(bogus.body, HasSubstr("state &#39;bogus&#39; is not one of"));
  EXPECT_EQ(Get(port, "/?label=nokey", alice).status, 400);
}

TEST_F(ConsoleTest, TheReportComesInEveryFormatAndStatusSaysDone) {
  const int port = service_->port();
  const std::string alice = Bearer(kAlice);
  const std::string job = "/jobs/" + alice_[1];
  HttpReply json = Get(port, job + "/report.json", alice);
  EXPECT_EQ(json.Header("content-type"), "application/json");
  EXPECT_THAT(json.body, HasSubstr("\"job_id\": \"" + alice_[1] + "\""));
  EXPECT_THAT(Get(port, job + "/report.md", alice).body, HasSubstr("| candidate |"));
  HttpReply html = Get(port, job + "/report.html", alice);
  EXPECT_THAT(html.body, HasSubstr("<!DOCTYPE html>"));
  HttpReply part = Get(port, job + "/report.part", alice);
  EXPECT_THAT(part.body, Not(HasSubstr("<body>")));
  EXPECT_THAT(part.body, HasSubstr("<svg"));
  HttpReply status = Get(port, job + "/status", alice);
  EXPECT_THAT(status.body, HasSubstr("\"done\": true, \"has_report\": true"));
  EXPECT_EQ(Get(port, job + "/nothing", alice).status, 404);
  // Every answer carries the policy and refuses sniffing and framing.
  EXPECT_THAT(html.Header("content-security-policy").value_or(""), HasSubstr("default-src 'none'"));
  EXPECT_EQ(html.Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(html.Header("x-frame-options"), "DENY");
}

TEST_F(ConsoleTest, RunsShowTheSeriesOfTheCallersJobs) {
  const int port = service_->port();
  HttpReply runs = Get(port, "/runs?label=run%3Dexp&by=step", Bearer(kAlice));
  ASSERT_EQ(runs.status, 200);
  EXPECT_THAT(runs.body, HasSubstr("data-part=\"/runs/part?label=run%3Dexp&amp;by=step\""));
  EXPECT_THAT(runs.body, HasSubstr(alice_[1]));
  EXPECT_THAT(runs.body, Not(HasSubstr(bob_)));
  EXPECT_THAT(runs.body, HasSubstr("<script>"));
  HttpReply part = Get(port, "/runs/part?label=run%3Dexp&by=step", Bearer(kRoot));
  EXPECT_THAT(part.body, HasSubstr(bob_));
  EXPECT_THAT(part.body, Not(HasSubstr("<script")));
  EXPECT_THAT(Get(port, "/runs", Bearer(kAlice)).body, Not(HasSubstr("data-part")));
}

TEST_F(ConsoleTest, CompareShowsBothJobsCandidates) {
  const int port = service_->port();
  HttpReply c = Get(port, absl::StrCat("/compare?a=", alice_[1], "&b=", alice_[2]), Bearer(kAlice));
  ASSERT_EQ(c.status, 200);
  EXPECT_THAT(c.body, HasSubstr("alice-1"));
  EXPECT_THAT(c.body, HasSubstr("alice-2"));
  EXPECT_THAT(c.body, HasSubstr("<td>cand</td><td>A</td>"));
  EXPECT_THAT(c.body, HasSubstr("<td>cand</td><td>B</td>"));
  EXPECT_THAT(c.body, HasSubstr("0.5000"));  // EMAR of the small job: 0.25 / 0.5
}

// The ids, in order, of the flips table rows in a flips page ("<td>KIND</td><td>ID</td>").
std::vector<std::string> ListedIds(const std::string& body) {
  std::vector<std::string> ids;
  const std::regex row("<tr><td>[^<]*</td><td>(learned|forgot)</td><td>([^<]*)</td>");
  for (auto it = std::sregex_iterator(body.begin(), body.end(), row); it != std::sregex_iterator();
       ++it) {
    ids.push_back((*it)[2].str());
  }
  return ids;
}

std::vector<std::string> IdsOf(const std::vector<emar::v1::FlipItem>& items) {
  std::vector<std::string> ids;
  for (const emar::v1::FlipItem& item : items) ids.push_back(item.id());
  return ids;
}

// The flips pages list what ListFlips streams for the same job: the same ids in the same order,
// page after page, with the report's counts; the job page links them and they link back.
TEST_F(ConsoleTest, FlipsPagesListWhatListFlipsLists) {
  const int port = service_->port();
  const std::string alice = Bearer(kAlice);
  const std::string job = "/jobs/" + alice_[1];
  emar::v1::ListFlipsRequest req;
  req.set_job_id(alice_[1]);
  req.set_dataset("t");
  const std::vector<emar::v1::FlipItem> all = ListFlips(kAlice, req);
  ASSERT_EQ(all.size(), 3u);  // learned b, c; forgot a
  HttpReply first = Get(port, job + "/flips?dataset=t", alice);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_THAT(first.body, HasSubstr("cand on t (accuracy): 2 learned, 1 forgot, of 4 items"));
  EXPECT_THAT(first.body, HasSubstr("Items 1–2 of 3"));
  EXPECT_THAT(first.body, HasSubstr("<a href=\"" + job + "\">← alice-1</a>"));  // back
  std::smatch next;
  ASSERT_TRUE(std::regex_search(first.body, next, std::regex("rel=\"next\" href=\"([^\"]+)\"")));
  EXPECT_EQ(next[1].str(), job + "/flips?dataset=t&amp;page=2");
  HttpReply second = Get(port, job + "/flips?dataset=t&page=2", alice);
  EXPECT_THAT(second.body, HasSubstr("Items 3–3 of 3"));
  EXPECT_THAT(second.body, Not(HasSubstr("rel=\"next\"")));
  std::vector<std::string> paged = ListedIds(first.body);
  for (const std::string& id : ListedIds(second.body)) paged.push_back(id);
  EXPECT_EQ(paged, IdsOf(all));
  for (const char* kind : {"learned", "forgot"}) {
    req.set_kind(kind);
    HttpReply page = Get(port, absl::StrCat(job, "/flips?dataset=t&kind=", kind), alice);
    EXPECT_EQ(ListedIds(page.body), IdsOf(ListFlips(kAlice, req))) << kind;
  }
  req.set_dataset("b");
  req.set_kind("");
  HttpReply bench = Get(port, job + "/flips?dataset=b&candidate=cand", alice);
  EXPECT_EQ(ListedIds(bench.body), IdsOf(ListFlips(kAlice, req)));  // forgot 2
  EXPECT_THAT(bench.body, HasSubstr("Items 1–1 of 1"));
  // The job page's flips counts link to these pages.
  HttpReply page = Get(port, job, alice);
  EXPECT_THAT(page.body, HasSubstr("<a href=\"" + job + "/flips?dataset=t\">t</a>"));
  EXPECT_THAT(page.body,
              HasSubstr("<a href=\"" + job + "/flips?dataset=t&amp;kind=learned\">2</a>"));
  EXPECT_THAT(page.body,
              HasSubstr("<a href=\"" + job + "/flips?dataset=b&amp;kind=forgot\">1</a>"));
  EXPECT_THAT(Get(port, job + "/report.part", alice).body, HasSubstr(job + "/flips?dataset=b"));
  // emarctl's own HTML report keeps its in-page links.
  EXPECT_THAT(Get(port, job + "/report.html", alice).body, HasSubstr("href=\"#flips-cand-t-"));
}

TEST_F(ConsoleTest, FlipsPagesSayWhatIsWrongAndAnothersJobIsNotFound) {
  const int port = service_->port();
  const std::string alice = Bearer(kAlice);
  const std::string job = "/jobs/" + alice_[1];
  EXPECT_EQ(Get(port, "/jobs/" + bob_ + "/flips?dataset=t", alice).status, 404);
  EXPECT_EQ(Get(port, "/jobs/" + bob_ + "/flips?dataset=t", Bearer(kBob)).status, 200);
  EXPECT_EQ(Get(port, "/jobs/no-such-job/flips?dataset=t", alice).status, 404);
  const std::pair<std::string, std::string> cases[] = {
      {"", "the flips page needs dataset=NAME"},
      {"?dataset=nope", "unknown dataset &#39;nope&#39;; the job&#39;s datasets: t, b"},
      {"?dataset=t&kind=sideways", "kind &#39;sideways&#39; is not learned or forgot"},
      {"?dataset=t&candidate=nobody", "unknown candidate &#39;nobody&#39;"},
      {"?dataset=t&metric=bleu", "dataset has no metric &#39;bleu&#39;"},
      {"?dataset=t&page=0", "page &#39;0&#39; is not a page number"},
      {"?dataset=t&page=x", "page &#39;x&#39; is not a page number"}};
  for (const auto& [query, message] : cases) {
    HttpReply r = Get(port, job + "/flips" + query, alice);
    EXPECT_EQ(r.status, 400) << query;
    EXPECT_THAT(r.body, HasSubstr(message)) << query;
  }
  HttpReply past = Get(port, job + "/flips?dataset=t&page=3", alice);
  EXPECT_EQ(past.status, 404);
  EXPECT_THAT(past.body, HasSubstr("Page 3 is past the last page (2)"));
}

// A job's name, dataset and ids are the user's: escaped in the page, percent-encoded in links.
TEST_F(ConsoleTest, FlipsPagesEscapeNamesAndIds) {
  const int port = service_->port();
  HttpReply job = Get(port, "/jobs/" + markup_, Bearer(kBob));
  ASSERT_EQ(job.status, 200) << job.body;
  const std::string link = "/jobs/" + markup_ + "/flips?dataset=%3Ct%3E%26%27";
  EXPECT_THAT(job.body, HasSubstr("<a href=\"" + link + "\">&lt;t&gt;&amp;&#39;</a>"));
  HttpReply flips = Get(port, link, Bearer(kBob));
  ASSERT_EQ(flips.status, 200) << flips.body;
  EXPECT_THAT(flips.body, Not(HasSubstr("<i>")));
  EXPECT_THAT(flips.body, Not(HasSubstr("<b>")));
  EXPECT_THAT(flips.body, Not(HasSubstr("<t>")));
  EXPECT_THAT(flips.body, Not(HasSubstr("<script>x")));
  EXPECT_THAT(flips.body, HasSubstr("&lt;script&gt;x&lt;/script&gt;"));
  EXPECT_THAT(flips.body, HasSubstr("← &lt;b&gt;job&lt;/b&gt;"));
  EXPECT_EQ(ListedIds(flips.body),
            (std::vector<std::string>{"&lt;i&gt;a&amp;&#39;&quot;", "&lt;i&gt;b&amp;&#39;&quot;"}));
  EXPECT_EQ(flips.body.find("<script"), std::string::npos);
}

TEST_F(ConsoleTest, LogoutNeedsTheSessionsCsrfTokenAndEndsTheSession) {
  const int port = service_->port();
  const std::string cookie = LogIn(port, kAlice);
  HttpReply page = Get(port, "/", Cookie(cookie));
  std::smatch csrf;
  ASSERT_TRUE(
      std::regex_search(page.body, csrf, std::regex("name=\"csrf\" value=\"([0-9a-f]+)\"")));
  EXPECT_EQ(Post(port, "/logout", "csrf=0000", Cookie(cookie)).status, 403);
  EXPECT_EQ(Get(port, "/logout", Cookie(cookie)).status, 405);
  EXPECT_EQ(Get(port, "/", Cookie(cookie)).status, 200);  // still logged in
  HttpReply out = Post(port, "/logout", "csrf=" + csrf[1].str(), Cookie(cookie));
  EXPECT_EQ(out.status, 303);
  EXPECT_THAT(out.Header("set-cookie").value_or(""), HasSubstr("Max-Age=0"));
  EXPECT_EQ(Get(port, "/", Cookie(cookie)).status, 303);  // the session is gone
}

// Under TLS the cookie is Secure, with the __Host- prefix (no Domain, Path=/), and only that
// cookie name opens a session there. (The server's TLS itself: http_server_test.)
TEST_F(ConsoleTest, OverTlsTheSessionCookieIsSecureAndHostOnly) {
  HttpRequest login{.method = "POST", .path = "/login", .body = absl::StrCat("token=", kAlice)};
  login.tls = true;
  HttpResponse r = service_->console().Handle(login);
  ASSERT_EQ(r.status, 303);
  std::string cookie;
  for (const auto& [name, value] : r.headers) {
    if (name == "Set-Cookie") cookie = value;
  }
  EXPECT_THAT(cookie, ::testing::StartsWith("__Host-emar_session="));
  EXPECT_THAT(cookie, HasSubstr("; Secure"));
  EXPECT_THAT(cookie, HasSubstr("HttpOnly"));
  EXPECT_THAT(cookie, HasSubstr("SameSite=Strict"));
  HttpRequest page{.method = "GET", .path = "/"};
  page.tls = true;
  page.headers = {{"cookie", cookie.substr(0, cookie.find(';'))}};
  EXPECT_EQ(service_->console().Handle(page).status, 200);
  page.headers = {{"cookie", "emar_session=" + cookie.substr(20, cookie.find(';') - 20)}};
  EXPECT_EQ(service_->console().Handle(page).status, 303);  // under TLS only the __Host- name
}

// A coordinator, its gRPC server with tokens and the console with its logins in the job store's
// file, on `data_dir`, kAlice being `principal`'s token; destroying it is a restart's first half.
struct Instance {
  explicit Instance(const std::string& data_dir, const std::string& principal = "alice") {
    CoordinatorOptions o;
    o.data_dir = data_dir;
    coordinator = *Coordinator::Create(o);
    ServerOptions so;
    so.listen = "127.0.0.1:0";
    so.tokens = *TokenTable::Parse(absl::StrCat("client ", principal, " ", Sha256Hex(kAlice), "\n"),
                                   "tokens");
    server = *CoordinatorServer::Start(coordinator.get(), so);
    sessions = *SessionTable::Open(data_dir + "/jobs.db");
    console = *Console::Start({.listen = "127.0.0.1:0", .session_table = sessions.get()},
                              coordinator.get(), &server->authenticator());
  }
  ~Instance() {
    console.reset();
    server->Shutdown(absl::Seconds(2));
  }
  std::unique_ptr<Coordinator> coordinator;
  std::unique_ptr<CoordinatorServer> server;
  std::unique_ptr<SessionTable> sessions;
  std::unique_ptr<Console> console;
};

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A login survives a restart of the coordinator on the same data dir, with the same CSRF token;
// the store's files hold the session's sha256, never its id; a logout survives a restart too.
TEST(ConsoleRestartTest, ALoginSurvivesARestartAndTheStoreNeverHoldsTheSessionId) {
  TempDir data;
  std::string cookie, csrf;
  {
    Instance first(data.path());
    cookie = LogIn(first.console->port(), kAlice);
    HttpReply page = Get(first.console->port(), "/", Cookie(cookie));
    std::smatch m;
    ASSERT_TRUE(std::regex_search(page.body, m, std::regex("name=\"csrf\" value=\"([0-9a-f]+)\"")));
    csrf = m[1].str();
  }
  const std::string id = cookie.substr(cookie.find('=') + 1);
  ASSERT_EQ(id.size(), 64u);
  const std::string files =
      FileBytes(data.path() + "/jobs.db") + FileBytes(data.path() + "/jobs.db-wal");
  EXPECT_EQ(files.find(id), std::string::npos);
  EXPECT_NE(files.find(Sha256Hex(id)), std::string::npos);
  {
    Instance second(data.path());
    const int port = second.console->port();
    HttpReply page = Get(port, "/", Cookie(cookie));
    ASSERT_EQ(page.status, 200) << page.body;
    EXPECT_THAT(page.body, HasSubstr(">alice<"));
    EXPECT_THAT(page.body, HasSubstr("name=\"csrf\" value=\"" + csrf + "\""));
    EXPECT_EQ(Get(port, "/", Cookie("emar_session=" + std::string(64, 'a'))).status, 303);
    EXPECT_EQ(Post(port, "/logout", "csrf=" + csrf, Cookie(cookie)).status, 303);
  }
  Instance third(data.path());
  EXPECT_EQ(Get(third.console->port(), "/", Cookie(cookie)).status, 303);  // logged out for good
}

// A stored session ends with its principal's token: after a restart whose tokens no longer name
// alice, her cookie opens nothing, and its row is deleted (it stays closed when she is back).
TEST(ConsoleRestartTest, AStoredSessionEndsWithItsPrincipalsToken) {
  TempDir data;
  std::string cookie;
  {
    Instance first(data.path());
    cookie = LogIn(first.console->port(), kAlice);
  }
  {
    Instance renamed(data.path(), "alice2");
    EXPECT_EQ(Get(renamed.console->port(), "/", Cookie(cookie)).status, 303);
  }
  Instance back(data.path());
  EXPECT_EQ(Get(back.console->port(), "/", Cookie(cookie)).status, 303);
}

}  // namespace
}  // namespace emar
