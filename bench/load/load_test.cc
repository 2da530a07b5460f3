// load_test: a bounded load test of a real EMAR cluster. One emar-coordinator and
// --workers emar-worker processes on 127.0.0.1; --clients threads, each an EvaluationClient
// submitting --jobs_per_client jobs: mostly good ones with independently known scores, some with
// bad inputs, some cancelled right after submission. Meanwhile this (main) thread SIGKILLs a
// random worker about every --kill_interval_ms and starts a replacement, until the clients are
// done. Then every job is judged (outcome_checker.h), ListJobs must show exactly the jobs created,
// and a table of outcomes, wall time and jobs/s is printed.
//
// Exit status: 0 when every check passed, 1 when one failed, 2 when the run hit
// --deadline_seconds (the coordinator is then killed so the clients return). See bench/load/run.sh.
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "bench/load/job_mix.h"
#include "bench/load/load_client.h"
#include "bench/load/load_cluster.h"
#include "bench/load/outcome_checker.h"
#include "bench/percentile.h"
#include "common/flag_names.h"
#include "emar/v1/service.grpc.pb.h"
#include "tests/system/process.h"

ABSL_FLAG(int32_t, clients, 50, "concurrent client threads");
ABSL_FLAG(int32_t, jobs_per_client, 4, "jobs each client submits, one after another");
ABSL_FLAG(int32_t, workers, 3, "emar-worker processes alive at any time");
ABSL_FLAG(int32_t, worker_threads, 1, "emar-worker --threads");
ABSL_FLAG(int32_t, kill_interval_ms, 2000,
          "mean pause between worker kills (uniform +-25 %); 0: no kills");
ABSL_FLAG(int32_t, deadline_seconds, 300, "the whole run, generation to shutdown");
ABSL_FLAG(double, bad_fraction, 0.15, "share of jobs with one bad input");
ABSL_FLAG(double, cancel_fraction, 0.15, "share of jobs cancelled right after CreateJob");
ABSL_FLAG(int32_t, max_cancel_delay_ms, 0,
          "cancel jobs wait uniformly up to this long before CancelJob (0: cancel at once); "
          "a few seconds makes cancellation race completion");
ABSL_FLAG(int64_t, rows_per_shard, 1000, "emar-coordinator --rows_per_shard");
ABSL_FLAG(int32_t, lease_ttl_seconds, 3, "emar-coordinator --lease_ttl_seconds");
ABSL_FLAG(int32_t, max_attempts, 10,
          "emar-coordinator --max_attempts (each kill of a shard's worker costs one attempt)");
ABSL_FLAG(int32_t, resamples, 200, "bootstrap resamples of each job");
ABSL_FLAG(uint64_t, seed, 1, "jobs and kills are drawn from this seed");
ABSL_FLAG(std::string, bin_dir, "",
          "directory of emar-coordinator and emar-worker (default: ../bin beside this binary)");
ABSL_FLAG(bool, keep_temp, false, "keep the temporary directory (jobs, data, process logs)");

namespace emar::load {
namespace {

using emar::v1::Job;

std::string DefaultBinDir() {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "build/bin";
  return (self.parent_path().parent_path() / "bin").string();
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five;
  in >> one >> five;
  return absl::StrCat(one, " ", five);
}

// ListJobs with a deadline (the clients' library has none; a hung coordinator must not hang us).
absl::StatusOr<std::vector<Job>> ListJobs(const std::string& server, int limit) {
  auto stub = emar::v1::EvaluationService::NewStub(
      grpc::CreateChannel(server, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  emar::v1::ListJobsRequest req;
  req.set_limit(limit);
  emar::v1::ListJobsResponse resp;
  const grpc::Status st = stub->ListJobs(&ctx, req, &resp);
  if (!st.ok()) {
    return absl::UnavailableError(absl::StrCat("ListJobs: ", st.error_message()));
  }
  return std::vector<Job>(resp.jobs().begin(), resp.jobs().end());
}

struct ChaosStats {
  int kills = 0;
  int unexpected_exits = 0;
  bool deadline_hit = false;
  bool coordinator_died = false;
};

// Kills and replaces workers until every client is done, the deadline passes or the
// coordinator dies. `problems` gets anything unexpected.
ChaosStats RunChaos(LoadCluster& cluster, const std::atomic<int>& clients_done, int clients,
                    absl::Time deadline, std::vector<std::string>* problems) {
  ChaosStats stats;
  std::mt19937_64 rng(absl::GetFlag(FLAGS_seed) * 7919 + 1);
  const int interval_ms = absl::GetFlag(FLAGS_kill_interval_ms);
  auto next_pause = [&] {
    return absl::Milliseconds(interval_ms * 3 / 4 +
                              static_cast<int>(rng() % (interval_ms / 2 + 1)));
  };
  absl::Time next_kill = absl::Now() + next_pause();
  while (clients_done.load() < clients) {
    const absl::Time now = absl::Now();
    if (now >= deadline) {
      stats.deadline_hit = true;
      break;
    }
    if (!cluster.CoordinatorRunning()) {
      stats.coordinator_died = true;
      problems->push_back("emar-coordinator ended during the run: " + cluster.CoordinatorLogTail());
      break;
    }
    for (const std::string& gone : cluster.ReapUnexpectedWorkerExits()) {
      ++stats.unexpected_exits;
      problems->push_back(gone);
    }
    if (interval_ms > 0 && now >= next_kill && cluster.live_workers() > 0) {
      if (absl::Status s = cluster.KillWorker(rng() % cluster.live_workers()); !s.ok()) {
        problems->push_back(absl::StrCat("killing a worker: ", s.message()));
      }
      ++stats.kills;
      next_kill = now + next_pause();
    }
    while (cluster.live_workers() < static_cast<size_t>(absl::GetFlag(FLAGS_workers))) {
      if (absl::Status s = cluster.StartWorker(); !s.ok()) {
        problems->push_back(absl::StrCat("starting a worker: ", s.message()));
        break;
      }
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return stats;
}

int Main() {
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + absl::Seconds(absl::GetFlag(FLAGS_deadline_seconds));
  JobMixOptions mix;
  mix.clients = absl::GetFlag(FLAGS_clients);
  mix.jobs_per_client = absl::GetFlag(FLAGS_jobs_per_client);
  mix.bad_fraction = absl::GetFlag(FLAGS_bad_fraction);
  mix.cancel_fraction = absl::GetFlag(FLAGS_cancel_fraction);
  mix.rows_per_shard = absl::GetFlag(FLAGS_rows_per_shard);
  mix.bootstrap_resamples = absl::GetFlag(FLAGS_resamples);
  mix.max_cancel_delay_ms = absl::GetFlag(FLAGS_max_cancel_delay_ms);
  mix.seed = absl::GetFlag(FLAGS_seed);
  if (mix.clients <= 0 || mix.jobs_per_client <= 0 || absl::GetFlag(FLAGS_workers) <= 0) {
    std::cerr << "load_test: --clients, --jobs_per_client and --workers must be positive\n";
    return 1;
  }
  LoadClusterOptions cluster_options;
  cluster_options.bin_dir =
      absl::GetFlag(FLAGS_bin_dir).empty() ? DefaultBinDir() : absl::GetFlag(FLAGS_bin_dir);
  cluster_options.workers = absl::GetFlag(FLAGS_workers);
  cluster_options.worker_threads = absl::GetFlag(FLAGS_worker_threads);
  cluster_options.rows_per_shard = mix.rows_per_shard;
  cluster_options.lease_ttl_seconds = absl::GetFlag(FLAGS_lease_ttl_seconds);
  cluster_options.max_attempts = absl::GetFlag(FLAGS_max_attempts);

  auto root = emar::testing::TempDir::Create("load");
  if (!root.ok()) {
    std::cerr << "load_test: " << root.status() << "\n";
    return 1;
  }
  const std::string jobs_dir = root->Join("jobs");
  ::mkdir(jobs_dir.c_str(), 0755);
  auto jobs = WriteJobMix(mix, jobs_dir);
  if (!jobs.ok()) {
    std::cerr << "load_test: generating jobs: " << jobs.status() << "\n";
    return 1;
  }
  const int total = mix.clients * mix.jobs_per_client;
  std::cout << absl::StrFormat("host: %d cores, load average %s; generated %d jobs in %.1f s\n",
                               std::thread::hardware_concurrency(), LoadAverage(), total,
                               absl::ToDoubleSeconds(absl::Now() - start));

  auto cluster = LoadCluster::Start(cluster_options, root->path());
  if (!cluster.ok()) {
    std::cerr << "load_test: " << cluster.status() << "\n";
    return 1;
  }
  const std::string server = (*cluster)->server();
  std::cout << "coordinator on " << server << ", " << cluster_options.workers << " workers; "
            << mix.clients << " clients x " << mix.jobs_per_client << " jobs" << std::endl;

  // Clients on their own threads; the main thread plays chaos (it started the processes).
  InFlightJobs in_flight;
  std::vector<std::vector<JobRecord>> records(static_cast<size_t>(mix.clients));
  std::atomic<int> clients_done{0};
  const absl::Time clients_start = absl::Now();
  std::vector<std::thread> threads;
  threads.reserve(mix.clients);
  for (int c = 0; c < mix.clients; ++c) {
    threads.emplace_back([&, c] {
      records[c] = LoadClient(server, &in_flight).Run((*jobs)[c]);
      clients_done.fetch_add(1);
    });
  }
  std::vector<std::string> run_problems;
  const ChaosStats chaos = RunChaos(**cluster, clients_done, mix.clients, deadline, &run_problems);
  if (chaos.deadline_hit || chaos.coordinator_died) {
    const auto stuck = in_flight.Snapshot();
    std::cout << (chaos.deadline_hit ? "DEADLINE HIT" : "COORDINATOR DIED") << " with "
              << mix.clients - clients_done.load() << " clients busy, " << stuck.size()
              << " jobs in flight:\n";
    auto listed = ListJobs(server, 2 * total + 10);
    std::map<std::string, Job> by_id;
    if (listed.ok()) {
      for (const Job& j : *listed) by_id[j.job_id()] = j;
    }
    for (const auto& [request_id, job_id] : stuck) {
      auto it = by_id.find(job_id);
      std::cout << "  " << request_id << " " << job_id << " "
                << (it == by_id.end() ? "(not listed)" : it->second.ShortDebugString()) << "\n";
    }
    std::cout << "coordinator stderr tail:\n" << (*cluster)->CoordinatorLogTail() << std::endl;
    (*cluster)->KillCoordinator();  // every blocked RPC of the clients returns
  }
  for (std::thread& t : threads) t.join();
  const absl::Time clients_end = absl::Now();

  // Judge.
  std::vector<const PlannedJob*> planned;
  std::vector<const JobRecord*> done;
  for (int c = 0; c < mix.clients; ++c) {
    for (size_t j = 0; j < (*jobs)[c].size(); ++j) {
      planned.push_back(&(*jobs)[c][j]);
      done.push_back(&records[c][j]);
    }
  }
  struct KindRow {
    int jobs = 0, passed = 0;
    std::map<std::string, int> outcomes;
  };
  std::map<JobKind, KindRow> rows;
  std::vector<std::string> failures;
  std::vector<double> latencies;
  int64_t shards = 0;
  for (size_t i = 0; i < planned.size(); ++i) {
    const JobVerdict v = CheckJob(*planned[i], *done[i]);
    KindRow& row = rows[planned[i]->kind];
    ++row.jobs;
    ++row.outcomes[v.outcome];
    if (v.problems.empty()) ++row.passed;
    for (const std::string& p : v.problems) {
      failures.push_back(absl::StrCat(planned[i]->name, " (", JobKindName(planned[i]->kind), ", ",
                                      done[i]->job_id, "): ", p));
    }
    if (done[i]->finished) latencies.push_back(absl::ToDoubleSeconds(done[i]->latency));
    if (done[i]->got.state() == emar::v1::JOB_STATE_SUCCEEDED) {
      shards += done[i]->got.progress().shards_total();
    }
  }
  for (std::string& p : run_problems) failures.push_back(std::move(p));
  std::string listing = "not checked (the coordinator is gone)";
  if (!chaos.deadline_hit && !chaos.coordinator_died) {
    auto listed = ListJobs(server, 2 * total + 10);
    if (!listed.ok()) {
      failures.push_back(std::string(listed.status().message()));
      listing = "failed";
    } else {
      std::vector<std::string> p = CheckListing(planned, done, *listed);
      listing =
          absl::StrCat(listed->size(),
                       " jobs listed, one per created request id: ", p.empty() ? "OK" : "MISMATCH");
      for (std::string& s : p) failures.push_back(std::move(s));
    }
  }
  std::vector<std::string> differ = CheckIdenticalInputsAgree(planned, done);
  for (std::string& s : differ) failures.push_back(std::move(s));

  const ShutdownReport bye = (*cluster)->Shutdown(absl::Seconds(15));
  if (!chaos.deadline_hit && !chaos.coordinator_died &&
      (bye.coordinator_needed_sigkill || !bye.coordinator.Exited(0))) {
    failures.push_back(absl::StrCat("emar-coordinator on SIGTERM: ", bye.coordinator.ToString(),
                                    bye.coordinator_needed_sigkill ? " (needed SIGKILL)" : ""));
  }
  for (const std::string& p : bye.worker_problems) failures.push_back(p);
  if (bye.workers_sigkilled > 0) {
    failures.push_back(absl::StrCat(bye.workers_sigkilled, " workers ignored SIGTERM for 15 s"));
  }

  // Report.
  const double wall = absl::ToDoubleSeconds(clients_end - clients_start);
  std::cout << absl::StrFormat("\n%-20s %5s %7s  %s\n", "kind", "jobs", "passed", "outcomes");
  int passed = 0;
  for (const auto& [kind, row] : rows) {
    std::vector<std::string> outs;
    for (const auto& [o, n] : row.outcomes) outs.push_back(absl::StrCat(o, " ", n));
    std::cout << absl::StrFormat("%-20s %5d %7d  %s\n", JobKindName(kind), row.jobs, row.passed,
                                 absl::StrJoin(outs, ", "));
    passed += row.passed;
  }
  std::cout << absl::StrFormat("%-20s %5d %7d\n\n", "total", total, passed);
  std::cout << absl::StrFormat("wall time (clients)  %.1f s\n", wall);
  std::cout << absl::StrFormat(
      "throughput           %.2f jobs/s (%.1f shards/s of succeeded jobs)\n", total / wall,
      static_cast<double>(shards) / wall);
  std::cout << absl::StrFormat("job latency          p50 %.2f s, p95 %.2f s, max %.2f s\n",
                               Percentile(latencies, 0.5, /*if_empty=*/0),
                               Percentile(latencies, 0.95, /*if_empty=*/0),
                               Percentile(latencies, 1.0, /*if_empty=*/0));
  std::cout << absl::StrFormat(
      "worker kills         %d SIGKILL, %d workers started in all, %d "
      "ended on their own\n",
      chaos.kills, (*cluster)->workers_started(), chaos.unexpected_exits);
  std::cout << "ListJobs             " << listing << "\n";
  std::cout << "identical inputs     " << (differ.empty() ? "identical reports" : "DIFFER") << "\n";
  std::cout << absl::StrFormat(
      "shutdown             coordinator %s%s; %d workers exited 0\n", bye.coordinator.ToString(),
      chaos.deadline_hit || chaos.coordinator_died ? " (ended before shutdown)"
      : bye.coordinator_needed_sigkill             ? " after SIGKILL"
                                                   : " on SIGTERM",
      bye.workers_stopped);
  for (size_t i = 0; i < failures.size() && i < 40; ++i)
    std::cout << "FAIL: " << failures[i] << "\n";
  if (failures.size() > 40) std::cout << "... " << failures.size() - 40 << " more failures\n";
  if (absl::GetFlag(FLAGS_keep_temp)) {
    // Moved out of TempDir's way: it removes only its own path.
    const std::string kept = root->path() + "-kept";
    std::error_code ec;
    std::filesystem::rename(root->path(), kept, ec);
    std::cout << (ec ? "could not keep " + root->path() + ": " + ec.message()
                     : "kept " + kept + " (process logs in logs/)")
              << "\n";
  }
  const int code = chaos.deadline_hit ? 2 : failures.empty() ? 0 : 1;
  std::cout << (code == 0   ? "RESULT: PASS"
                : code == 2 ? "RESULT: DEADLINE"
                            : "RESULT: FAIL")
            << std::endl;
  return code;
}

}  // namespace
}  // namespace emar::load

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("load_test [--clients 50] [--jobs_per_client 4] [--workers 3]");
  emar::NormalizedArgs args(argc, argv);
  absl::ParseCommandLine(args.argc(), args.argv());
  return emar::load::Main();
}
