// Draws bootstrap resamples of one dataset and scores every system on each, paired: a resample
// picks n examples with replacement, and the base and every candidate are scored on the same
// picks (docs/statistics.md). A resample's score is Finalize() of the multiplicity-weighted sum of
// the rows, so corpus metrics (BLEU, macro-F1, perplexity) are resampled exactly.
//
//   ASSIGN_OR_RETURN(BootstrapResampler resampler, BootstrapResampler::Create(target_rows));
//   ASSIGN_OR_RETURN(ResampledScores scores,
//                    resampler.Run(/*resamples=*/1000, /*seed=*/12345, /*stream=*/0, 0));
//   std::optional<double> t1_of_resample_7 = scores.value(7, /*system=*/1);
//
// Two exact methods, which give the same distribution as drawing n indices uniformly:
//  * kJointCells: rows that are identical across all systems form a cell; the resample is one
//    Multinomial(n; count_j / n) draw over the J cells. Cost per resample grows with J, not n.
//    Always used for is_binary() metrics (at most 2^systems cells: "both right", "only base
//    right", ...), and for any metric whose distinct joint rows number at most n/128 (labels).
//  * kExampleDraws: per resample, Multinomial block totals over blocks of 4096 examples, then
//    that many uniform picks inside each block, summed straight into the per-resample totals
//    (no gather of rows into a copy). Used for everything else.
//
// Determinism: resample r of stream s draws from DeterministicRng::ForStream(seed, {s, r, ...})
// only, so the result is bit-identical for any num_threads and on any machine. kJointCells
// sorts cells canonically, so its result also does not depend on row order; kExampleDraws picks
// examples by position, so reordering rows changes which rows a resample picks (a statistically
// equivalent but different draw); same rows in the same order give the same bits.
//
// Metrics that do not use labels must keep metric.h's default additive Accumulate (acc +=
// weight * row): the resamplers sum rows themselves and Accumulate the sums once.
//
// A BootstrapResampler copies the rows it needs at Create(); only the Metric must outlive it.
// Run() is const and thread-safe.
#ifndef EMAR_EVAL_STATS_BOOTSTRAP_RESAMPLER_H_
#define EMAR_EVAL_STATS_BOOTSTRAP_RESAMPLER_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "eval/metrics/metric.h"
#include "eval/stats/dataset_rows.h"

namespace emar {

enum class ResamplingMethod { kAuto, kJointCells, kExampleDraws };
absl::string_view ResamplingMethodName(ResamplingMethod m);  // "auto", "joint_cells", ...

// The threads a resampling with `num_threads` uses (before the cap at its resamples): the value
// itself when positive, else min(hardware threads, 8).
int ResolveBootstrapThreads(int num_threads);

// Scores of every system on the full data and on each resample. A score is nullopt where the
// metric is undefined (e.g. a resample with no tokens).
struct ResampledScores {
  size_t num_systems = 0;
  int64_t resamples = 0;
  std::vector<std::optional<double>> point;   // [system], each row once
  std::vector<std::optional<double>> values;  // [resample * num_systems + system]

  std::optional<double> value(int64_t resample, size_t system) const {
    return values[static_cast<size_t>(resample) * num_systems + system];
  }
};

class BootstrapResampler {
 public:
  // Prepares the chosen method. kJointCells is honoured whatever the number of cells (useful
  // for tests); kAuto picks as described above.
  static absl::StatusOr<BootstrapResampler> Create(
      const ValidRows& rows, ResamplingMethod method = ResamplingMethod::kAuto);

  ResamplingMethod method() const { return method_; }       // never kAuto
  size_t num_cells() const { return cell_counts_.size(); }  // 0 for kExampleDraws
  size_t num_systems() const { return num_systems_; }
  size_t n() const { return n_; }

  // Resamples 0..resamples-1 of `stream` (0 = target, 1 = benchmark in a study). num_threads
  // <= 0 picks min(hardware threads, 8); any value gives the same bits.
  // INVALID_ARGUMENT unless 1 <= resamples <= 10,000,000.
  absl::StatusOr<ResampledScores> Run(int64_t resamples, uint64_t seed, uint64_t stream,
                                      int num_threads) const;

 private:
  BootstrapResampler() = default;
  bool BuildCells(const DatasetRows& rows, size_t max_cells);
  void BuildPacked(const DatasetRows& rows);
  void RunCells(int64_t first, int64_t last, uint64_t seed, uint64_t stream,
                ResampledScores* out) const;
  void RunExamples(int64_t first, int64_t last, uint64_t seed, uint64_t stream,
                   ResampledScores* out) const;
  // Finalizes per-system sums (num_systems_ * width_) of one resample into `out`.
  void ScoreSums(absl::Span<const double> sums, std::optional<double>* out) const;

  const Metric* metric_ = nullptr;
  size_t num_labels_ = 0;
  size_t n_ = 0;
  size_t num_systems_ = 0;
  size_t width_ = 0;  // stats_width
  bool additive_ = true;
  ResamplingMethod method_ = ResamplingMethod::kJointCells;
  std::vector<std::optional<double>> point_;
  // kJointCells: counts and one representative joint row (num_systems_ * width_) per cell.
  std::vector<uint64_t> cell_counts_;
  std::vector<double> cell_rows_;
  // kExampleDraws: joint rows, n_ x (num_systems_ * width_), as int32 when every value is an
  // integer that small (sums are then exact and order-free) or else as doubles.
  // Rows of 5-32 integer columns with every |value| <= 32767 go to packed_int16_ instead, each
  // row padded with zeros to int16_stride_ (a multiple of 8) lanes.
  std::vector<int32_t> packed_int_;
  std::vector<int16_t> packed_int16_;
  size_t int16_stride_ = 0;
  int64_t max_abs_int_ = 0;  // largest |value| in packed_int_ or packed_int16_
  std::vector<double> packed_double_;
};

// Scores every system on explicitly given resamples: indices[r] lists the picked rows of
// resample r (any length; Finalize gets n = its length). Rows are accumulated in the given
// order. For reproducing reference vectors whose index matrices are stored.
// INVALID_ARGUMENT for an index >= rows.n or an empty index list.
absl::StatusOr<ResampledScores> ScoresFromIndices(const ValidRows& rows,
                                                  absl::Span<const std::vector<uint32_t>> indices);

}  // namespace emar

#endif  // EMAR_EVAL_STATS_BOOTSTRAP_RESAMPLER_H_
