#include "deepmr/genome/reverse_complement.hpp"

#include <array>

#include "deepmr/common/error.hpp"

namespace deepmr::genome {
namespace {

constexpr std::array<char, 256> complement_table() {
  std::array<char, 256> t{};
  const char from[] = "ACGTNacgtn";
  const char to[] = "TGCANtgcan";
  for (int i = 0; i < 10; ++i) t[static_cast<unsigned char>(from[i])] = to[i];
  return t;
}
constexpr auto kComplement = complement_table();

}  // namespace

std::string reverse_complement(std::string_view sequence) {
  std::string out(sequence.size(), 'N');
  const std::size_t n = sequence.size();
  for (std::size_t i = 0; i < n; ++i) {
    const char c = kComplement[static_cast<unsigned char>(sequence[i])];
    if (c == 0)
      throw InputError("sequence position " + std::to_string(i) + " holds a character that is not A, C, G, T or N");
    out[n - 1 - i] = c;
  }
  return out;
}

void reverse_complement_one_hot(const float* in, std::size_t length, const Alphabet& alphabet, float* out) {
  for (std::size_t c = 0; c < 4; ++c) {
    const float* source = in + c * length;
    float* target = out + static_cast<std::size_t>(alphabet.complement(static_cast<int>(c))) * length;
    for (std::size_t i = 0; i < length; ++i) target[length - 1 - i] = source[i];
  }
}

}  // namespace deepmr::genome
