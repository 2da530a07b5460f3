// How many times `needle` occurs in `haystack` (overlaps counted): charts on a page, rows of a
// table, in the rendering tests of tests/client/.
#ifndef EMAR_TESTS_CLIENT_COUNT_MATCHES_H_
#define EMAR_TESTS_CLIENT_COUNT_MATCHES_H_

#include <cstddef>
#include <string>

namespace emar {

inline size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1))
    ++n;
  return n;
}

}  // namespace emar

#endif  // EMAR_TESTS_CLIENT_COUNT_MATCHES_H_
