#include "common/build_info.h"

#include "absl/strings/str_cat.h"
#include "common/build_commit.h"  // generated: cmake/write_build_commit.cmake

namespace emar {

const char* BuildVersion() { return EMAR_VERSION; }
const char* BuildCommit() { return EMAR_BUILD_COMMIT; }

bool IsReleaseBuild() {
#ifdef NDEBUG
  return true;
#else
  return false;
#endif
}

std::string VersionLine(absl::string_view program) {
  return absl::StrCat(program, " ", BuildVersion(), " (commit ", BuildCommit(), ", ",
                      IsReleaseBuild() ? "release" : "debug", " build)");
}

}  // namespace emar
