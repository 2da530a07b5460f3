// FUZZ_CHECK(condition) << "context": a property the fuzz targets assert on every input. A
// failure prints the condition and the context to stderr and aborts, which libFuzzer reports as
// a crash and saves the input for. Unlike assert(), it is never compiled out.
#ifndef EMAR_TESTS_FUZZ_FUZZ_CHECK_H_
#define EMAR_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdlib>
#include <iostream>

namespace emar::fuzz {

// Collects the context after `<<` and aborts when destroyed (at the end of the statement).
class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* condition) {
    std::cerr << file << ":" << line << ": FUZZ_CHECK failed: " << condition << ": ";
  }
  CheckFailure(const CheckFailure&) = delete;
  CheckFailure& operator=(const CheckFailure&) = delete;
  ~CheckFailure() {
    std::cerr << std::endl;
    std::abort();
  }
  template <typename T>
  CheckFailure& operator<<(const T& value) {
    std::cerr << value;
    return *this;
  }
};

}  // namespace emar::fuzz

#define FUZZ_CHECK(condition) \
  if (condition) {            \
  } else                      \
    ::emar::fuzz::CheckFailure(__FILE__, __LINE__, #condition)

#endif  // EMAR_TESTS_FUZZ_FUZZ_CHECK_H_
