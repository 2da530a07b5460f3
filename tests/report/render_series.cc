// render_series FORMAT SERIES.json [DATASET]: prints a Series (proto JSON, as `emarctl series
// --format json` prints it) rendered by client/series_format as text, json, markdown or html. The
// browser test (report_browser_test.py) renders a fixed series with it, without a coordinator.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "client/series_format.h"
#include "emar/v1/report.pb.h"
#include "google/protobuf/util/json_util.h"

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::cerr << "usage: render_series text|json|markdown|html SERIES.json [DATASET]\n";
    return 2;
  }
  const std::string format = argv[1];
  const std::string dataset = argc == 4 ? argv[3] : "";  // what the series follows
  std::ifstream in(argv[2]);
  if (!in) {
    std::cerr << "render_series: cannot read " << argv[2] << "\n";
    return 1;
  }
  std::stringstream json;
  json << in.rdbuf();
  emar::v1::Series series;
  const auto status = google::protobuf::util::JsonStringToMessage(json.str(), &series);
  if (!status.ok()) {
    std::cerr << "render_series: " << argv[2] << ": " << status.ToString() << "\n";
    return 1;
  }
  if (format == "text") {
    std::cout << emar::SeriesToText(series, dataset);
  } else if (format == "json") {
    std::cout << emar::SeriesToJson(series);
  } else if (format == "markdown") {
    std::cout << emar::SeriesToMarkdown(series, dataset);
  } else if (format == "html") {
    std::cout << emar::SeriesToHtml(series, dataset);
  } else {
    std::cerr << "render_series: unknown format " << format << "\n";
    return 2;
  }
  return 0;
}
