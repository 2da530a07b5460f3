#include "client/flips_command.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "client/report_flips.h"
#include "client/report_format.h"

namespace emar {

int RunFlipsCommand(EvaluationClient& client, const FlipsCommandOptions& options, std::ostream& out,
                    std::ostream& err) {
  const std::string& f = options.format;
  if (f != "text" && f != "json" && f != "html") {
    err << "emarctl: flips: --format must be text, json or html, not '" << f << "'\n";
    return 2;
  }
  if (options.dataset.empty()) {
    err << "emarctl: flips needs --dataset NAME (one of the job's datasets)\n";
    return 2;
  }
  if (!options.kind.empty() && options.kind != "learned" && options.kind != "forgot") {
    err << "emarctl: flips: --kind must be learned or forgot, not '" << options.kind << "'\n";
    return 2;
  }
  emar::v1::ListFlipsRequest req;
  req.set_job_id(options.job_id);
  req.set_dataset(options.dataset);
  req.set_candidate(options.candidate);
  req.set_kind(options.kind);
  req.set_metric(options.metric);
  req.set_limit(options.limit);
  if (f != "json") req.set_max_chars(kFlipsReadableChars);
  std::vector<emar::v1::FlipItem> items;  // html only: the page is written at the end
  std::string last_heading;
  size_t count = 0;
  const absl::Status listed = client.ListFlips(req, [&](const emar::v1::FlipItem& item) {
    ++count;
    if (f == "json") {
      out << MessageToJson(item, /*one_line=*/true) << std::flush;
    } else if (f == "html") {
      items.push_back(item);
    } else {
      const std::string heading = absl::StrCat(item.candidate(), " ", item.kind(), " on ",
                                               item.dataset(), " (", item.metric(), ")");
      if (heading != last_heading) out << heading << ":\n";
      last_heading = heading;
      out << FlipItemText(item) << std::flush;
    }
  });
  if (!listed.ok()) {
    err << "emarctl: " << listed.message() << "\n";
    return 1;
  }
  if (f == "html") {
    out << FlipsPage(absl::StrCat("Flips of job ", options.job_id, " on ", options.dataset), items);
  } else if (f == "text" && count == 0) {
    out << "no flipped items\n";
  }
  return 0;
}

}  // namespace emar
