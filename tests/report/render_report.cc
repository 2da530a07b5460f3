// render_report FORMAT REPORT.json: prints a Report (proto JSON, as `emarctl report --format json`
// prints it) rendered by client/report_document as markdown or html. The browser test
// (report_browser_test.py) renders a fixed suite report with it (testdata/suite-report.json).
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "client/report_document.h"
#include "emar/v1/report.pb.h"
#include "google/protobuf/util/json_util.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: render_report markdown|html REPORT.json\n";
    return 2;
  }
  const std::string format = argv[1];
  std::ifstream in(argv[2]);
  if (!in) {
    std::cerr << "render_report: cannot read " << argv[2] << "\n";
    return 1;
  }
  std::stringstream json;
  json << in.rdbuf();
  emar::v1::Report report;
  const auto status = google::protobuf::util::JsonStringToMessage(json.str(), &report);
  if (!status.ok()) {
    std::cerr << "render_report: " << argv[2] << ": " << status.ToString() << "\n";
    return 1;
  }
  if (format == "markdown") {
    std::cout << emar::ReportToMarkdown(report);
  } else if (format == "html") {
    std::cout << emar::ReportToHtml(report);
  } else {
    std::cerr << "render_report: unknown format " << format << "\n";
    return 2;
  }
  return 0;
}
