#include "deepmr/genome/peak_label.hpp"

namespace deepmr::genome {

PeakLabel peak_label(std::string_view name, std::int64_t summit) {
  PeakLabel label;
  if (name != ".") label.name.assign(name);
  label.summit = summit;
  return label;
}

void merge_label(PeakLabel& into, const PeakLabel& other) {
  if (into.summit == PeakLabel::kNoSummit) into.summit = other.summit;
  if (other.name.empty() || other.name == into.name) return;
  if (into.name.empty()) {
    into.name = other.name;
    return;
  }
  // Already among the joined names?
  const std::string joined = "," + into.name + ",";
  if (joined.find("," + other.name + ",") != std::string::npos) return;
  into.name += "," + other.name;
}

}  // namespace deepmr::genome
