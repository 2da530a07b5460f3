// A temporary directory for a test, removed with everything in it on destruction.
#ifndef EMAR_TESTS_SERVER_TEMP_DIR_H_
#define EMAR_TESTS_SERVER_TEMP_DIR_H_

#include <ftw.h>
#include <stdlib.h>

#include <cstdio>
#include <string>

namespace emar {

class TempDir {
 public:
  TempDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/emar-test-XXXXXX";
    path_ = ::mkdtemp(templ.data()) ? templ : "";
  }
  ~TempDir() {
    if (!path_.empty()) {
      ::nftw(
          path_.c_str(),
          [](const char* p, const struct stat*, int, struct FTW*) { return ::remove(p); }, 16,
          FTW_DEPTH | FTW_PHYS);
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace emar

#endif  // EMAR_TESTS_SERVER_TEMP_DIR_H_
