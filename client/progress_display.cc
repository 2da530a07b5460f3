#include "client/progress_display.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/job_state.h"

namespace emar {
namespace {

// 1234567 -> "1,234,567".
std::string Grouped(int64_t n) {
  std::string digits = absl::StrCat(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

// 75 s -> "1:15"; an hour or more -> "1:02:03".
std::string Clock(absl::Duration d) {
  int64_t s = absl::ToInt64Seconds(d);
  if (s < 0) s = 0;
  if (s >= 3600) return absl::StrFormat("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
  return absl::StrFormat("%d:%02d", s / 60, s % 60);
}

std::string Bytes(int64_t b) {
  if (b >= (int64_t{1} << 30)) return absl::StrFormat("%.2f GiB", b / 1073741824.0);
  if (b >= (1 << 20)) return absl::StrFormat("%.1f MiB", b / 1048576.0);
  return absl::StrFormat("%.1f KiB", b / 1024.0);
}

std::string PhaseOf(const emar::v1::Job& job) {
  switch (job.state()) {
    case emar::v1::JOB_STATE_QUEUED:
      return job.progress().shards_total() > 0 &&
                     job.progress().shards_done() == job.progress().shards_total()
                 ? "bootstrap"
                 : "queued";
    case emar::v1::JOB_STATE_RUNNING:
      return job.progress().shards_done() >= job.progress().shards_total() ? "bootstrap"
                                                                           : "scoring";
    case emar::v1::JOB_STATE_SUCCEEDED:
      return "done";
    case emar::v1::JOB_STATE_FAILED:
      return "failed";
    case emar::v1::JOB_STATE_CANCELLED:
      return "cancelled";
    default:
      return "unknown";
  }
}

}  // namespace

ProgressDisplay::ProgressDisplay(FILE* out, ProgressOptions options)
    : out_(out), options_(std::move(options)), start_(options_.now()) {
  thread_ = std::thread([this] { Loop(); });
}

ProgressDisplay::~ProgressDisplay() { Finish(); }

void ProgressDisplay::Loop() {
  absl::MutexLock lock(&mu_);
  const absl::Duration every = options_.terminal
                                   ? std::min(options_.min_redraw, options_.redraw_every)
                                   : options_.plain_every;
  auto finished = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return finished_; };
  while (!mu_.AwaitWithTimeout(absl::Condition(&finished), every)) {
    if (phase_.empty()) continue;
    if (!options_.terminal || pending_ || options_.now() - last_draw_ >= options_.redraw_every) {
      DrawLocked(/*force=*/false);
    }
  }
}

void ProgressDisplay::Transfer(const std::string& phase, int64_t done, int64_t total) {
  absl::MutexLock lock(&mu_);
  const bool changed = phase != phase_;
  if (changed) phase_since_ = options_.now();
  phase_ = phase;
  bytes_done_ = done;
  bytes_total_ = total;
  DrawLocked(changed);
}

void ProgressDisplay::Update(const emar::v1::Job& job) {
  absl::MutexLock lock(&mu_);
  const std::string phase = PhaseOf(job);
  if (!have_job_ && phase_.empty() && IsTerminalJobState(job.state())) {
    finished_ = true;  // already over when first seen (watch of a finished job): nothing to show
    return;
  }
  const bool changed = phase != phase_;
  const int scored_shards = job.progress().shards_done() - job.progress().shards_reused();
  if (scoring_since_ == absl::InfiniteFuture() && phase == "scoring") {
    // The rate counts from here: shards already done (reused, or before a re-attach) are not
    // part of it.
    scoring_since_ = options_.now();
    examples_at_start_ = job.progress().examples_scored();
    shards_at_start_ = scored_shards;
  }
  job_ = job;
  have_job_ = true;
  phase_ = phase;
  DrawLocked(changed || (!options_.terminal && IsTerminalJobState(job.state())));
}

void ProgressDisplay::Note(const std::string& text) {
  absl::MutexLock lock(&mu_);
  if (options_.terminal && drawn_width_ > 0) {
    std::fprintf(out_, "\r%s\r", std::string(drawn_width_, ' ').c_str());
    drawn_width_ = 0;
  }
  std::fprintf(out_, "emarctl: %s\n", text.c_str());
  std::fflush(out_);
  if (options_.terminal && !phase_.empty() && !finished_) {
    last_draw_ = absl::InfinitePast();
    DrawLocked(/*force=*/true);
  }
}

void ProgressDisplay::Finish() {
  {
    absl::MutexLock lock(&mu_);
    if (!finished_) {
      if (options_.terminal && pending_) {  // the last change, however soon after the last draw
        last_draw_ = absl::InfinitePast();
        DrawLocked(/*force=*/true);
      }
      finished_ = true;
      if (options_.terminal && drawn_width_ > 0) {
        std::fputs("\n", out_);
        std::fflush(out_);
      }
    }
  }
  if (thread_.joinable()) thread_.join();  // the caller's thread, never the redrawing one
}

std::string ProgressDisplay::Line() {
  absl::MutexLock lock(&mu_);
  return LineLocked();
}

std::string ProgressDisplay::LineLocked() {
  const absl::Time now = options_.now();
  std::string line = absl::StrCat("[", phase_, "]");
  if (!have_job_) {
    if (phase_ == "planning") {
      return absl::StrCat(line, " the coordinator is checking and sharding the inputs  elapsed ",
                          Clock(now - start_));
    }
    if (phase_ == "uploading" && bytes_total_ == 0) {
      return absl::StrCat(line, " nothing to send: the coordinator has every input");
    }
    absl::StrAppend(&line, " ", Bytes(bytes_done_), " of ", Bytes(bytes_total_));
    // The phase's own rate (hashing and uploading differ), once it has run a second.
    const double seconds = absl::ToDoubleSeconds(now - phase_since_);
    if (seconds >= 1 && bytes_done_ > 0) {
      absl::StrAppend(&line, absl::StrFormat("  %.1f MiB/s", bytes_done_ / 1048576.0 / seconds));
    }
    absl::StrAppend(&line, "  elapsed ", Clock(now - start_));
    return line;
  }
  const emar::v1::JobProgress& p = job_.progress();
  absl::StrAppend(&line, " ", p.shards_done(), "/", p.shards_total(), " shards");
  if (p.shards_reused() > 0) absl::StrAppend(&line, " (", p.shards_reused(), " reused)");
  absl::StrAppend(&line, "  ", Grouped(p.examples_scored()), " examples");
  if (scoring_since_ != absl::InfiniteFuture()) {
    const double seconds = absl::ToDoubleSeconds(now - scoring_since_);
    const int64_t examples = p.examples_scored() - examples_at_start_;
    const int shards = p.shards_done() - p.shards_reused() - shards_at_start_;
    if (seconds >= 1 && examples > 0) {
      absl::StrAppend(&line, "  ", Grouped(std::llround(examples / seconds)), " ex/s");
    }
    const int remaining = p.shards_total() - p.shards_done();
    if (phase_ == "scoring" && shards > 0 && remaining > 0 &&
        seconds >= absl::ToDoubleSeconds(kEtaAfter)) {
      absl::StrAppend(&line, "  ETA ", Clock(absl::Seconds(seconds * remaining / shards)));
    }
  }
  absl::StrAppend(&line, "  elapsed ", Clock(now - start_), "  ", job_.job_id());
  if (phase_ == "queued") absl::StrAppend(&line, "  (waiting for a worker)");
  if (phase_ == "bootstrap") absl::StrAppend(&line, "  (computing intervals and tests)");
  return line;
}

void ProgressDisplay::DrawLocked(bool force) {
  if (finished_) return;
  if (options_.terminal) {
    const absl::Time now = options_.now();
    if (now - last_draw_ < options_.min_redraw) {
      pending_ = true;  // drawn by the loop once min_redraw has passed, or by Finish
      return;
    }
    last_draw_ = now;
    pending_ = false;
    const std::string line = LineLocked();
    // Back to the line's start, the new text, then blanks over what the old text left.
    std::string padded = line;
    if (padded.size() < drawn_width_) padded.append(drawn_width_ - padded.size(), ' ');
    std::fprintf(out_, "\r%s", padded.c_str());
    drawn_width_ = line.size();
    std::fflush(out_);
    return;
  }
  const std::string line = LineLocked();
  const absl::Time now = options_.now();
  if (!force && now - last_plain_ < options_.plain_every) return;
  last_plain_ = now;
  std::fprintf(out_, "emarctl: %s\n", line.c_str());
  std::fflush(out_);
}

}  // namespace emar
