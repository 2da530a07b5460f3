// glibc's malloc gives threads their own arenas (up to eight per core), and a block freed into
// one arena is reused only by the threads that allocate from it. The coordinator's gRPC, planner,
// finalizer and result threads, and the embedded mode's worker threads, each left tens of MB of
// freed blocks in arenas of their own (with transparent huge pages, in whole 2 MiB pages): the
// embedded 10 x 100k suite peaked at ~200 MB for ~100 MB of live heap, the coordinator at ~165 MB
// for ~60 MB. Two arenas serve both cores with that memory reused (bench/README.md, "Scale
// targets"). The binaries call it first thing in main, before any thread starts;
// MALLOC_ARENA_MAX or glibc.malloc.arena_max in GLIBC_TUNABLES, when set, win.
//
//   int main(int argc, char** argv) {
//     emar::LimitMallocArenas();
#ifndef EMAR_COMMON_MALLOC_ARENAS_H_
#define EMAR_COMMON_MALLOC_ARENAS_H_

#include <malloc.h>

#include <cstdlib>
#include <cstring>

namespace emar {

inline constexpr int kMallocArenas = 2;

inline void LimitMallocArenas() {
  if (std::getenv("MALLOC_ARENA_MAX") != nullptr) return;
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::strstr(tunables, "arena_max") != nullptr) return;
  ::mallopt(M_ARENA_MAX, kMallocArenas);
}

}  // namespace emar

#endif  // EMAR_COMMON_MALLOC_ARENAS_H_
