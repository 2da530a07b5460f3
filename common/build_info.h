// What this binary is: our version (the CMake project's), the commit it was built from, and
// whether it is a release build (NDEBUG: asserts off). `--version` prints VersionLine, and
// /metrics exports the same as emar_build_info.
//
//   std::cout << emar::VersionLine("emar-worker") << "\n";
//   // emar-worker 0.1.0 (commit 95b1bb3c41d2, release build)
#ifndef EMAR_COMMON_BUILD_INFO_H_
#define EMAR_COMMON_BUILD_INFO_H_

#include <string>

#include "absl/strings/string_view.h"

namespace emar {

const char* BuildVersion();  // e.g. "0.1.0"
const char* BuildCommit();   // `git describe` of the source tree ("-dirty" if edited), or "unknown"
bool IsReleaseBuild();       // NDEBUG was defined
std::string VersionLine(absl::string_view program);

}  // namespace emar

#endif  // EMAR_COMMON_BUILD_INFO_H_
