// Lets binaries accept --dashed-flag-names beside Abseil's --underscored_flag_names: returns a
// copy of argv where the name part of each "--name[=value]" argument has '-' turned into '_'.
// argv itself stays as it was, so `ps` and `pkill -f` see the command line the user typed.
// A bare "--" ends flag processing, as it does for Abseil.
//
//   NormalizedArgs args(argc, argv);
//   absl::ParseCommandLine(args.argc(), args.argv());
#ifndef EMAR_COMMON_FLAG_NAMES_H_
#define EMAR_COMMON_FLAG_NAMES_H_

#include <string>
#include <vector>

namespace emar {

class NormalizedArgs {
 public:
  NormalizedArgs(int argc, char** argv) : strings_(argv, argv + argc) {
    for (size_t i = 1; i < strings_.size(); ++i) {
      std::string& a = strings_[i];
      if (a == "--") break;
      if (a.size() < 3 || a[0] != '-' || a[1] != '-') continue;
      for (size_t p = 2; p < a.size() && a[p] != '='; ++p) {
        if (a[p] == '-') a[p] = '_';
      }
    }
    for (std::string& s : strings_) pointers_.push_back(s.data());
    pointers_.push_back(nullptr);
  }
  // Removes every "--name=VALUE" and "--name VALUE" (name as normalized, with '_') and returns
  // the values in order: a flag that may be given many times, e.g. --label k=v --label k2=v2.
  std::vector<std::string> TakeRepeated(const std::string& name) {
    std::vector<std::string> values;
    const std::string flag = "--" + name;
    std::vector<std::string> kept;
    bool done = false;  // after "--"
    for (size_t i = 0; i < strings_.size(); ++i) {
      const std::string& a = strings_[i];
      if (i == 0 || done) {
        kept.push_back(a);
        continue;
      }
      if (a == "--") done = true;
      if (a == flag && i + 1 < strings_.size()) {
        values.push_back(strings_[++i]);
      } else if (a.rfind(flag + "=", 0) == 0) {
        values.push_back(a.substr(flag.size() + 1));
      } else {
        kept.push_back(a);
      }
    }
    strings_ = std::move(kept);
    pointers_.clear();
    for (std::string& s : strings_) pointers_.push_back(s.data());
    pointers_.push_back(nullptr);
    return values;
  }

  NormalizedArgs(const NormalizedArgs&) = delete;
  NormalizedArgs& operator=(const NormalizedArgs&) = delete;

  int argc() const { return static_cast<int>(strings_.size()); }
  // Valid as long as this object lives.
  char** argv() { return pointers_.data(); }

 private:
  std::vector<std::string> strings_;
  std::vector<char*> pointers_;
};

}  // namespace emar

#endif  // EMAR_COMMON_FLAG_NAMES_H_
