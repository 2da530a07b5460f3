// The console with many jobs in a real store: time to first byte and page weight of its pages.
//
//   build/bench/console_bench --jobs 10000 --data_dir /tmp/emar-console-bench
//
// Fill (skipped when --data_dir already holds a store with --jobs jobs): the embedded mode
// (coordinator, gRPC on its in-process channel, two worker threads) over --data_dir, and
// `--submitters` threads submitting the small test job (tests/server/small_job.h) --jobs times
// through the client library, labelled run=bench-(i/10), step=(i%10). The first job is scored by
// the workers; the others reuse its statistics (the score cache), so each still goes through
// CreateJob, the store and the report builder, and ends SUCCEEDED with a report.
// Measure: a fresh Coordinator over the same store and the console on 127.0.0.1:0 (no tokens: the
// admin sees every job), then --requests sequential GETs of each page over loopback, timing the
// first byte of the answer and the whole answer, after one first GET (timed alone: nothing is
// cached then). Prints one JSON object per page.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/percentile.h"
#include "client/evaluation_client.h"
#include "console/console.h"
#include "embedded/embedded_coordinator.h"
#include "server/coordinator.h"
#include "tests/console/http_client.h"
#include "tests/server/small_job.h"
#include "tests/server/temp_dir.h"

ABSL_FLAG(int, jobs, 10000, "jobs in the store");
ABSL_FLAG(std::string, data_dir, "", "the store (kept; filled when it lacks jobs); default: temp");
ABSL_FLAG(int, submitters, 4, "threads submitting jobs during the fill");
ABSL_FLAG(int, requests, 20, "GETs of each page measured");

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

int CountJobs(emar::Coordinator& c) {
  emar::v1::ListJobsRequest list;
  list.set_limit(1000);
  int n = 0;
  do {
    auto page = c.ListJobs(list, emar::Principal::Anonymous());
    if (!page.ok()) return 0;
    n += page->jobs_size();
    list.set_page_token(page->next_page_token());
  } while (!list.page_token().empty());
  return n;
}

// False when a submission failed (said on stderr); the other submitters then stop too.
bool Fill(const std::string& dir, int jobs) {
  emar::TempDir inputs;
  emar::SmallJob small(inputs.path());
  emar::EmbeddedOptions options;
  options.data_dir = dir;
  options.worker_threads = 2;
  auto embedded = *emar::EmbeddedCoordinator::Start(options);
  std::atomic<int> next{0};
  std::atomic<bool> failed{false};
  std::vector<std::string> last(absl::GetFlag(FLAGS_submitters));
  std::vector<std::thread> threads;
  threads.reserve(absl::GetFlag(FLAGS_submitters));
  const auto start = Clock::now();
  for (int t = 0; t < absl::GetFlag(FLAGS_submitters); ++t) {
    threads.emplace_back([&, t] {
      emar::EvaluationClient client(embedded->channel());
      for (int i = next++; i < jobs; i = next++) {
        emar::JobFile job = small.Load();
        job.spec.set_name(absl::StrCat("bench-job-", i));
        (*job.spec.mutable_labels())["run"] = absl::StrCat("bench-", i / 10);
        (*job.spec.mutable_labels())["step"] = absl::StrCat(i % 10);
        auto created = client.Submit(job, "");
        if (!created.ok()) {
          std::cerr << "submit: " << created.status() << "\n";
          failed = true;
          next = jobs;  // the others stop at their next job
          return;
        }
        if (i == 0) {  // scored once by the workers, then reused from the score cache
          absl::StatusOr<emar::v1::Job> done = client.Watch(created->job_id(), nullptr);
          if (!done.ok()) std::cerr << "watch: " << done.status() << "\n";
        }
        last[t] = created->job_id();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  if (failed) return false;
  emar::EvaluationClient client(embedded->channel());
  for (const std::string& id : last) {
    if (id.empty()) continue;
    absl::StatusOr<emar::v1::Job> done = client.Watch(id, nullptr);
    if (!done.ok()) std::cerr << "watch: " << done.status() << "\n";
  }
  std::cerr << absl::StrFormat("filled %d jobs in %.1f s\n", jobs,
                               absl::ToDoubleSeconds(absl::FromChrono(Clock::now() - start)));
  return true;
}

struct Timing {
  Clock::duration first_byte;
  Clock::duration whole;
  size_t bytes;
  int status;
};

Timing Fetch(int port, const std::string& target) {
  const std::string request = absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  const auto start = Clock::now();
  const int fd = emar::ConnectLoopback(port);
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string raw;
  char buf[65536];
  Timing t{};
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) {
    if (raw.empty()) t.first_byte = Clock::now() - start;
    raw.append(buf, static_cast<size_t>(n));
  }
  t.whole = Clock::now() - start;
  ::close(fd);
  emar::HttpReply reply = emar::ParseReply(raw);
  t.bytes = reply.body.size();
  t.status = reply.status;
  return t;
}

void Measure(int port, const std::string& name, const std::string& target) {
  std::vector<double> first, whole;
  Timing t = Fetch(port, target);  // the first: nothing cached yet (the list's summaries)
  const double cold = Ms(t.first_byte);
  for (int i = 0; i < absl::GetFlag(FLAGS_requests); ++i) {
    t = Fetch(port, target);
    first.push_back(Ms(t.first_byte));
    whole.push_back(Ms(t.whole));
  }
  std::cout << absl::StrFormat(
      "{\"page\": \"%s\", \"target\": \"%s\", \"status\": %d, \"bytes\": %d, "
      "\"ttfb_ms_first\": %.2f, \"ttfb_ms_p50\": %.2f, \"ttfb_ms_p95\": %.2f, "
      "\"whole_ms_p50\": %.2f}\n",
      name, target, t.status, t.bytes, cold, emar::Percentile(first, 0.5, 0),
      emar::Percentile(first, 0.95, 0), emar::Percentile(whole, 0.5, 0));
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  emar::TempDir temp;
  const std::string dir =
      absl::GetFlag(FLAGS_data_dir).empty() ? temp.path() : absl::GetFlag(FLAGS_data_dir);
  const int jobs = absl::GetFlag(FLAGS_jobs);
  emar::CoordinatorOptions options;
  options.data_dir = dir;
  {
    auto c = *emar::Coordinator::Create(options);
    const int have = CountJobs(*c);
    c.reset();
    if (have < jobs && !Fill(dir, jobs - have)) return 1;
  }
  auto coordinator = *emar::Coordinator::Create(options);
  const int have = CountJobs(*coordinator);
  emar::ConsoleOptions console_options;
  console_options.listen = "127.0.0.1:0";
  const emar::Authenticator no_tokens;  // no --tokens: every caller is anonymous
  auto console = *emar::Console::Start(console_options, coordinator.get(), &no_tokens);
  emar::v1::ListJobsRequest newest;
  newest.set_limit(1);
  const std::string job_id =
      coordinator->ListJobs(newest, emar::Principal::Anonymous())->jobs(0).job_id();
  std::cerr << "store: " << have << " jobs in " << dir << "\n";
  Measure(console->port(), "jobs", "/");
  Measure(console->port(), "jobs, a label", "/?label=run%3Dbench-7");
  Measure(console->port(), "jobs, no match (failed)", "/?state=failed");
  Measure(console->port(), "job", "/jobs/" + job_id);
  Measure(console->port(), "job status", "/jobs/" + job_id + "/status");
  Measure(console->port(), "run (10 checkpoints)", "/runs?label=run%3Dbench-7&by=step");
  return 0;
}
