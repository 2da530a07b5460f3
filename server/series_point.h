// One job's point of a series (GetSeries): from its report, the candidates' EMAR, gates and
// target and benchmark scores and deltas, either the aggregates (`dataset` empty; for a job of
// one target and one benchmark those two datasets) or one dataset's primary metric.
//
//   emar::v1::SeriesPoint point;
//   if (!FillSeriesPoint(report, request.dataset(), &point)) skip("no dataset ...");
#ifndef EMAR_SERVER_SERIES_POINT_H_
#define EMAR_SERVER_SERIES_POINT_H_

#include <string>

#include "emar/v1/report.pb.h"

namespace emar {

// Fills `point`'s base scores and candidates. False, leaving the candidates unfilled, when
// `dataset` is not empty and the report has no primary entry for it.
bool FillSeriesPoint(const emar::v1::Report& report, const std::string& dataset,
                     emar::v1::SeriesPoint* point);

}  // namespace emar

#endif  // EMAR_SERVER_SERIES_POINT_H_
