// emarctl's table of commands (client/commands/command.h): every row is complete, every flag it
// lists is a flag emarctl defines, and the usage text and `help COMMAND` come from the rows.
#include <set>
#include <string>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "client/commands/command.h"
#include "client/commands/commands.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(CommandTableTest, RowsAreCompleteAndNamesUnique) {
  std::set<std::string> names;
  for (const Command& c : Commands()) {
    SCOPED_TRACE(c.name);
    EXPECT_TRUE(names.insert(c.name).second) << "two rows named " << c.name;
    EXPECT_NE(c.run, nullptr);
    EXPECT_THAT(std::string(c.synopsis), StartsWith(c.name));
    EXPECT_FALSE(std::string(c.help).empty());
    EXPECT_EQ(FindCommand(c.name), &c);
  }
  EXPECT_EQ(FindCommand("no-such-command"), nullptr);
  for (const char* expected : {"run", "submit", "status", "watch", "list", "cancel", "report",
                               "delete", "series", "score", "emar", "plan", "job", "help"}) {
    EXPECT_NE(FindCommand(expected), nullptr) << expected;
  }
}

TEST(CommandTableTest, EveryListedFlagIsDefinedOnce) {
  for (const Command& c : Commands()) {
    std::set<std::string> seen;
    for (const char* flag : c.flags) {
      EXPECT_NE(absl::FindCommandLineFlag(flag), nullptr)
          << c.name << " lists --" << flag << ", which emarctl does not define";
      EXPECT_TRUE(seen.insert(flag).second) << c.name << " lists --" << flag << " twice";
    }
    if (c.own_flags) EXPECT_TRUE(c.flags.empty()) << c.name << " parses its own flags";
  }
}

TEST(CommandTableTest, UsageTextHasOneEntryPerRowWithHelpInItsColumn) {
  const std::string usage = UsageText();
  EXPECT_THAT(usage, StartsWith("emarctl COMMAND [flags]\n\n"));
  EXPECT_THAT(usage, HasSubstr("Exit codes: 0 ok, 1 error, 2 usage error, 3 a gate failed (report: "
                               "as text or json only)."));
  const std::vector<std::string> lines = absl::StrSplit(usage, '\n');
  for (const Command& c : Commands()) {
    SCOPED_TRACE(c.name);
    const std::string first_help_line(absl::string_view(c.help).substr(0, 20));
    bool found = false;
    for (size_t i = 0; i < lines.size(); ++i) {
      if (!absl::StartsWith(lines[i], std::string("  ") + c.synopsis)) continue;
      found = true;
      const std::string& help_line =
          lines[i].find(first_help_line) != std::string::npos ? lines[i] : lines[i + 1];
      EXPECT_THAT(help_line, HasSubstr(first_help_line));
      if (std::string(c.synopsis).size() < 29) EXPECT_EQ(help_line.find(first_help_line), 31u);
    }
    EXPECT_TRUE(found) << "no usage line for " << c.synopsis;
  }
  // The continuation lines of a multi-line help sit under its first line.
  EXPECT_THAT(usage, HasSubstr("\n" + std::string(31, ' ') + "one point per job ordered by"));
}

TEST(CommandTableTest, HelpOfOneCommandListsItsFlags) {
  testing::internal::CaptureStdout();
  EXPECT_EQ(HelpCommand({"series"}), 0);
  const std::string out = testing::internal::GetCapturedStdout();
  EXPECT_THAT(out, StartsWith("emarctl series --label K=V --by L\n"));
  EXPECT_THAT(out, HasSubstr("  --by (default: \"\")\n      series: the label whose value"));
  EXPECT_THAT(out, HasSubstr("  --token-file (default: \"\")"));
  EXPECT_THAT(out, testing::Not(HasSubstr("--workers")));

  testing::internal::CaptureStderr();
  EXPECT_EQ(HelpCommand({"no-such-command"}), 2);
  EXPECT_THAT(testing::internal::GetCapturedStderr(),
              HasSubstr("help takes one command name, not 'no-such-command'"));
}

}  // namespace
}  // namespace emar
