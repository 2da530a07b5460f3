// `--help` (or `-h`) prints the program's usage and its own flags and exits 0. Abseil's parser
// would print the same but exit 1, which scripts and image checks read as a failure. A program
// whose usage message is curated help (emarctl) passes `list_flags = false`: --help is then the
// usage alone. `--helpfull` prints the usage and every flag of every library. Flag listings name
// flags as users type them (--token-file, which the programs accept like --token_file) and their
// files from the source tree ("Flags from client/emarctl.cc"), not the build machine's path.
// `--version` prints our version, commit and build type (common/build_info.h) and exits 0;
// Abseil's own would print only "Debug build (NDEBUG not #defined)" for Debian's Abseil.
//
//   emar::ExitZeroOnHelp(argc, argv, "server/main.cc");  // before absl::ParseCommandLine
#ifndef EMAR_COMMON_HELP_FLAG_H_
#define EMAR_COMMON_HELP_FLAG_H_

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>

#include "absl/flags/internal/program_name.h"
#include "absl/flags/internal/usage.h"
#include "absl/flags/usage.h"
#include "absl/strings/string_view.h"
#include "common/build_info.h"

namespace emar {

// Abseil's flag listing as users read it: each "--flag_name" as "--flag-name", each "Flags from
// /any/where/client/commands/cli.cc:" as "Flags from client/commands/cli.cc:" (from the source
// tree's top directory, or Abseil's; else the last two parts of the path).
inline std::string NormalizedFlagsHelp(const std::string& listing) {
  std::istringstream in(listing);
  std::string out, line;
  while (std::getline(in, line)) {
    const size_t from = line.find("Flags from ");
    const size_t dash = line.find("--");
    if (from != std::string::npos && !line.empty() && line.back() == ':') {
      const std::string path = "/" + line.substr(from + 11, line.size() - from - 12);
      size_t top = std::string::npos;
      for (const char* dir :
           {"/client/", "/server/", "/worker/", "/common/", "/eval/", "/embedded/", "/absl/"}) {
        top = std::min(top, path.rfind(dir));
      }
      if (top == std::string::npos) {
        const size_t last = path.rfind('/');
        top = last == 0 ? 0 : path.rfind('/', last - 1);
      }
      line = line.substr(0, from + 11) + path.substr(top + 1) + ":";
    } else if (dash != std::string::npos && line.find_first_not_of(' ') == dash) {
      for (size_t i = dash + 2; i < line.size() && line[i] != ' '; ++i) {
        if (line[i] == '_') line[i] = '-';
      }
    }
    out += line + "\n";
  }
  return out;
}

// `flags_file`: the source file defining the program's flags (a substring of its path), so the
// listing shows those and not every library's. Call it first thing in main: it may std::exit.
// NOLINTBEGIN(concurrency-mt-unsafe): exit is not thread-safe, and no other thread runs yet
inline void ExitZeroOnHelp(int argc, char** argv, absl::string_view flags_file,
                           bool list_flags = true) {
  for (int i = 1; i < argc; ++i) {
    const absl::string_view a = argv[i];
    if (a == "--") return;
    if (a == "--version" || a == "-version") {
      const absl::string_view path = argv[0];
      const size_t slash = path.rfind('/');
      std::cout << VersionLine(slash == absl::string_view::npos ? path : path.substr(slash + 1))
                << "\n";
      std::exit(0);
    }
    const bool full = a == "--helpfull" || a == "-helpfull";
    if (full || a == "--help" || a == "-help" || a == "-h") {
      absl::flags_internal::SetProgramInvocationName(argv[0]);
      if (!full && !list_flags) {
        const absl::string_view path = argv[0];
        const size_t slash = path.rfind('/');
        std::cout << (slash == absl::string_view::npos ? path : path.substr(slash + 1)) << ": "
                  << absl::ProgramUsageMessage() << "\n\nEvery flag: --helpfull\n";
        std::exit(0);
      }
      std::ostringstream listing;
      absl::flags_internal::FlagsHelp(listing, full ? "" : flags_file,
                                      absl::flags_internal::HelpFormat::kHumanReadable,
                                      absl::ProgramUsageMessage());
      std::cout << NormalizedFlagsHelp(listing.str());
      std::exit(0);
    }
  }
}
// NOLINTEND(concurrency-mt-unsafe)

}  // namespace emar

#endif  // EMAR_COMMON_HELP_FLAG_H_
