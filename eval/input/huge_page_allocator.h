// A std::allocator for large, randomly accessed tables (the reference rows and the id index):
// blocks of 2 MiB or more are 2 MiB-aligned and advised to use transparent huge pages, so that a
// random lookup does not also miss the TLB (with 4 KiB pages a 64 MiB table spans 16k pages, and
// a page walk costs as much as the cache miss). Smaller blocks are plain aligned allocations.
//
//   std::vector<uint64_t, HugePageAllocator<uint64_t>> slots(1 << 21);
//
// Stateless and thread-safe. Where THP is off (`never`) the advice is ignored and nothing else
// changes.
#ifndef EMAR_EVAL_INPUT_HUGE_PAGE_ALLOCATOR_H_
#define EMAR_EVAL_INPUT_HUGE_PAGE_ALLOCATOR_H_

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <new>

namespace emar {

template <typename T>
class HugePageAllocator {
 public:
  using value_type = T;

  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT: rebinding, as std::allocator

  T* allocate(size_t n) {
    if (n > static_cast<size_t>(-1) / sizeof(T)) throw std::bad_alloc();
    const size_t bytes = n * sizeof(T);
    const bool huge = bytes >= kHugePage;
    const size_t align = huge ? kHugePage : (alignof(T) > 64 ? alignof(T) : 64);
    const size_t rounded = (bytes + align - 1) / align * align;
    void* p = std::aligned_alloc(align, rounded == 0 ? align : rounded);
    if (p == nullptr) throw std::bad_alloc();
    if (huge) ::madvise(p, rounded, MADV_HUGEPAGE);
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) { std::free(p); }

  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
  template <typename U>
  bool operator!=(const HugePageAllocator<U>&) const {
    return false;
  }

 private:
  static constexpr size_t kHugePage = size_t{2} << 20;
};

}  // namespace emar

#endif  // EMAR_EVAL_INPUT_HUGE_PAGE_ALLOCATOR_H_
