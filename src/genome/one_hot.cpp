#include "deepmr/genome/one_hot.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "deepmr/common/error.hpp"

namespace deepmr::genome {
namespace {

char complement_letter(char c) {
  switch (c) {
    case 'A': return 'T';
    case 'C': return 'G';
    case 'G': return 'C';
    default: return 'A';  // T
  }
}

std::string printable(char c) {
  if (std::isprint(static_cast<unsigned char>(c))) return std::string("'") + c + "'";
  return "byte " + std::to_string(static_cast<unsigned char>(c));
}

}  // namespace

Alphabet::Alphabet(std::string_view upper_letters) : letters_(upper_letters) {
  table_.fill(kInvalid);
  table_['N'] = table_['n'] = kN;
  for (int c = 0; c < 4; ++c) {
    const char letter = letters_[static_cast<std::size_t>(c)];
    table_[static_cast<unsigned char>(letter)] = static_cast<std::int8_t>(c);
    table_[static_cast<unsigned char>(std::tolower(static_cast<unsigned char>(letter)))] = static_cast<std::int8_t>(c);
  }
  for (int c = 0; c < 4; ++c)
    complement_[static_cast<std::size_t>(c)] = table_[static_cast<unsigned char>(complement_letter(letters_[static_cast<std::size_t>(c)]))];
}

Alphabet Alphabet::parse(std::string_view letters, const std::string& option) {
  std::string upper(letters);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string sorted = upper;
  std::sort(sorted.begin(), sorted.end());
  if (sorted != "ACGT")
    throw UsageError("option '" + option + "': '" + std::string(letters) +
                     "' is not an order of the four bases (write e.g. ACGT, or AGCT for DeepSEA)");
  return Alphabet(upper);
}

NPolicy parse_n_policy(std::string_view text, const std::string& option) {
  if (text == "skip") return NPolicy::skip;
  if (text == "quarter") return NPolicy::quarter;
  throw UsageError("option '" + option + "': unknown N policy '" + std::string(text) +
                   "' (use skip, to leave out windows with N, or quarter, to encode N as 0.25)");
}

std::string to_string(NPolicy policy) { return policy == NPolicy::skip ? "skip" : "quarter"; }

bool encode_one_hot(std::string_view sequence, const Alphabet& alphabet, NPolicy policy, float* out) {
  const std::size_t length = sequence.size();
  std::fill(out, out + 4 * length, 0.0f);
  for (std::size_t i = 0; i < length; ++i) {
    const int c = alphabet.channel(sequence[i]);
    if (c >= 0) {
      out[static_cast<std::size_t>(c) * length + i] = 1.0f;
    } else if (c == Alphabet::kN) {
      if (policy == NPolicy::skip) return false;
      for (std::size_t k = 0; k < 4; ++k) out[k * length + i] = 0.25f;
    } else {
      throw InputError("sequence position " + std::to_string(i) + " holds " + printable(sequence[i]) +
                       ", which is not A, C, G, T or N");
    }
  }
  return true;
}

std::vector<float> one_hot(std::string_view sequence, const Alphabet& alphabet, NPolicy policy) {
  std::vector<float> out(4 * sequence.size());
  if (!encode_one_hot(sequence, alphabet, policy, out.data())) out.clear();
  return out;
}

bool contains_n(std::string_view sequence) {
  // memchr is vectorised; find_first_of compares every byte with every candidate.
  return std::memchr(sequence.data(), 'N', sequence.size()) || std::memchr(sequence.data(), 'n', sequence.size());
}

void convert_alphabet(const float* in, std::size_t length, const Alphabet& from, const Alphabet& to, float* out) {
  for (std::size_t c = 0; c < 4; ++c) {
    const auto target = static_cast<std::size_t>(to.channel(from.letters()[c]));
    std::memcpy(out + target * length, in + c * length, length * sizeof(float));
  }
}

OneHotCheck check_one_hot(const float* in, std::size_t length) {
  OneHotCheck check;
  for (std::size_t i = 0; i < length; ++i) {
    int ones = 0, zeros = 0, quarters = 0;
    for (std::size_t c = 0; c < 4; ++c) {
      const float v = in[c * length + i];
      ones += v == 1.0f;
      zeros += v == 0.0f;
      quarters += v == 0.25f;
    }
    if (ones == 1 && zeros == 3) continue;
    if (zeros == 4 || quarters == 4) {
      ++check.n_positions;
      continue;
    }
    if (check.first_invalid < 0) check.first_invalid = static_cast<std::int64_t>(i);
  }
  return check;
}

void fill_n_quarter(float* data, std::size_t length) {
  for (std::size_t i = 0; i < length; ++i) {
    float sum = 0;
    for (std::size_t c = 0; c < 4; ++c) sum += data[c * length + i];
    if (sum == 0.0f)
      for (std::size_t c = 0; c < 4; ++c) data[c * length + i] = 0.25f;
  }
}

std::string decode_one_hot(const float* in, std::size_t length, const Alphabet& alphabet) {
  std::string out(length, 'N');
  for (std::size_t i = 0; i < length; ++i) {
    int base = -1, ones = 0, zeros = 0, quarters = 0;
    for (std::size_t c = 0; c < 4; ++c) {
      const float v = in[c * length + i];
      if (v == 1.0f) {
        ++ones;
        base = static_cast<int>(c);
      }
      zeros += v == 0.0f;
      quarters += v == 0.25f;
    }
    if (ones == 1 && zeros == 3) out[i] = alphabet.letters()[static_cast<std::size_t>(base)];
    else if (zeros != 4 && quarters != 4)
      throw InputError("one-hot position " + std::to_string(i) + " is neither a base nor N");
  }
  return out;
}

}  // namespace deepmr::genome
