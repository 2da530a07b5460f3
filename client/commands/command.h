// One emarctl command: a row of the table in client/commands/command_table.cc. emarctl's usage
// text, `emarctl help COMMAND` and the dispatch are all generated from that table.
//
// Adding a command: write `int MyCommand(const std::vector<std::string>& args)` in a file of its
// own under client/commands/ (its flags defined there with ABSL_FLAG, help text starting with the
// command's name), declare it in commands.h, and add one row to the table.
#ifndef EMAR_CLIENT_COMMANDS_COMMAND_H_
#define EMAR_CLIENT_COMMANDS_COMMAND_H_

#include <string>
#include <vector>

namespace emar {

// Runs a command on its positional arguments (the words after its name) and returns emarctl's
// exit code: 0 ok, 1 error, 2 usage error, 3 a gate failed.
using CommandFunction = int (*)(const std::vector<std::string>& args);

struct Command {
  const char* name;      // the word after `emarctl`, e.g. "submit"
  const char* synopsis;  // how it is called, e.g. "submit JOB.yaml [--wait]"
  // One line for the usage text; a '\n' continues it on the next line under the first.
  const char* help;
  // The flags it reads (Abseil names, with '_'), listed by `emarctl help COMMAND`. The common
  // ones that every command shares (--format and the connection flags) are listed too where
  // the command uses them.
  std::vector<const char*> flags;
  CommandFunction run;
  // Parses its own flags: runs on every argument after its name, before Abseil's parser sees
  // any (e.g. `job`, whose flags would clash with emarctl's).
  bool own_flags = false;
};

// The table, in the order of the usage text.
const std::vector<Command>& Commands();

// The command named `name`, or null.
const Command* FindCommand(const std::string& name);

// emarctl's usage text: the commands (from the table), then the common flags and exit codes.
std::string UsageText();

}  // namespace emar

#endif  // EMAR_CLIENT_COMMANDS_COMMAND_H_
