// Flips in reports and ListFlips: the items a candidate learned (base wrong, candidate right) and
// forgot (base right, candidate wrong) on a dataset, from the stored per-example statistics
// (eval/stats/flips.h does the counting; this file maps rows to ids, references and predictions).
//
//   AddFlipCounts(dataset_results, sys, &comparison);        // in BuildReport, counts only
//   ASSIGN_OR_RETURN(StoredJobResults job, AssembleStoredJob(job_id, store, blobs));
//   RETURN_IF_ERROR(ListStoredFlips(job, request, blobs, [&](emar::v1::FlipItem item) {...}));
//
// Flips apply to metrics whose statistics row is one per-item value (accuracy, exact_match,
// token_f1, ROUGE, mc_acc, score, pass_at_k, and their means over several samples); an item is
// right at a value >= 0.5, or for `score` with a range at >= the range's midpoint (<= for a
// lower-is-better score). Corpus metrics (BLEU, chrF, F1, MCC, perplexity) have no per-item
// outcome and get no flips. A `score` dataset without a references file lists its items by the
// base outputs' ids, with no references (reference_line 0); with several samples per item an
// item's values are its per-item means (or pass@k), base_samples / candidate_samples say how many
// samples each model gave, and the predictions are each model's first sample of the item (its
// first line in the outputs file).
#ifndef EMAR_SERVER_REPORT_FLIPS_H_
#define EMAR_SERVER_REPORT_FLIPS_H_

#include <cstddef>
#include <functional>
#include <optional>

#include "absl/status/status.h"
#include "emar/v1/report.pb.h"
#include "emar/v1/service.pb.h"
#include "eval/stats/flips.h"
#include "server/blob_store.h"
#include "server/result_assembler.h"
#include "server/stored_job_report.h"

namespace emar {

// How flips are counted on `d`, or nullopt when its metric has no per-item outcome.
std::optional<FlipOptions> FlipRuleFor(const DatasetResults& d);

// Sets `out->flips` for candidate system `sys` (1..K) when the metric has flips.
absl::Status AddFlipCounts(const DatasetResults& d, size_t sys, emar::v1::DatasetComparison* out);

// Cuts `text` to at most `max_chars` Unicode characters (whole UTF-8 sequences), ending in "…"
// when cut; 0 keeps it whole.
std::string CutText(const std::string& text, int max_chars);

// Streams the flips `request` asks for to `emit`, per candidate (spec order), learned then
// forgot, each in references-file order. INVALID_ARGUMENT naming what is wrong for an unknown
// dataset, candidate, metric or kind, or a metric without flips. Stops at emit's first error.
absl::Status ListStoredFlips(const StoredJobResults& job, const emar::v1::ListFlipsRequest& request,
                             BlobStore& blobs,
                             const std::function<absl::Status(emar::v1::FlipItem)>& emit);

}  // namespace emar

#endif  // EMAR_SERVER_REPORT_FLIPS_H_
