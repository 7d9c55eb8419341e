// Counts heap allocations (malloc, calloc, realloc) made while a counter is active. Eigen
// allocates with std::malloc, not operator new, so the count interposes the C functions:
// allocation_counter.cpp defines them in this test binary, which the dynamic linker then
// prefers over glibc's for every library of the process, plugins included.
#pragma once

namespace cellzoo::testing {

class AllocationCounter {
 public:
  AllocationCounter();   // starts counting (one counter at a time)
  ~AllocationCounter();  // stops
  AllocationCounter(const AllocationCounter&) = delete;
  AllocationCounter& operator=(const AllocationCounter&) = delete;
  long count() const;  // allocations since construction
};

}  // namespace cellzoo::testing
