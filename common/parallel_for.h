// Runs fn(0) .. fn(n - 1) on up to `threads` threads, the caller's among them, each thread taking
// the next index as it finishes one (so uneven items still keep the threads busy). Returns when
// every call has returned. fn must be safe to run concurrently for different indices; an
// exception thrown by fn ends the process, as on any thread.
//
//   std::vector<absl::Status> done(files.size());
//   ParallelFor(files.size(), 2, [&](size_t i) { done[i] = Read(files[i]); });
//   for (const absl::Status& s : done) RETURN_IF_ERROR(s);  // the first error in index order
#ifndef EMAR_COMMON_PARALLEL_FOR_H_
#define EMAR_COMMON_PARALLEL_FOR_H_

#include <cstddef>

#include "absl/functional/function_ref.h"

namespace emar {

void ParallelFor(size_t n, int threads, absl::FunctionRef<void(size_t)> fn);

}  // namespace emar

#endif  // EMAR_COMMON_PARALLEL_FOR_H_
