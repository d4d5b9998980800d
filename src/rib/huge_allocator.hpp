#pragma once
// An allocator for the routing tables' big arrays. A full table's index and entries are
// tens of megabytes read at random: in 4 KiB pages nearly every lookup also misses the
// TLB. Arrays of 4 MiB and more are mapped on their own and marked for transparent huge
// pages (Linux's default policy is "madvise", so nothing is huge unless asked); they go
// back to the system as soon as they are freed. Smaller ones use the heap as usual.
#include <sys/mman.h>

#include <cstddef>
#include <memory>
#include <new>

namespace anycastd::rib {

template <class T>
struct HugeAllocator {
  using value_type = T;
  static constexpr size_t kHugePage = size_t{2} << 20;
  static constexpr size_t kThreshold = size_t{4} << 20;

  HugeAllocator() = default;
  template <class U>
  HugeAllocator(const HugeAllocator<U>&) {}  // NOLINT: rebinding, as allocators do

  static size_t mapped_size(size_t n) { return (n * sizeof(T) + kHugePage - 1) & ~(kHugePage - 1); }

  T* allocate(size_t n) {
    if (n * sizeof(T) < kThreshold) return std::allocator<T>().allocate(n);
    void* p =
        ::mmap(nullptr, mapped_size(n), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    ::madvise(p, mapped_size(n), MADV_HUGEPAGE);  // a hint: without THP it changes nothing
#endif
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) {
    if (n * sizeof(T) < kThreshold) return std::allocator<T>().deallocate(p, n);
    ::munmap(p, mapped_size(n));
  }
  template <class U>
  bool operator==(const HugeAllocator<U>&) const {
    return true;
  }
};

}  // namespace anycastd::rib
