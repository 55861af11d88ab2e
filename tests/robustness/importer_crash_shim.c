/* LibTorch's TorchScript importer crashing on demand, for the corpus (LD_PRELOAD): this library's
 * torch::jit::load(const std::string&, c10::optional<c10::Device>), the overload deepmr calls,
 * dies of SIGSEGV as LibTorch 1.13's own does on some damaged archives (a fuzz finding:
 * tests/fuzz/corpus/model/regress_libtorch_parse_class_constant_segv). The
 * real crash depends on the allocator's layout (it shows under ASan, not in a Release build), so
 * the corpus needs this one to show, deterministically, that deepmr turns it into a model error.
 * It never returns, so it need not know the C++ calling convention of the function it replaces. */
#include <signal.h>

void _ZN5torch3jit4loadERKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEEN3c108optionalINS9_6DeviceEEE(void) {
  raise(SIGSEGV);
}
