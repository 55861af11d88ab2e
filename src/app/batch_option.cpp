#include "deepmr/app/batch_option.hpp"

#include <cctype>

#include "deepmr/common/error.hpp"

namespace deepmr::app {

int parse_batch(const std::string& text, const std::string& option) {
  if (text == "auto") return 0;
  bool digits = !text.empty() && text.size() <= 9;
  for (char c : text) digits = digits && std::isdigit(static_cast<unsigned char>(c));
  const int value = digits ? std::stoi(text) : 0;
  if (value < 1)
    throw UsageError("option '" + option + "' must be a number of at least 1 or auto, not '" + text + "'");
  return value;
}

}  // namespace deepmr::app
