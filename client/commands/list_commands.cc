// emarctl list and series: many jobs of a coordinator, chosen by their labels.
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "client/commands/cli.h"
#include "client/commands/commands.h"
#include "client/report_format.h"
#include "client/series_format.h"

ABSL_FLAG(int32_t, limit, 50, "list: how many jobs, newest first (a page; at most 1000)");
ABSL_FLAG(std::string, page_token, "", "list: the page after the one that printed this token");
ABSL_FLAG(std::string, by, "", "series: the label whose value orders the points, e.g. step");
ABSL_FLAG(std::string, dataset, "",
          "series: follow this dataset's primary scores (a suite's target or benchmark) instead "
          "of the target and benchmark aggregates; flips: the dataset to list");

namespace emar {

int ListCommand(const std::vector<std::string>& args) {
  if (!args.empty()) return Usage("list takes no arguments");
  auto session = Connect();
  if (!session.ok()) return Fail(session.status());
  emar::v1::ListJobsRequest req;
  req.set_limit(absl::GetFlag(FLAGS_limit));
  req.set_page_token(absl::GetFlag(FLAGS_page_token));
  for (const auto& [key, value] : Labels()) (*req.mutable_labels())[key] = value;
  auto page = session->client.ListJobs(req);
  if (!page.ok()) return FailCall(*session, page.status());
  if (Json()) {
    std::cout << MessageToJson(*page);
  } else {
    for (auto& j : page->jobs()) std::cout << JobToText(j) << "\n";
    if (!page->next_page_token().empty()) {
      std::cerr << "emarctl: more jobs: --page-token " << page->next_page_token() << std::endl;
    }
  }
  return 0;
}

int SeriesCommand(const std::vector<std::string>& args) {
  if (!args.empty()) return Usage("series takes flags only");
  if (Labels().empty()) return Usage("series needs --label K=V (e.g. --label run=exp-42)");
  if (absl::GetFlag(FLAGS_by).empty()) return Usage("series needs --by LABEL (e.g. --by step)");
  auto session = Connect();
  if (!session.ok()) return Fail(session.status());
  emar::v1::GetSeriesRequest req;
  req.set_by(absl::GetFlag(FLAGS_by));
  req.set_dataset(absl::GetFlag(FLAGS_dataset));
  for (const auto& [key, value] : Labels()) (*req.mutable_labels())[key] = value;
  auto series = session->client.GetSeries(req);
  if (!series.ok()) return FailCall(*session, series.status());
  const std::string f = Format(), dataset = absl::GetFlag(FLAGS_dataset);
  std::cout << (f == "json"       ? SeriesToJson(*series)
                : f == "markdown" ? SeriesToMarkdown(*series, dataset)
                : f == "html"     ? SeriesToHtml(*series, dataset)
                                  : SeriesToText(*series, dataset));
  return 0;
}

}  // namespace emar
