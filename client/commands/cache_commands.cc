// emarctl cache drop: an admin forgets score cache entries on a coordinator, so later jobs score
// those shards again (a result found wrong, a scorer fixed out of band).
//
//   emarctl cache drop --job job-0123456789abcdef    the entries that job stored or reused
//   emarctl cache drop --digest SHA256               those computed from that input (or that key)
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "client/commands/cli.h"
#include "client/commands/commands.h"
#include "client/report_format.h"

ABSL_FLAG(std::string, job, "", "cache drop: the job whose score cache entries to drop");
ABSL_FLAG(std::string, digest, "",
          "cache drop: an input's sha256 (drops the entries computed from it) or a cache key");

namespace emar {

int CacheCommand(const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0] != "drop") {
    return Usage("cache takes one subcommand: drop --job J or --digest D");
  }
  const std::string job = absl::GetFlag(FLAGS_job), digest = absl::GetFlag(FLAGS_digest);
  if (job.empty() == digest.empty()) {
    return Usage("cache drop needs exactly one of --job J and --digest D");
  }
  auto session = Connect();
  if (!session.ok()) return Fail(session.status());
  auto dropped = session->client.DropCache(job, digest);
  if (!dropped.ok()) return FailCall(*session, dropped.status());
  if (Json()) {
    std::cout << MessageToJson(*dropped);
  } else {
    std::cout << "dropped " << dropped->entries_dropped() << " score cache entr"
              << (dropped->entries_dropped() == 1 ? "y" : "ies") << " of "
              << (job.empty() ? absl::StrCat("digest ", digest) : absl::StrCat("job ", job))
              << "; later jobs score those shards again\n";
  }
  return 0;
}

}  // namespace emar
