#pragma once
// LeakSanitizer and third-party start-up: Open MPI, PMIx and their dynamically loaded components
// allocate global state in MPI_Init and MPI_Finalize that lives until exit, and unload their
// components before LeakSanitizer runs, so those leaks cannot be named in scripts/lsan.supp (their
// frames are "<unknown module>"). Allocations made while a LeakCheckPause is alive are not reported.
// Only MPI start-up and shutdown are wrapped; every allocation of deepmr's own stays checked.
// Without AddressSanitizer this is an empty object.

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define DEEPMR_HAS_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/lsan_interface.h>
#define DEEPMR_HAS_LSAN 1
#endif
#endif

namespace deepmr {

class LeakCheckPause {
 public:
#ifdef DEEPMR_HAS_LSAN
  LeakCheckPause() { __lsan_disable(); }
  ~LeakCheckPause() { __lsan_enable(); }
#else
  LeakCheckPause() = default;
#endif
  LeakCheckPause(const LeakCheckPause&) = delete;
  LeakCheckPause& operator=(const LeakCheckPause&) = delete;
};

}  // namespace deepmr
