// Renders a Series (a training run's checkpoints side by side, from GetSeries) for people (text,
// Markdown, a self-contained HTML page with charts) and programs (JSON, the proto JSON mapping).
#ifndef EMAR_CLIENT_SERIES_FORMAT_H_
#define EMAR_CLIENT_SERIES_FORMAT_H_

#include <string>

#include "emar/v1/report.pb.h"

namespace emar {

std::string SeriesToText(const emar::v1::Series& series);
std::string SeriesToJson(const emar::v1::Series& series);
std::string SeriesToMarkdown(const emar::v1::Series& series);
std::string SeriesToHtml(const emar::v1::Series& series);

}  // namespace emar

#endif  // EMAR_CLIENT_SERIES_FORMAT_H_
