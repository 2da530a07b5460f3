// Helpers shared by the eval/input tests.
#ifndef EMAR_TESTS_EVAL_INPUT_INPUT_TEST_UTIL_H_
#define EMAR_TESTS_EVAL_INPUT_INPUT_TEST_UTIL_H_

#include <fstream>
#include <sstream>
#include <string>

#include "common/status_matchers.h"
#include "gmock/gmock.h"

namespace emar::input_test {

// The contents of testdata/<relative>; fails the test when unreadable.
inline std::string ReadTestdata(const std::string& relative) {
  const std::string path = std::string(EMAR_TESTDATA_DIR) + "/" + relative;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace emar::input_test

#endif  // EMAR_TESTS_EVAL_INPUT_INPUT_TEST_UTIL_H_
