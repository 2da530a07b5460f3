// Coordinator throughput under a synthetic worker load: a real emar-coordinator on
// 127.0.0.1 (port 0, --port_file), a job of many tiny shards created through `emarctl submit`, and
// `--streams` concurrent synthetic workers, each on its own connection (or sharing
// `--connections`), that lease a shard and complete it at once with the result a real worker
// would send (the outputs are fixed-width lines whose correctness follows a known pattern, so no
// file is read). With `--combined` (the default, as emar-worker does) each Complete asks for the
// next shard too (lease_next): one call a shard; `--nocombined` is the older Lease + Complete
// cycle, against the same coordinator. A separate thread sends
// Heartbeats for a held lease every `--heartbeat_interval_ms` and times them. At the end the job
// must SUCCEED with exactly the expected T0, T1, B0 and B1, so every result was stored and
// counted once.
//
//   build/bench/coordinator_bench --bin_dir build/bin --rows 2000 --rows_per_shard 1 --streams 8
//
// Prints one JSON object: shards, seconds, cycles_per_s, lease/complete/cycle/heartbeat latency
// percentiles (ms; lease_ms is how long a stream waited for each shard it got, by a Lease or by
// the combined call that brought it), the coordinator's CPU seconds and cores busy while the
// streams ran, report_ok. Exit 1 when the job does not succeed or a score is wrong.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "bench/percentile.h"
#include "common/mutex_checks.h"
#include "common/sha256.h"
#include "emar/v1/service.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "tests/system/process.h"

ABSL_FLAG(std::string, bin_dir, "build/bin", "holds emar-coordinator and emarctl");
ABSL_FLAG(int64_t, rows, 2000, "rows of each references file (4 outputs files of this many rows)");
ABSL_FLAG(int64_t, rows_per_shard, 1, "coordinator --rows_per_shard: 4 x rows / this shards");
ABSL_FLAG(int32_t, streams, 8, "concurrent synthetic workers, one connection each");
ABSL_FLAG(int32_t, heartbeat_interval_ms, 5, "pause between heartbeats (one at a time)");
ABSL_FLAG(std::string, log_format, "text", "coordinator --log_format (text, json, off)");
ABSL_FLAG(bool, combined, true,
          "complete each shard with lease_next (one call a shard); false: Lease, then Complete");
ABSL_FLAG(int32_t, connections, 0,
          "connections the streams share, round robin (0: one per stream, like real workers)");

namespace {

using Clock = std::chrono::steady_clock;
using emar::testing::Process;

// Every line of every file has this width, so a shard's byte range gives its line count.
constexpr int kLineWidth = 48;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// Whether row `i` of outputs file `f` is right: base/candidate x target/benchmark patterns.
bool Correct(int f, int64_t i) {
  switch (f) {
    case 0:
      return i % 10 < 7;  // base.target: 0.70
    case 1:
      return i % 20 < 17;  // cand.target: 0.85
    case 2:
      return i % 4 < 3;  // base.benchmark: 0.75
    default:
      return i % 25 < 18;  // cand.benchmark: 0.72
  }
}

double ExpectedScore(int f, int64_t rows) {
  int64_t right = 0;
  for (int64_t i = 0; i < rows; ++i) right += Correct(f, i);
  return static_cast<double>(right) / static_cast<double>(rows);
}

std::string Line(const char* key, int64_t i, const char* value) {
  // {"id":"r00000012","KEY":"V"} padded with spaces to kLineWidth - 1, then \n.
  std::string s = absl::StrFormat("{\"id\":\"r%08d\",\"%s\":\"%s\"}", i, key, value);
  s.resize(kLineWidth - 1, ' ');
  s.push_back('\n');
  return s;
}

absl::Status WriteJob(const std::string& dir, int64_t rows,
                      std::map<std::string, int>* file_of_sha) {
  for (const char* sub : {"/data", "/out"}) ::mkdir((dir + sub).c_str(), 0755);
  std::string refs;
  for (int64_t i = 0; i < rows; ++i) refs += Line("reference", i, "a");
  // Both datasets use the same references (one blob).
  if (absl::Status s = emar::testing::WriteFile(dir + "/data/target.jsonl", refs); !s.ok())
    return s;
  if (absl::Status s = emar::testing::WriteFile(dir + "/data/benchmark.jsonl", refs); !s.ok())
    return s;
  const char* names[4] = {"base.target", "cand.target", "base.benchmark", "cand.benchmark"};
  for (int f = 0; f < 4; ++f) {
    std::string out;
    out.reserve(static_cast<size_t>(rows) * kLineWidth);
    for (int64_t i = 0; i < rows; ++i) out += Line("prediction", i, Correct(f, i) ? "a" : "b");
    const std::string path = absl::StrCat(dir, "/out/", names[f], ".jsonl");
    if (absl::Status s = emar::testing::WriteFile(path, out); !s.ok()) return s;
    (*file_of_sha)[emar::Sha256Hex(out)] = f;
  }
  return emar::testing::WriteFile(
      dir + "/job.yaml",
      "name: coordinator-bench\n"
      "target: {name: t, references: data/target.jsonl, metric: accuracy}\n"
      "benchmark: {name: b, references: data/benchmark.jsonl, metric: accuracy}\n"
      "base: {name: base, target_outputs: out/base.target.jsonl, benchmark_outputs: "
      "out/base.benchmark.jsonl}\n"
      "candidates:\n"
      "  - {name: cand, target_outputs: out/cand.target.jsonl, benchmark_outputs: "
      "out/cand.benchmark.jsonl}\n"
      "bootstrap: {resamples: 100}\n");
}

std::shared_ptr<grpc::Channel> OwnChannel(const std::string& server) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a connection of its own, like a worker
  args.SetMaxReceiveMessageSize(64 << 20);
  return grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(), args);
}

// User + system CPU seconds of process `pid` so far (0 when unreadable).
double CpuSeconds(pid_t pid) {
  auto text = emar::testing::ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  if (!text.ok()) return 0;
  const size_t paren = text->rfind(')');
  if (paren == std::string::npos) return 0;
  // After "pid (comm)": state is field 3; utime and stime are fields 14 and 15.
  std::vector<std::string> fields = absl::StrSplit(text->substr(paren + 2), ' ');
  int64_t utime = 0, stime = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return 0;
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

struct Held {
  std::mutex mu;
  std::vector<std::string> leases;  // held now, by any stream
};

int Main() {
  const std::string bin = absl::GetFlag(FLAGS_bin_dir);
  const int64_t rows = absl::GetFlag(FLAGS_rows);
  const int streams = absl::GetFlag(FLAGS_streams);
  auto dir = emar::testing::TempDir::Create("coordinator-bench");
  if (!dir.ok()) {
    std::cerr << dir.status() << "\n";
    return 1;
  }
  std::map<std::string, int> file_of_sha;
  if (absl::Status s = WriteJob(dir->path(), rows, &file_of_sha); !s.ok()) {
    std::cerr << s << "\n";
    return 1;
  }
  const std::string port_file = dir->Join("coordinator.port");
  ::mkdir(dir->Join("logs").c_str(), 0755);
  auto coordinator =
      Process::Start({bin + "/emar-coordinator", "--listen", "127.0.0.1:0", "--data_dir",
                      dir->Join("data-dir"), "--port_file", port_file, "--rows_per_shard",
                      absl::StrCat(absl::GetFlag(FLAGS_rows_per_shard)), "--log_format",
                      absl::GetFlag(FLAGS_log_format)},
                     dir->Join("logs"));
  if (!coordinator.ok()) {
    std::cerr << coordinator.status() << "\n";
    return 1;
  }
  int port = 0;
  emar::testing::PollUntil(
      [&] {
        auto text = emar::testing::ReadFile(port_file);
        return (text.ok() && absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &port) &&
                port > 0) ||
               !(*coordinator)->running();
      },
      absl::Seconds(30));
  if (port <= 0) {
    std::cerr << "coordinator did not start: " << (*coordinator)->ReadStderr() << "\n";
    return 1;
  }
  const std::string server = absl::StrCat("127.0.0.1:", port);

  emar::testing::CommandResult submitted = emar::testing::RunCommand(
      {bin + "/emarctl", "submit", dir->Join("job.yaml"), "--server", server, "--progress", "off"},
      absl::Seconds(120));
  const std::string job_id(absl::StripAsciiWhitespace(submitted.out));
  if (!submitted.exit.Exited(0) || job_id.empty()) {
    std::cerr << "submit failed: " << submitted.err << "\n";
    return 1;
  }
  const int64_t per_shard = absl::GetFlag(FLAGS_rows_per_shard);
  const int64_t shards = 4 * ((rows + per_shard - 1) / per_shard);

  std::atomic<int64_t> completed{0};
  std::atomic<bool> done{false};
  std::atomic<int> errors{0};
  std::atomic<int64_t> combined_leases{0};  // shards that came with a Complete's answer
  Held held;
  std::vector<std::vector<double>> lease_ms(streams), complete_ms(streams), cycle_ms(streams);
  std::vector<double> heartbeat_ms;
  Clock::time_point first = Clock::time_point::max(), last = Clock::time_point::min();
  std::mutex span_mu;

  const bool combined = absl::GetFlag(FLAGS_combined);
  std::vector<std::shared_ptr<grpc::Channel>> channels(
      absl::GetFlag(FLAGS_connections) > 0 ? absl::GetFlag(FLAGS_connections) : streams);
  for (auto& c : channels) c = OwnChannel(server);
  // One stream: hold a shard, complete it (with lease_next when --combined), take the next one
  // from that answer or else Lease it. lease_ms is how long the stream waited for each shard it
  // got: the Lease call, or the combined call that brought it (plus a Lease when it brought
  // none); cycle_ms is the time per shard.
  auto worker = [&](int index) {
    auto stub = emar::v1::WorkerService::NewStub(channels[index % channels.size()]);
    const std::string worker_id = absl::StrCat("bench-", index);
    constexpr int kRetries = 100;
    int retries = 0;
    std::optional<emar::v1::ShardTask> next;
    std::optional<Clock::time_point> asked;  // when the stream began asking for its next shard
    Clock::time_point cycle_start = Clock::now();
    while (!done.load()) {
      if (!next) {
        if (!asked) asked = Clock::now();
        emar::v1::LeaseRequest lreq;
        lreq.set_worker_id(worker_id);
        lreq.set_wait_ms(200);
        emar::v1::LeaseResponse lresp;
        grpc::ClientContext lctx;
        grpc::Status st = stub->Lease(&lctx, lreq, &lresp);
        // A connection that failed (hundreds open at once) is retried, as a real worker does.
        if (st.error_code() == grpc::StatusCode::UNAVAILABLE && ++retries <= kRetries) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          continue;
        }
        if (!st.ok()) {
          ++errors;
          std::cerr << "lease: " << st.error_message() << "\n";
          return;
        }
        if (!lresp.has_task()) {
          asked.reset();  // no work at all: idle, not latency
          if (completed.load() >= shards) return;
          continue;
        }
        next = std::move(*lresp.mutable_task());
      }
      const Clock::time_point t1 = Clock::now();
      if (asked) lease_ms[index].push_back(Ms(t1 - *asked));
      asked.reset();
      const emar::v1::ShardTask task = std::move(*next);
      next.reset();
      {
        std::lock_guard<std::mutex> lock(held.mu);
        held.leases.push_back(task.lease_id());
      }
      emar::v1::CompleteRequest creq;
      creq.set_lease_id(task.lease_id());
      creq.set_worker_id(worker_id);
      creq.set_job_id(task.job_id());
      creq.set_shard_id(task.shard_id());
      creq.set_lease_next(combined);
      emar::v1::ShardResult* r = creq.mutable_result();
      r->set_stats_width(1);
      const int f = file_of_sha.at(task.outputs().sha256());
      const int64_t len = task.outputs().length() >= 0
                              ? task.outputs().length()
                              : rows * kLineWidth - task.outputs().offset();
      const int64_t first_row = task.first_line() - 1;
      for (int64_t k = 0; k < len / kLineWidth; ++k) {
        r->add_reference_row(static_cast<uint32_t>(first_row + k));
        r->add_line(static_cast<uint64_t>(task.first_line() + k));
        r->add_stats(Correct(f, first_row + k) ? 1.0 : 0.0);
      }
      emar::v1::CompleteResponse cresp;
      const Clock::time_point t2 = Clock::now();
      if (combined) asked = t2;
      grpc::Status st;
      do {  // Complete is idempotent: a failed connection is retried
        grpc::ClientContext cctx;
        st = stub->Complete(&cctx, creq, &cresp);
      } while (st.error_code() == grpc::StatusCode::UNAVAILABLE && ++retries <= kRetries &&
               (std::this_thread::sleep_for(std::chrono::milliseconds(50)), true));
      const Clock::time_point t3 = Clock::now();
      {
        std::lock_guard<std::mutex> lock(held.mu);
        held.leases.erase(std::find(held.leases.begin(), held.leases.end(), task.lease_id()));
      }
      if (!st.ok()) {
        ++errors;
        std::cerr << "complete: " << st.error_message() << "\n";
        return;
      }
      if (cresp.has_next_task()) {
        next = std::move(*cresp.mutable_next_task());
        ++combined_leases;
      }
      complete_ms[index].push_back(Ms(t3 - t2));
      cycle_ms[index].push_back(Ms(t3 - cycle_start));
      {
        std::lock_guard<std::mutex> lock(span_mu);
        first = std::min(first, cycle_start);
        last = std::max(last, t3);
      }
      cycle_start = t3;
      if (!cresp.duplicate() && completed.fetch_add(1) + 1 >= shards) done = true;
    }
    // A shard the last combined call leased after the job's end cannot exist (all are done).
  };
  auto heartbeater = [&] {
    auto stub = emar::v1::WorkerService::NewStub(OwnChannel(server));
    const auto pause = std::chrono::milliseconds(absl::GetFlag(FLAGS_heartbeat_interval_ms));
    while (!done.load()) {
      std::string lease;
      {
        std::lock_guard<std::mutex> lock(held.mu);
        if (!held.leases.empty()) lease = held.leases.back();
      }
      if (!lease.empty()) {
        emar::v1::HeartbeatRequest req;
        req.set_lease_id(lease);
        req.set_worker_id("bench-heartbeat");
        emar::v1::HeartbeatResponse resp;
        grpc::ClientContext ctx;
        const Clock::time_point t0 = Clock::now();
        grpc::Status st = stub->Heartbeat(&ctx, req, &resp);
        // NOT_FOUND: the lease was completed meanwhile; still an answered heartbeat.
        if (st.ok() || st.error_code() == grpc::StatusCode::NOT_FOUND) {
          heartbeat_ms.push_back(Ms(Clock::now() - t0));
        }
      }
      std::this_thread::sleep_for(pause);
    }
  };
  const double cpu_before = CpuSeconds((*coordinator)->pid());
  const Clock::time_point started = Clock::now();
  std::vector<std::thread> threads;
  threads.reserve(streams);
  for (int i = 0; i < streams; ++i) threads.emplace_back(worker, i);
  std::thread hb(heartbeater);
  for (auto& t : threads) t.join();
  done = true;
  hb.join();
  const double coordinator_cpu = CpuSeconds((*coordinator)->pid()) - cpu_before;
  const double wall = std::chrono::duration<double>(Clock::now() - started).count();

  // The job must now finalize and succeed with exactly the expected scores.
  auto client = emar::v1::EvaluationService::NewStub(OwnChannel(server));
  emar::v1::Job job;
  emar::testing::PollUntil(
      [&] {
        emar::v1::GetJobRequest req;
        req.set_job_id(job_id);
        grpc::ClientContext ctx;
        return client->GetJob(&ctx, req, &job).ok() &&
               (job.state() == emar::v1::JOB_STATE_SUCCEEDED ||
                job.state() == emar::v1::JOB_STATE_FAILED ||
                job.state() == emar::v1::JOB_STATE_CANCELLED);
      },
      absl::Seconds(120), absl::Milliseconds(50));
  bool report_ok = job.state() == emar::v1::JOB_STATE_SUCCEEDED;
  if (report_ok) {
    emar::v1::GetReportRequest req;
    req.set_job_id(job_id);
    emar::v1::Report report;
    grpc::ClientContext ctx;
    report_ok = client->GetReport(&ctx, req, &report).ok() && report.candidates_size() == 1;
    if (report_ok) {
      const auto& c = report.candidates(0);
      const double got[4] = {c.target().base().value(), c.target().candidate().value(),
                             c.benchmark().base().value(), c.benchmark().candidate().value()};
      for (int f = 0; f < 4; ++f) report_ok &= got[f] == ExpectedScore(f, rows);
    }
  } else {
    std::cerr << "job " << job_id << " ended " << job.state() << ": " << job.error() << "\n";
  }
  (*coordinator)->Signal(SIGTERM).IgnoreError();
  auto exit = (*coordinator)->Wait(absl::Seconds(20));

  std::vector<double> all_lease, all_complete, all_cycle;
  for (int i = 0; i < streams; ++i) {
    all_lease.insert(all_lease.end(), lease_ms[i].begin(), lease_ms[i].end());
    all_complete.insert(all_complete.end(), complete_ms[i].begin(), complete_ms[i].end());
    all_cycle.insert(all_cycle.end(), cycle_ms[i].begin(), cycle_ms[i].end());
  }
  const double seconds = std::chrono::duration<double>(last - first).count();
  std::cout << absl::StrFormat(
                   "{\"shards\": %d, \"streams\": %d, \"seconds\": %.3f, \"cycles_per_s\": %.0f, "
                   "\"lease_ms\": {\"p50\": %.2f, \"p99\": %.2f}, "
                   "\"complete_ms\": {\"p50\": %.2f, \"p99\": %.2f}, "
                   "\"cycle_ms\": {\"p50\": %.2f, \"p99\": %.2f}, "
                   "\"heartbeat_ms\": {\"n\": %d, \"p50\": %.2f, \"p99\": %.2f, \"max\": %.2f}, "
                   "\"coordinator_cpu_s\": %.2f, \"coordinator_cores\": %.2f, "
                   "\"combined\": %s, \"combined_leases\": %d, \"connections\": %d, "
                   "\"errors\": %d, \"report_ok\": %s, \"coordinator_exit\": \"%s\"}",
                   completed.load(), streams, seconds,
                   static_cast<double>(completed.load()) / seconds,
                   emar::Percentile(all_lease, 0.5, NAN), emar::Percentile(all_lease, 0.99, NAN),
                   emar::Percentile(all_complete, 0.5, NAN),
                   emar::Percentile(all_complete, 0.99, NAN), emar::Percentile(all_cycle, 0.5, NAN),
                   emar::Percentile(all_cycle, 0.99, NAN), static_cast<int>(heartbeat_ms.size()),
                   emar::Percentile(heartbeat_ms, 0.5, NAN),
                   emar::Percentile(heartbeat_ms, 0.99, NAN),
                   emar::Percentile(heartbeat_ms, 1.0, NAN), coordinator_cpu,
                   wall > 0 ? coordinator_cpu / wall : 0.0, combined ? "true" : "false",
                   static_cast<int>(combined_leases.load()), static_cast<int>(channels.size()),
                   errors.load(), report_ok ? "true" : "false",
                   exit.ok() ? exit->ToString() : std::string(exit.status().message()))
            << std::endl;
  return report_ok && errors.load() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  emar::UseReleaseMutexChecks();
  absl::ParseCommandLine(argc, argv);
  return Main();
}
