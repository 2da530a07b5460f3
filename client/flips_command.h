// `emarctl flips JOB --dataset D [--candidate C] [--kind learned|forgot] [--metric M]
// [--format text|json|html]`: every item a candidate learned (base wrong, candidate right) or
// forgot (base right, candidate wrong) on one dataset of a finished job, streamed by the
// coordinator from the job's stored per-example statistics (nothing is scored again).
//
// text: one block per item as it arrives (id, references, both predictions cut to
// kFlipsReadableChars); json: one FlipItem per line (JSON lines, whole texts), as it arrives;
// html: a self-contained page with one table.
#ifndef EMAR_CLIENT_FLIPS_COMMAND_H_
#define EMAR_CLIENT_FLIPS_COMMAND_H_

#include <ostream>
#include <string>

#include "client/evaluation_client.h"

namespace emar {

struct FlipsCommandOptions {
  std::string job_id;
  std::string dataset;
  std::string candidate;  // empty: every candidate
  std::string kind;       // learned | forgot | empty: both
  std::string metric;     // empty: the dataset's primary metric
  std::string format = "text";
  int limit = 0;  // per candidate and kind; 0: all
};

// Exit code: 0, 1 when the call fails (the message on `err`), 2 for a usage error.
int RunFlipsCommand(EvaluationClient& client, const FlipsCommandOptions& options, std::ostream& out,
                    std::ostream& err);

}  // namespace emar

#endif  // EMAR_CLIENT_FLIPS_COMMAND_H_
