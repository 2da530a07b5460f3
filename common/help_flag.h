// `--help` (or `-h`) prints the program's usage and its own flags and exits 0. Abseil's parser
// would print the same but exit 1, which scripts and image checks read as a failure.
// `--version` prints our version, commit and build type (common/build_info.h) and exits 0;
// Abseil's own would print only "Debug build (NDEBUG not #defined)" for Debian's Abseil.
//
//   emar::ExitZeroOnHelp(argc, argv, "server/main.cc");  // before absl::ParseCommandLine
#ifndef EMAR_COMMON_HELP_FLAG_H_
#define EMAR_COMMON_HELP_FLAG_H_

#include <cstdlib>
#include <iostream>

#include "absl/flags/internal/program_name.h"
#include "absl/flags/internal/usage.h"
#include "absl/flags/usage.h"
#include "absl/strings/string_view.h"
#include "common/build_info.h"

namespace emar {

// `flags_file`: the source file defining the program's flags (a substring of its path), so the
// listing shows those and not every library's.
inline void ExitZeroOnHelp(int argc, char** argv, absl::string_view flags_file) {
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
    if (a == "--help" || a == "-help" || a == "-h") {
      absl::flags_internal::SetProgramInvocationName(argv[0]);
      absl::flags_internal::FlagsHelp(std::cout, flags_file,
                                      absl::flags_internal::HelpFormat::kHumanReadable,
                                      absl::ProgramUsageMessage());
      std::exit(0);
    }
  }
}

}  // namespace emar

#endif  // EMAR_COMMON_HELP_FLAG_H_
