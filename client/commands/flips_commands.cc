// emarctl flips, and --flips N for the commands that print a report (run, submit --wait, report):
// the items each candidate learned and forgot (client/flips_command.h, client/report_flips.h).
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "client/commands/cli.h"
#include "client/commands/commands.h"
#include "client/flips_command.h"
#include "client/report_flips.h"

ABSL_FLAG(int32_t, flips, -1,
          "run, submit --wait, report: list the first N items each candidate learned and forgot "
          "per dataset (default: 10 in html, else 0: counts only); flips: at most N of each kind");
ABSL_FLAG(std::string, kind, "", "flips: learned or forgot (default both)");
ABSL_FLAG(std::string, candidate, "", "flips: only this candidate (default every one)");
ABSL_DECLARE_FLAG(std::string, dataset);
ABSL_DECLARE_FLAG(std::string, metric);

namespace emar {

int FlipsCommand(const std::vector<std::string>& args) {
  if (args.size() != 1) return Usage("flips takes one job id");
  auto session = Connect();
  if (!session.ok()) return Fail(session.status());
  return RunFlipsCommand(session->client,
                         {.job_id = args[0],
                          .dataset = absl::GetFlag(FLAGS_dataset),
                          .candidate = absl::GetFlag(FLAGS_candidate),
                          .kind = absl::GetFlag(FLAGS_kind),
                          .metric = absl::GetFlag(FLAGS_metric),
                          .format = Format(),
                          .limit = std::max(0, absl::GetFlag(FLAGS_flips))},
                         std::cout, std::cerr);
}

absl::Status ListReportFlips(Session& session, emar::v1::Report* report) {
  const int n = absl::GetFlag(FLAGS_flips) >= 0 ? absl::GetFlag(FLAGS_flips)
                : Format() == "html"            ? 10
                                                : 0;
  return FillReportFlips(session.client, n, Json() ? 0 : kFlipsReadableChars, report);
}

}  // namespace emar
