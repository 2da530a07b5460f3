// emarctl: the command-line client. `emarctl help` lists the commands; docs/emarctl.md
// documents them.
// Each command is a row of the table in client/commands/command_table.cc and a function in a
// file of client/commands/; this file parses the flags and dispatches.
//
// Exit codes: 0 success, 1 error (bad input, failed job, unreachable server), 2 usage error,
// 3 a gate failed (the report is still printed in full).
#include <grpc/support/log.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "client/commands/cli.h"
#include "client/commands/command.h"
#include "common/flag_names.h"
#include "common/help_flag.h"
#include "common/malloc_arenas.h"
#include "common/mutex_checks.h"

namespace emar {
namespace {

int Main(int argc, char** argv) {
  // A command that parses its own flags (e.g. `job`) runs before Abseil's parser.
  if (argc > 1) {
    const Command* own = FindCommand(argv[1]);
    if (own != nullptr && own->own_flags) return own->run({argv + 2, argv + argc});
  }
  const std::string usage = UsageText();
  absl::SetProgramUsageMessage(usage);
  NormalizedArgs flags(argc, argv);
  // The usage text is the curated help; --helpfull lists every flag.
  ExitZeroOnHelp(argc, argv, "client/", /*list_flags=*/false);
  for (const std::string& label : flags.TakeRepeated("label")) {
    const size_t eq = label.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Usage("--label takes KEY=VALUE, not '" + label + "'");
    }
    Labels().emplace_back(label.substr(0, eq), label.substr(eq + 1));
  }
  InputRoots() = flags.TakeRepeated("input_root");
  std::vector<char*> rest = absl::ParseCommandLine(flags.argc(), flags.argv());
  if (const std::string why = CheckCommonFlags(); !why.empty()) return Usage(why);
  if (rest.size() < 2) return Usage("no command given");
  const std::string name = rest[1];
  const std::string format = Format();
  if (format != "text" && format != "json" && format != "markdown" && format != "html") {
    return Usage("--format must be text, json, markdown or html");
  }
  const Command* command = FindCommand(name);
  if (command == nullptr) return Usage("unknown command '" + name + "'");
  return command->run({rest.begin() + 2, rest.end()});
}

}  // namespace
}  // namespace emar

int main(int argc, char** argv) {
  emar::LimitMallocArenas();
  emar::UseReleaseMutexChecks();
  // gRPC's own log lines ("E1207 ... Handshake failed") would precede emarctl's error, which
  // says the same in the user's terms with a hint; GRPC_VERBOSITY set brings them back.
  if (std::getenv("GRPC_VERBOSITY") == nullptr) gpr_set_log_function([](gpr_log_func_args*) {});
  return emar::Main(argc, argv);
}
