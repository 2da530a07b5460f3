// Renders a Series (a training run's checkpoints side by side, from GetSeries) for people (text,
// Markdown, a self-contained HTML page with charts) and programs (JSON, the proto JSON mapping).
// `dataset` is what the series follows (GetSeriesRequest.dataset): empty for the target and
// benchmark aggregates, else one dataset's primary scores; the text, Markdown and HTML name it.
#ifndef EMAR_CLIENT_SERIES_FORMAT_H_
#define EMAR_CLIENT_SERIES_FORMAT_H_

#include <string>

#include "emar/v1/report.pb.h"

namespace emar {

std::string SeriesToText(const emar::v1::Series& series, const std::string& dataset = "");
std::string SeriesToJson(const emar::v1::Series& series);
std::string SeriesToMarkdown(const emar::v1::Series& series, const std::string& dataset = "");
std::string SeriesToHtml(const emar::v1::Series& series, const std::string& dataset = "");

}  // namespace emar

#endif  // EMAR_CLIENT_SERIES_FORMAT_H_
