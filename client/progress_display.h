// What a waiting emarctl shows on stderr while a job is uploaded, scored and finalized.
//
// On a terminal: one line, redrawn in place at most every 200 ms (a change drawn late by up to
// that), and every second so the clock moves:
//   [scoring] 3/8 shards (2 reused)  1,200 examples  950 ex/s  ETA 0:07  elapsed 0:04  job-…
// Elsewhere (a pipeline's log): the same text as plain lines, at every phase change and every
// `plain_every` (5 s) in between, so a log shows life without drowning in it. Phases: hashing,
// uploading (bytes of every file the coordinator may lack, known before the first is sent),
// planning (CreateJob: the coordinator checks and shards the inputs), queued (no worker has
// leased a shard), scoring, bootstrap (every shard is in: the report's intervals and tests are
// being computed), then the end. Rates appear after a second of their phase, the ETA after
// kEtaAfter of scoring: an ETA from the first shard or two is noise.
//
//   ProgressDisplay progress(stderr, {.terminal = isatty(2)});
//   client.Submit(job, id, [&](auto phase, auto done, auto total) { progress.Transfer(...); });
//   client.Watch(id, [&](const Job& j) { progress.Update(j); });
//   progress.Finish();
//
// Thread-safe; a background thread redraws (terminal) or repeats the last line (plain). Never
// writes to stdout, so JSON there stays clean.
#ifndef EMAR_CLIENT_PROGRESS_DISPLAY_H_
#define EMAR_CLIENT_PROGRESS_DISPLAY_H_

#include <cstdio>
#include <functional>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "emar/v1/job.pb.h"

namespace emar {

struct ProgressOptions {
  bool terminal = false;  // redraw one line in place (else plain lines)
  absl::Duration plain_every = absl::Seconds(5);
  absl::Duration redraw_every = absl::Seconds(1);                // terminal: at least this often
  absl::Duration min_redraw = absl::Milliseconds(200);           // terminal: at most this often
  std::function<absl::Time()> now = [] { return absl::Now(); };  // tests pass their own clock
};

// Scoring must have run this long before an ETA is shown.
inline constexpr absl::Duration kEtaAfter = absl::Seconds(3);

class ProgressDisplay {
 public:
  ProgressDisplay(FILE* out, ProgressOptions options);
  ~ProgressDisplay();  // Finish()
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;

  // Before the job exists: `phase` is "hashing" or "uploading", bytes done of total, or
  // "planning" (no bytes).
  void Transfer(const std::string& phase, int64_t done, int64_t total);
  // A job snapshot (from Watch).
  void Update(const emar::v1::Job& job);
  // A line of its own ("emarctl: TEXT"), above the live line on a terminal (which is redrawn).
  void Note(const std::string& text);
  // Stops the redraws; on a terminal ends the live line with a newline. Idempotent.
  void Finish();

  // The line for the current state, without terminal control characters (tests).
  std::string Line();

 private:
  std::string LineLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Draws the line: in place on a terminal; as a plain line when `force` or when plain_every
  // passed since the last one.
  void DrawLocked(bool force) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Loop();

  FILE* const out_;
  const ProgressOptions options_;
  absl::Mutex mu_;
  const absl::Time start_;
  std::string phase_ ABSL_GUARDED_BY(mu_);
  int64_t bytes_done_ ABSL_GUARDED_BY(mu_) = 0, bytes_total_ ABSL_GUARDED_BY(mu_) = 0;
  emar::v1::Job job_ ABSL_GUARDED_BY(mu_);
  bool have_job_ ABSL_GUARDED_BY(mu_) = false;
  // Scoring rate and ETA: measured from the first snapshot that showed scoring under way.
  absl::Time scoring_since_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  int64_t examples_at_start_ ABSL_GUARDED_BY(mu_) = 0;
  int shards_at_start_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_plain_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time phase_since_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  size_t drawn_width_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_draw_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();  // terminal
  bool pending_ ABSL_GUARDED_BY(mu_) = false;  // terminal: a change not drawn yet
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace emar

#endif  // EMAR_CLIENT_PROGRESS_DISPLAY_H_
