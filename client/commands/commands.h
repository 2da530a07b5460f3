// emarctl's commands, one function each (client/commands/command.h: the signature and exit
// codes). The table in command_table.cc names, documents and dispatches them.
#ifndef EMAR_CLIENT_COMMANDS_COMMANDS_H_
#define EMAR_CLIENT_COMMANDS_COMMANDS_H_

#include <string>
#include <vector>

namespace emar {

// run_commands.cc: a job file, in this process or on a coordinator.
int RunCommand(const std::vector<std::string>& args);
int SubmitCommand(const std::vector<std::string>& args);

// job_commands.cc: one job of a coordinator, by id.
int StatusCommand(const std::vector<std::string>& args);
int WatchCommand(const std::vector<std::string>& args);
int CancelCommand(const std::vector<std::string>& args);
int ReportCommand(const std::vector<std::string>& args);
int DeleteCommand(const std::vector<std::string>& args);

// cache_commands.cc: the coordinator's score cache (admin).
int CacheCommand(const std::vector<std::string>& args);

// list_commands.cc: jobs of a coordinator, by label.
int ListCommand(const std::vector<std::string>& args);
int SeriesCommand(const std::vector<std::string>& args);

// local_commands.cc: no coordinator.
int ScoreCommand(const std::vector<std::string>& args);
int EmarCommand(const std::vector<std::string>& args);
int PlanCommand(const std::vector<std::string>& args);
int HashCommand(const std::vector<std::string>& args);
int JobCommand(const std::vector<std::string>& args);

// flips_commands.cc: the items a candidate learned and forgot on a dataset.
int FlipsCommand(const std::vector<std::string>& args);
// admin_commands.cc: operations that need an admin token.
int AdminCommand(const std::vector<std::string>& args);

// command_table.cc: the usage text, or one command's synopsis and flags.
int HelpCommand(const std::vector<std::string>& args);

}  // namespace emar

#endif  // EMAR_CLIENT_COMMANDS_COMMANDS_H_
