#include "console/console_pages.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "common/sha256.h"
#include "console/console_script.h"

namespace emar {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The page's only script is the console's, and the policy allows exactly it, by its hash; the
// reports' own <meta> policy (which would block it) is gone.
TEST(ConsolePagesTest, LivePagesCarryTheScriptThePolicyAllows) {
  const std::string page = ConsolePage("t", Viewer{}, "<p>x</p>", /*live=*/true);
  const std::string script = "<script>" + ConsoleScript() + "</script>";
  EXPECT_THAT(page, HasSubstr(script));
  EXPECT_EQ(page.find("<script"), page.rfind("<script"));
  EXPECT_THAT(page, Not(HasSubstr("http-equiv")));
  const std::string hash = absl::Base64Escape(absl::HexStringToBytes(Sha256Hex(ConsoleScript())));
  EXPECT_THAT(ConsoleContentSecurityPolicy(), HasSubstr("script-src 'sha256-" + hash + "'"));
  EXPECT_THAT(ConsoleContentSecurityPolicy(), HasSubstr("default-src 'none'"));
  EXPECT_THAT(ConsoleContentSecurityPolicy(), HasSubstr("connect-src 'self'"));
  EXPECT_THAT(ConsolePage("t", Viewer{}, "", false), Not(HasSubstr("<script")));
}

TEST(ConsolePagesTest, TheFrameEscapesThePrincipalAndCarriesTheLogoutToken) {
  const std::string page = ConsolePage("<t>", Viewer{"a<b", "c0ffee"}, "");
  EXPECT_THAT(page, HasSubstr("<title>&lt;t&gt;</title>"));
  EXPECT_THAT(page, HasSubstr("a&lt;b"));
  EXPECT_THAT(page, HasSubstr("name=\"csrf\" value=\"c0ffee\""));
  EXPECT_THAT(ConsolePage("t", Viewer{"a", ""}, ""), Not(HasSubstr("/logout")));
}

TEST(ConsolePagesTest, BodyOfTakesTheBodyOfAPage) {
  EXPECT_EQ(BodyOf("<html><head></head><body>\n<p>x</p>\n</body></html>"), "\n<p>x</p>\n");
  EXPECT_EQ(BodyOf("<p>no body</p>"), "<p>no body</p>");
}

TEST(ConsolePagesTest, JobsListShowsStateProgressSummaryAndTheNextPage) {
  emar::v1::ListJobsResponse page;
  emar::v1::Job* job = page.add_jobs();
  job->set_job_id("job-1");
  job->set_name("<lora>");
  job->set_state(emar::v1::JOB_STATE_SUCCEEDED);
  job->mutable_progress()->set_shards_done(4);
  job->mutable_progress()->set_shards_total(4);
  (*job->mutable_labels())["run"] = "exp-42";
  page.set_next_page_token("100.7");
  JobsFilter filter{.labels = {{"run", "exp-42"}}, .states = {"succeeded"}};
  const std::string html = JobsMain(filter, page, {JobSummary{"r16: 0.2143", "FAIL"}});
  EXPECT_THAT(html, HasSubstr("<a href=\"/jobs/job-1\">&lt;lora&gt;</a>"));
  EXPECT_THAT(html, HasSubstr("<td>succeeded</td>"));
  EXPECT_THAT(html, HasSubstr("4/4"));
  EXPECT_THAT(html, HasSubstr("r16: 0.2143"));
  EXPECT_THAT(html, HasSubstr("<td class=\"fail\">FAIL</td>"));
  EXPECT_THAT(html, HasSubstr("run=exp-42"));
  EXPECT_THAT(html, HasSubstr("<option selected>succeeded"));
  EXPECT_THAT(html, HasSubstr("href=\"/?label=run%3Dexp-42&amp;state=succeeded&amp;page=100.7\""));
}

TEST(ConsolePagesTest, SummaryNamesTheBestCandidateAndTheGates) {
  emar::v1::Report r;
  auto* second = r.add_candidates();
  second->set_name("r8");
  second->set_rank(2);
  second->mutable_emar()->set_value(0.1);
  auto* first = r.add_candidates();
  first->set_name("r16");
  first->set_rank(1);
  first->mutable_emar()->set_value(0.2143);
  first->mutable_emar()->set_ci_low(0.1839);
  first->mutable_emar()->set_ci_high(0.2482);
  first->add_gates()->set_passed(true);
  r.set_gates_passed(true);
  const JobSummary s = SummarizeReport(r);
  EXPECT_EQ(s.emar, "r16: 0.2143 [0.1839, 0.2482] (+1 more)");
  EXPECT_EQ(s.gates, "PASS");
  EXPECT_EQ(SummarizeReport(emar::v1::Report()).gates, "");
}

TEST(ConsolePagesTest, RunningJobPagePollsAndAFinishedOneDoesNot) {
  emar::v1::Job job;
  job.set_job_id("job-2");
  job.set_name("n");
  job.set_state(emar::v1::JOB_STATE_RUNNING);
  job.mutable_progress()->set_shards_total(70);
  job.mutable_progress()->set_shards_done(3);
  job.mutable_progress()->set_examples_scored(300);
  const std::string running = JobMain(job, "");
  EXPECT_THAT(running, HasSubstr("data-kind=\"job\""));
  EXPECT_THAT(running, HasSubstr("data-status=\"/jobs/job-2/status\""));
  EXPECT_THAT(running, HasSubstr("3 of 70 shards · 300 examples"));
  EXPECT_THAT(running, HasSubstr("<p id=\"report-links\" hidden>"));
  const std::string json = JobStatusJson(job);
  EXPECT_THAT(json, HasSubstr("\"state\": \"running\""));
  EXPECT_THAT(json, HasSubstr("\"shards_done\": 3, \"shards_total\": 70"));
  EXPECT_THAT(json, HasSubstr("\"done\": false, \"has_report\": false"));
  job.set_state(emar::v1::JOB_STATE_FAILED);
  job.set_error("out.jsonl:3: field 'id': missing");
  const std::string failed = JobMain(job, "");
  EXPECT_THAT(failed, Not(HasSubstr("data-kind")));
  EXPECT_THAT(failed, HasSubstr("out.jsonl:3: field &#39;id&#39;: missing"));
  EXPECT_THAT(JobStatusJson(job), HasSubstr("\"done\": true, \"has_report\": false"));
}

// The flips page's links carry its parameters percent-encoded, HTML-escaped in the page; the
// pager says where it is and links the pages around it.
TEST(ConsolePagesTest, FlipsPageLinksKindsPagesAndTheJob) {
  FlipsQuery q;
  q.dataset = "a&b <c>";
  q.candidate = "r16";
  q.kind = "forgot";
  q.page = 2;
  EXPECT_EQ(FlipsUrl("job-1", q),
            "/jobs/job-1/flips?dataset=a%26b%20%3Cc%3E&candidate=r16"
            "&kind=forgot&page=2");
  FlipsView v;
  v.job_id = "job-1";
  v.job_name = "<lora>";
  v.query = q;
  v.page_size = 200;
  v.total = 523;
  v.counts = {"r16 on a&b: 3 learned"};
  const std::string html = FlipsMain(v, FlipsIntro(v) + "<table></table>");
  EXPECT_THAT(html, HasSubstr("<a href=\"/jobs/job-1\">← &lt;lora&gt;</a>"));
  EXPECT_THAT(html, HasSubstr("<p>r16 on a&amp;b: 3 learned</p>"));
  EXPECT_THAT(html, HasSubstr("<strong>forgot</strong>"));
  EXPECT_THAT(html, HasSubstr("href=\"/jobs/job-1/flips?dataset=a%26b%20%3Cc%3E&amp;"
                              "candidate=r16&amp;kind=learned\">learned</a>"));
  EXPECT_THAT(html, HasSubstr("Items 201–400 of 523"));
  EXPECT_THAT(html, HasSubstr("rel=\"prev\" href=\"/jobs/job-1/flips?dataset=a%26b%20%3Cc%3E&amp;"
                              "candidate=r16&amp;kind=forgot\""));
  EXPECT_THAT(html, HasSubstr("&amp;kind=forgot&amp;page=3\">Next →</a>"));
  v.total = 0;
  v.query.page = 1;
  EXPECT_THAT(FlipsMain(v, ""), HasSubstr("No flipped items."));
}

}  // namespace
}  // namespace emar
