// Lets binaries accept --dashed-flag-names beside Abseil's --underscored_flag_names: rewrites
// the name part of each "--name[=value]" argument in place, before absl::ParseCommandLine.
// A bare "--" ends flag processing, as it does for Abseil.
#ifndef EMAR_COMMON_FLAG_NAMES_H_
#define EMAR_COMMON_FLAG_NAMES_H_

#include <cstring>

namespace emar {

inline void NormalizeFlagNames(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    char* a = argv[i];
    if (std::strcmp(a, "--") == 0) return;
    if (a[0] != '-' || a[1] != '-') continue;
    for (char* p = a + 2; *p != '\0' && *p != '='; ++p) {
      if (*p == '-') *p = '_';
    }
  }
}

}  // namespace emar

#endif  // EMAR_COMMON_FLAG_NAMES_H_
