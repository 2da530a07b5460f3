// A small job written to a directory, for coordinator tests: 4 target items (accuracy), 3
// benchmark items (exact_match); base T0 = 0.5, candidate T1 = 0.75, B0 = 2/3, B1 = 1/3.
#ifndef EMAR_TESTS_SERVER_SMALL_JOB_H_
#define EMAR_TESTS_SERVER_SMALL_JOB_H_

#include <fstream>
#include <string>

#include "client/job_file.h"

namespace emar {

inline void Write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

struct SmallJob {
  explicit SmallJob(const std::string& d) : dir(d) {
    Write(dir + "/t.jsonl", R"({"id": "a", "reference": "pos"}
{"id": "b", "reference": "neg"}
{"id": "c", "reference": "pos"}
{"id": "d", "reference": "neg"}
)");
    Write(dir + "/b.jsonl", R"({"id": 1, "references": ["Paris"]}
{"id": 2, "references": ["the Beatles", "Beatles"]}
{"id": 3, "references": ["1989"]}
)");
    Write(dir + "/base.t.jsonl",
          "{\"id\": \"a\", \"prediction\": \"pos\"}\n{\"id\": \"b\", \"prediction\": \"pos\"}\n"
          "{\"id\": \"c\", \"prediction\": \"neg\"}\n{\"id\": \"d\", \"prediction\": \"neg\"}\n");
    Write(dir + "/cand.t.jsonl",
          "{\"id\": \"d\", \"prediction\": \"neg\"}\n{\"id\": \"c\", \"prediction\": \" pos \"}\n"
          "{\"id\": \"b\", \"prediction\": \"neg\"}\n{\"id\": \"a\", \"prediction\": \"neg\"}\n");
    Write(dir + "/base.b.jsonl",
          "{\"id\": 1, \"prediction\": \"paris.\"}\n{\"id\": 2, \"prediction\": \"Beatles\"}\n"
          "{\"id\": 3, \"prediction\": \"1991\"}\n");
    Write(dir + "/cand.b.jsonl",
          "{\"id\": 1, \"prediction\": \"Paris\"}\n{\"id\": 2, \"prediction\": \"The Rolling "
          "Stones\"}\n"
          "{\"id\": 3, \"prediction\": \"1991\"}\n");
    yaml = R"(name: small
target: {name: t, references: t.jsonl, metric: accuracy}
benchmark: {name: b, references: b.jsonl, metric: exact_match}
base: {name: base, target_outputs: base.t.jsonl, benchmark_outputs: base.b.jsonl}
candidates:
  - {name: cand, target_outputs: cand.t.jsonl, benchmark_outputs: cand.b.jsonl}
formula: relative_gain
)";
  }
  JobFile Load() const { return *ParseJobFile(yaml, dir + "/job.yaml", dir); }
  std::string dir;
  std::string yaml;
};

}  // namespace emar

#endif  // EMAR_TESTS_SERVER_SMALL_JOB_H_
