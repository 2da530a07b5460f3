#include "eval/stats/bootstrap_resampler.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "eval/stats/deterministic_rng.h"

namespace emar {
namespace {

constexpr int kBlockBits = 12;
constexpr size_t kBlockSize = size_t{1} << kBlockBits;  // examples per draw block
constexpr uint64_t kBlockMask = kBlockSize - 1;
constexpr int64_t kMaxResamples = 10'000'000;

// Calls visit(index) for `draws` uniform picks in [0, size). A full block takes kBlockBits-bit
// fields of each 64-bit word (exactly uniform); a partial block uses Lemire's method.
template <typename Visit>
inline void DrawInBlock(DeterministicRng& rng, uint64_t draws, size_t size, Visit&& visit) {
  constexpr uint64_t kFields = 64 / kBlockBits;
  if (size == kBlockSize) {
    uint64_t t = 0;
    for (; t + kFields <= draws; t += kFields) {
      uint64_t word = rng.Next();
      for (uint64_t f = 0; f < kFields; ++f, word >>= kBlockBits) {
        visit(static_cast<uint32_t>(word & kBlockMask));
      }
    }
    if (t < draws) {
      uint64_t word = rng.Next();
      for (; t < draws; ++t, word >>= kBlockBits) visit(static_cast<uint32_t>(word & kBlockMask));
    }
  } else {
    for (uint64_t t = 0; t < draws; ++t) visit(static_cast<uint32_t>(rng.UniformBelow(size)));
  }
}

// Adds row `idx` of a block into `sum` for a compile-time width (0 = use `width`).
template <int kWidth, typename T, typename A>
inline void AddRow(const T* block, size_t width, uint32_t idx, A* sum) {
  const size_t w = kWidth > 0 ? static_cast<size_t>(kWidth) : width;
  const T* row = block + static_cast<size_t>(idx) * w;
  for (size_t d = 0; d < w; ++d) sum[d] += row[d];
}

// Integer rows: sums are exact, so one running sum per resample suffices. The block's sum lives
// in locals (not behind `sum`, which could alias the generator's state), in int32 lanes when
// draws * max|value| cannot overflow them, else in int64.
template <int kWidth, typename Lane>
void GatherIntLanes(DeterministicRng& rng, uint64_t draws, size_t size, const int32_t* block,
                    int64_t* sum) {
  Lane local[kWidth] = {};
  DrawInBlock(rng, draws, size, [&](uint32_t idx) {
    const int32_t* row = block + static_cast<size_t>(idx) * kWidth;
    for (int d = 0; d < kWidth; ++d) local[d] += static_cast<Lane>(row[d]);
  });
  for (int d = 0; d < kWidth; ++d) sum[d] += local[d];
}

template <int kWidth>
void GatherInt(DeterministicRng& rng, uint64_t draws, size_t size, const int32_t* block,
               size_t width, int64_t max_abs, int64_t* sum) {
  if constexpr (kWidth > 0) {
    if (static_cast<double>(draws) * static_cast<double>(max_abs) < 2147483647.0) {
      GatherIntLanes<kWidth, int32_t>(rng, draws, size, block, sum);
    } else {
      GatherIntLanes<kWidth, int64_t>(rng, draws, size, block, sum);
    }
  } else {
    DrawInBlock(rng, draws, size, [&](uint32_t idx) { AddRow<0>(block, width, idx, sum); });
  }
}

// Narrow integer rows (every |value| <= 32767, e.g. BLEU's per-sentence counts): rows are
// stored as int16 padded to a multiple of 8 lanes (kVecs vectors of 8), so a pick is kVecs
// 16-byte loads and adds on accumulators that stay in registers, and a block takes half the
// cache of int32 rows. Exact: the accumulators are uint16 lanes that wrap modulo 2^16; they are
// flushed into the int64 sums after at most per_flush = floor(32767 / max|value|) picks, so each
// lane's true partial sum S satisfies |S| <= 32767 and the wrapped lane, read back as int16, is
// S itself. Integer sums do not depend on the order of additions, so the totals (and every
// result) are the same bits as summing the int32 rows one by one; the picks are DrawInBlock's,
// unchanged. Padding lanes are 0 and never flushed.
constexpr size_t kInt16Lanes = 8;
// Fully unrolled, the kVecs accumulators live in registers; -O2 alone keeps the loop and puts
// them on the stack, where every pick waits on a store-to-load round trip.
#if defined(__clang__)
#define EMAR_UNROLL_VECS _Pragma("unroll")
#elif defined(__GNUC__)
#define EMAR_UNROLL_VECS _Pragma("GCC unroll 8")
#else
#define EMAR_UNROLL_VECS
#endif
#if defined(__GNUC__) || defined(__clang__)
// GCC/Clang generic vectors: SSE2 (baseline on x86-64) or NEON code, no intrinsics.
using U16x8 = uint16_t __attribute__((vector_size(16)));
inline U16x8 LoadU16x8(const int16_t* p) {
  U16x8 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
#else
// Portable fallback with the same arithmetic (uint16 lanes wrapping modulo 2^16).
struct U16x8 {
  uint16_t l[kInt16Lanes];
  U16x8& operator+=(const U16x8& o) {
    for (size_t i = 0; i < kInt16Lanes; ++i) l[i] = static_cast<uint16_t>(l[i] + o.l[i]);
    return *this;
  }
};
inline U16x8 LoadU16x8(const int16_t* p) {
  U16x8 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
#endif

// The int16 reading of a uint16 lane (two's complement), spelled out for C++17.
inline int64_t AsInt16(uint16_t u) { return u >= 0x8000 ? int64_t{u} - 0x10000 : int64_t{u}; }

template <int kVecs>
void GatherInt16(DeterministicRng& rng, uint64_t draws, size_t size, const int16_t* block,
                 size_t width, int64_t max_abs, int64_t* sum) {
  constexpr size_t kStride = kVecs * kInt16Lanes;
  const uint64_t per_flush = max_abs > 0 ? static_cast<uint64_t>(32767 / max_abs) : draws + 1;
  U16x8 acc[kVecs] = {};
  auto flush = [&] {
    // Through a plain array: indexing the vectors by a variable would keep them in memory.
    uint16_t lanes[kStride];
    EMAR_UNROLL_VECS
    for (int v = 0; v < kVecs; ++v) {
      std::memcpy(lanes + v * kInt16Lanes, &acc[v], sizeof(U16x8));
      acc[v] = U16x8{};
    }
    for (size_t d = 0; d < width; ++d) sum[d] += AsInt16(lanes[d]);
  };
  uint64_t left = per_flush;
  DrawInBlock(rng, draws, size, [&](uint32_t idx) {
    const int16_t* row = block + static_cast<size_t>(idx) * kStride;
    EMAR_UNROLL_VECS
    for (int v = 0; v < kVecs; ++v) acc[v] += LoadU16x8(row + v * kInt16Lanes);
    if (--left == 0) {
      flush();
      left = per_flush;
    }
  });
  flush();
}

using GatherInt16Fn = void (*)(DeterministicRng&, uint64_t, size_t, const int16_t*, size_t, int64_t,
                               int64_t*);

// Widths the int16 layout serves: wide rows (5..32 columns) where the narrower loads pay; 1-4
// column rows stay int32 (padding them to 8 lanes would not shrink them).
size_t Int16Vecs(size_t width) {
  return width > 4 && width <= 4 * kInt16Lanes ? (width + kInt16Lanes - 1) / kInt16Lanes : 0;
}

GatherInt16Fn PickGatherInt16(size_t width) {
  switch (Int16Vecs(width)) {
    case 1:
      return &GatherInt16<1>;
    case 2:
      return &GatherInt16<2>;
    case 3:
      return &GatherInt16<3>;
    case 4:
      return &GatherInt16<4>;
    default:
      return nullptr;
  }
}

// Double rows: four interleaved partial sums break the floating-point add latency chain; they
// are combined in a fixed order, so the bits depend only on the draws. Fixed widths keep the
// partial sums in locals.
template <int kWidth>
void GatherDouble(DeterministicRng& rng, uint64_t draws, size_t size, const double* block,
                  size_t width, double* banks /* 4 * width */, double* sum) {
  const size_t w = kWidth > 0 ? static_cast<size_t>(kWidth) : width;
  double local[kWidth > 0 ? 4 * kWidth : 1] = {};
  double* bank = kWidth > 0 ? local : banks;
  std::fill(bank, bank + 4 * w, 0.0);
  uint64_t t = 0;
  DrawInBlock(rng, draws, size, [&](uint32_t idx) {
    AddRow<kWidth>(block, w, idx, bank + (t & 3) * w);
    ++t;
  });
  for (size_t d = 0; d < w; ++d) {
    sum[d] += (bank[d] + bank[w + d]) + (bank[2 * w + d] + bank[3 * w + d]);
  }
}

using GatherIntFn = void (*)(DeterministicRng&, uint64_t, size_t, const int32_t*, size_t, int64_t,
                             int64_t*);
using GatherDoubleFn = void (*)(DeterministicRng&, uint64_t, size_t, const double*, size_t, double*,
                                double*);

GatherIntFn PickGatherInt(size_t width) {
  switch (width) {
    case 1:
      return &GatherInt<1>;
    case 2:
      return &GatherInt<2>;
    case 4:
      return &GatherInt<4>;
    case 20:
      return &GatherInt<20>;
    default:
      return &GatherInt<0>;
  }
}

GatherDoubleFn PickGatherDouble(size_t width) {
  switch (width) {
    case 1:
      return &GatherDouble<1>;
    case 2:
      return &GatherDouble<2>;
    case 4:
      return &GatherDouble<4>;
    case 20:
      return &GatherDouble<20>;
    default:
      return &GatherDouble<0>;
  }
}

}  // namespace

int ResolveBootstrapThreads(int num_threads) {
  if (num_threads > 0) return num_threads;
  return std::max(1, std::min(static_cast<int>(std::thread::hardware_concurrency()), 8));
}

absl::string_view ResamplingMethodName(ResamplingMethod m) {
  switch (m) {
    case ResamplingMethod::kAuto:
      return "auto";
    case ResamplingMethod::kJointCells:
      return "joint_cells";
    case ResamplingMethod::kExampleDraws:
      return "example_draws";
  }
  return "unknown";
}

absl::StatusOr<BootstrapResampler> BootstrapResampler::Create(const ValidRows& valid,
                                                              ResamplingMethod method) {
  const DatasetRows& rows = valid.rows();
  BootstrapResampler r;
  r.metric_ = rows.metric;
  r.num_labels_ = rows.num_labels;
  r.n_ = rows.n;
  r.num_systems_ = rows.systems.size();
  r.width_ = rows.metric->stats_width();
  r.additive_ = !rows.metric->uses_labels();
  if (r.additive_ && rows.metric->AccumulatorWidth(rows.num_labels) != r.width_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metric ", rows.metric->name(),
        " has a non-additive accumulator but does not use labels; the resamplers need one"));
  }
  for (const MetricValue& v : CorpusScores(valid)) {
    r.point_.push_back(v.value.has_value() && std::isfinite(*v.value) ? v.value : std::nullopt);
  }
  if (method == ResamplingMethod::kJointCells) {
    r.BuildCells(rows, std::numeric_limits<size_t>::max());
    r.method_ = ResamplingMethod::kJointCells;
  } else if (method == ResamplingMethod::kAuto &&
             r.BuildCells(rows, rows.metric->is_binary() ? std::numeric_limits<size_t>::max()
                                                         : std::max<size_t>(1, rows.n / 128))) {
    r.method_ = ResamplingMethod::kJointCells;
  } else {
    r.cell_counts_.clear();
    r.cell_rows_.clear();
    r.BuildPacked(rows);
    r.method_ = ResamplingMethod::kExampleDraws;
  }
  return r;
}

bool BootstrapResampler::BuildCells(const DatasetRows& rows, size_t max_cells) {
  const size_t joint = num_systems_ * width_;
  cell_counts_.clear();
  cell_rows_.clear();
  if (rows.metric->is_binary() && num_systems_ <= 16) {
    // Joint outcome of a 0/1 metric = bit s set when system s is right.
    std::vector<uint64_t> counts(size_t{1} << num_systems_, 0);
    for (size_t i = 0; i < n_; ++i) {
      uint32_t mask = 0;
      for (size_t s = 0; s < num_systems_; ++s) {
        mask |= static_cast<uint32_t>(rows.systems[s][i] != 0.0) << s;
      }
      ++counts[mask];
    }
    for (uint32_t mask = 0; mask < counts.size(); ++mask) {
      if (counts[mask] == 0) continue;
      cell_counts_.push_back(counts[mask]);
      for (size_t s = 0; s < num_systems_; ++s) cell_rows_.push_back((mask >> s) & 1);
    }
    return true;
  }
  // General case: hash the bytes of each joint row; give up past max_cells.
  absl::flat_hash_map<std::string, size_t> index;
  std::vector<double> scratch(joint);
  std::vector<std::string> keys;
  for (size_t i = 0; i < n_; ++i) {
    for (size_t s = 0; s < num_systems_; ++s) {
      std::memcpy(&scratch[s * width_], rows.systems[s].data() + i * width_,
                  width_ * sizeof(double));
    }
    absl::string_view key(reinterpret_cast<const char*>(scratch.data()), joint * sizeof(double));
    auto it = index.find(key);
    if (it != index.end()) {
      ++cell_counts_[it->second];
      continue;
    }
    if (index.size() >= max_cells) return false;
    index.emplace(std::string(key), cell_counts_.size());
    keys.emplace_back(key);
    cell_counts_.push_back(1);
    cell_rows_.insert(cell_rows_.end(), scratch.begin(), scratch.end());
  }
  // Canonical order (by key bytes), so the draw does not depend on the order rows arrived in.
  std::vector<size_t> order(keys.size());
  for (size_t j = 0; j < order.size(); ++j) order[j] = j;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return keys[a] < keys[b]; });
  std::vector<uint64_t> counts(order.size());
  std::vector<double> cell_rows(cell_rows_.size());
  for (size_t j = 0; j < order.size(); ++j) {
    counts[j] = cell_counts_[order[j]];
    std::copy_n(cell_rows_.begin() + order[j] * joint, joint, cell_rows.begin() + j * joint);
  }
  cell_counts_ = std::move(counts);
  cell_rows_ = std::move(cell_rows);
  return true;
}

void BootstrapResampler::BuildPacked(const DatasetRows& rows) {
  const size_t joint = num_systems_ * width_;
  // Integer storage when every value is an integer with |v| <= 2^31 - 1 and n * max|v| < 2^53,
  // so int64 sums are exact and convert to double exactly.
  bool integral = additive_;
  double max_abs = 0;
  for (size_t s = 0; s < num_systems_ && integral; ++s) {
    for (double v : rows.systems[s]) {
      if (!(v == std::floor(v)) || std::fabs(v) > 2147483647.0) {
        integral = false;
        break;
      }
      max_abs = std::max(max_abs, std::fabs(v));
    }
  }
  if (integral && max_abs * static_cast<double>(n_) >= 9007199254740992.0) integral = false;
  max_abs_int_ = integral ? static_cast<int64_t>(max_abs) : 0;
  const size_t vecs = Int16Vecs(joint);
  if (integral && vecs > 0 && max_abs <= 32767.0) {
    // Narrow layout (see GatherInt16): rows padded to vecs * 8 int16 lanes, padding zero.
    int16_stride_ = vecs * kInt16Lanes;
    packed_int16_.assign(n_ * int16_stride_, 0);
    for (size_t i = 0; i < n_; ++i) {
      for (size_t s = 0; s < num_systems_; ++s) {
        const double* src = rows.systems[s].data() + i * width_;
        for (size_t c = 0; c < width_; ++c) {
          packed_int16_[i * int16_stride_ + s * width_ + c] = static_cast<int16_t>(src[c]);
        }
      }
    }
    return;
  }
  if (integral) {
    packed_int_.resize(n_ * joint);
  } else {
    packed_double_.resize(n_ * joint);
  }
  for (size_t i = 0; i < n_; ++i) {
    for (size_t s = 0; s < num_systems_; ++s) {
      const double* src = rows.systems[s].data() + i * width_;
      for (size_t c = 0; c < width_; ++c) {
        if (integral) {
          packed_int_[i * joint + s * width_ + c] = static_cast<int32_t>(src[c]);
        } else {
          packed_double_[i * joint + s * width_ + c] = src[c];
        }
      }
    }
  }
}

absl::StatusOr<ResampledScores> BootstrapResampler::Run(int64_t resamples, uint64_t seed,
                                                        uint64_t stream, int num_threads) const {
  if (resamples < 1 || resamples > kMaxResamples) {
    return absl::InvalidArgumentError(
        absl::StrCat("resamples must be in [1, ", kMaxResamples, "], got ", resamples));
  }
  ResampledScores out;
  out.num_systems = num_systems_;
  out.resamples = resamples;
  out.point = point_;
  out.values.resize(static_cast<size_t>(resamples) * num_systems_);
  const int threads =
      static_cast<int>(std::min<int64_t>(ResolveBootstrapThreads(num_threads), resamples));
  // RunExamples keeps one set of sums (or label accumulators) per resample of its range; cap that
  // at ~64 MiB by running the range in chunks. Every resample draws from its own streams, so the
  // chunking changes nothing in the result.
  const size_t per_resample_bytes =
      num_systems_ * sizeof(double) *
      std::max<size_t>(2 * width_, additive_ ? 0 : metric_->AccumulatorWidth(num_labels_));
  const int64_t chunk =
      std::max<int64_t>(1, static_cast<int64_t>((size_t{64} << 20) / per_resample_bytes));
  auto work = [&](int64_t first, int64_t last) {
    if (method_ == ResamplingMethod::kJointCells) {
      RunCells(first, last, seed, stream, &out);
      return;
    }
    for (int64_t begin = first; begin < last; begin += chunk) {
      RunExamples(begin, std::min(last, begin + chunk), seed, stream, &out);
    }
  };
  if (threads <= 1) {
    work(0, resamples);
    return out;
  }
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    const int64_t first = resamples * t / threads;
    const int64_t last = resamples * (t + 1) / threads;
    pool.emplace_back(work, first, last);
  }
  for (std::thread& th : pool) th.join();
  return out;
}

void BootstrapResampler::ScoreSums(absl::Span<const double> sums,
                                   std::optional<double>* out) const {
  std::vector<double> acc(width_);
  for (size_t s = 0; s < num_systems_; ++s) {
    std::fill(acc.begin(), acc.end(), 0.0);
    metric_->Accumulate(sums.subspan(s * width_, width_), 1.0, num_labels_, absl::MakeSpan(acc));
    out[s] = FinalizeScore(*metric_, acc, num_labels_, static_cast<double>(n_));
  }
}

void BootstrapResampler::RunCells(int64_t first, int64_t last, uint64_t seed, uint64_t stream,
                                  ResampledScores* out) const {
  const size_t joint = num_systems_ * width_;
  const size_t cells = cell_counts_.size();
  std::vector<uint64_t> m(cells);
  std::vector<double> acc(metric_->AccumulatorWidth(num_labels_));
  for (int64_t r = first; r < last; ++r) {
    DeterministicRng rng = DeterministicRng::ForStream(seed, {stream, static_cast<uint64_t>(r)});
    rng.Multinomial(n_, cell_counts_, absl::MakeSpan(m));
    for (size_t s = 0; s < num_systems_; ++s) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (size_t j = 0; j < cells; ++j) {
        if (m[j] == 0) continue;
        metric_->Accumulate(absl::MakeConstSpan(cell_rows_.data() + j * joint + s * width_, width_),
                            static_cast<double>(m[j]), num_labels_, absl::MakeSpan(acc));
      }
      out->values[static_cast<size_t>(r) * num_systems_ + s] =
          FinalizeScore(*metric_, acc, num_labels_, static_cast<double>(n_));
    }
  }
}

void BootstrapResampler::RunExamples(int64_t first, int64_t last, uint64_t seed, uint64_t stream,
                                     ResampledScores* out) const {
  const size_t joint = num_systems_ * width_;
  const size_t blocks = (n_ + kBlockSize - 1) / kBlockSize;
  const size_t count = static_cast<size_t>(last - first);
  std::vector<uint64_t> block_sizes(blocks, kBlockSize);
  block_sizes.back() = n_ - (blocks - 1) * kBlockSize;
  // Step 1: how many of the n picks land in each block (resample r, stream {s, r, 0}).
  std::vector<uint64_t> totals(count * blocks);
  for (size_t i = 0; i < count; ++i) {
    DeterministicRng rng =
        DeterministicRng::ForStream(seed, {stream, static_cast<uint64_t>(first) + i, 0});
    rng.Multinomial(n_, block_sizes, absl::MakeSpan(totals.data() + i * blocks, blocks));
  }
  auto block_rng = [&](size_t i, size_t k) {
    return DeterministicRng::ForStream(seed, {stream, static_cast<uint64_t>(first) + i, k + 1});
  };
  // Step 2: picks inside each block, block-major so a block's rows stay in cache while every
  // resample of this range visits it.
  if (additive_) {
    std::vector<double> sums(count * joint, 0.0);
    // Integer rows (int16 or int32 storage, `stride` values a row) are summed exactly in int64.
    auto gather_ints = [&](const auto* packed, size_t stride, auto gather) {
      std::vector<int64_t> isums(count * joint, 0);
      for (size_t k = 0; k < blocks; ++k) {
        const auto* block = packed + k * kBlockSize * stride;
        for (size_t i = 0; i < count; ++i) {
          DeterministicRng rng = block_rng(i, k);
          gather(rng, totals[i * blocks + k], block_sizes[k], block, joint, max_abs_int_,
                 &isums[i * joint]);
        }
      }
      for (size_t j = 0; j < sums.size(); ++j) sums[j] = static_cast<double>(isums[j]);
    };
    if (!packed_int16_.empty()) {
      gather_ints(packed_int16_.data(), int16_stride_, PickGatherInt16(joint));
    } else if (!packed_int_.empty()) {
      gather_ints(packed_int_.data(), joint, PickGatherInt(joint));
    } else {
      const GatherDoubleFn gather = PickGatherDouble(joint);
      std::vector<double> banks(4 * joint);
      for (size_t k = 0; k < blocks; ++k) {
        const double* block = packed_double_.data() + k * kBlockSize * joint;
        for (size_t i = 0; i < count; ++i) {
          DeterministicRng rng = block_rng(i, k);
          gather(rng, totals[i * blocks + k], block_sizes[k], block, joint, banks.data(),
                 &sums[i * joint]);
        }
      }
    }
    for (size_t i = 0; i < count; ++i) {
      ScoreSums(absl::MakeConstSpan(&sums[i * joint], joint),
                &out->values[(static_cast<size_t>(first) + i) * num_systems_]);
    }
    return;
  }
  // Label metrics with many distinct rows: Accumulate every pick (slow, but exact).
  const size_t acc_width = metric_->AccumulatorWidth(num_labels_);
  std::vector<double> accs(count * num_systems_ * acc_width, 0.0);
  for (size_t k = 0; k < blocks; ++k) {
    const double* block = packed_double_.data() + k * kBlockSize * joint;
    for (size_t i = 0; i < count; ++i) {
      DeterministicRng rng = block_rng(i, k);
      double* acc = &accs[i * num_systems_ * acc_width];
      DrawInBlock(rng, totals[i * blocks + k], block_sizes[k], [&](uint32_t idx) {
        for (size_t s = 0; s < num_systems_; ++s) {
          metric_->Accumulate(absl::MakeConstSpan(block + idx * joint + s * width_, width_), 1.0,
                              num_labels_, absl::MakeSpan(acc + s * acc_width, acc_width));
        }
      });
    }
  }
  for (size_t i = 0; i < count; ++i) {
    for (size_t s = 0; s < num_systems_; ++s) {
      out->values[(static_cast<size_t>(first) + i) * num_systems_ + s] = FinalizeScore(
          *metric_, absl::MakeConstSpan(&accs[(i * num_systems_ + s) * acc_width], acc_width),
          num_labels_, static_cast<double>(n_));
    }
  }
}

absl::StatusOr<ResampledScores> ScoresFromIndices(const ValidRows& valid,
                                                  absl::Span<const std::vector<uint32_t>> indices) {
  const DatasetRows& rows = valid.rows();
  const Metric& metric = *rows.metric;
  const size_t width = metric.stats_width();
  ResampledScores out;
  out.num_systems = rows.systems.size();
  out.resamples = static_cast<int64_t>(indices.size());
  for (const MetricValue& v : CorpusScores(valid)) {
    out.point.push_back(v.value.has_value() && std::isfinite(*v.value) ? v.value : std::nullopt);
  }
  std::vector<double> acc(metric.AccumulatorWidth(rows.num_labels));
  for (size_t r = 0; r < indices.size(); ++r) {
    if (indices[r].empty())
      return absl::InvalidArgumentError(absl::StrCat("resample ", r, " is empty"));
    for (uint32_t idx : indices[r]) {
      if (idx >= rows.n) {
        return absl::InvalidArgumentError(
            absl::StrCat("resample ", r, ": index ", idx, " >= n = ", rows.n));
      }
    }
    for (size_t s = 0; s < rows.systems.size(); ++s) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (uint32_t idx : indices[r]) {
        metric.Accumulate(rows.systems[s].subspan(idx * width, width), 1.0, rows.num_labels,
                          absl::MakeSpan(acc));
      }
      out.values.push_back(
          FinalizeScore(metric, acc, rows.num_labels, static_cast<double>(indices[r].size())));
    }
  }
  return out;
}

}  // namespace emar
