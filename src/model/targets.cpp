#include "deepmr/model/targets.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <regex>

#include "deepmr/common/error.hpp"

namespace deepmr::model {

std::vector<std::string> read_targets_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ModelError(path + ": cannot read the targets file (check the path)");
  std::vector<std::string> names;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    if (line.empty()) {
      // A final empty line is just the file's last newline.
      if (in.peek() == std::char_traits<char>::eof()) break;
      throw ModelError(at(path, number) + "empty target name (one output name per line)");
    }
    names.push_back(line);
  }
  if (names.empty()) throw ModelError(path + ": the targets file is empty");
  return names;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::string current;
  for (char c : text) {
    if (c == ',') {
      out.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  out.push_back(current);
  for (auto& item : out) {
    auto first = item.find_first_not_of(" \t");
    auto last = item.find_last_not_of(" \t");
    item = first == std::string::npos ? "" : item.substr(first, last - first + 1);
  }
  out.erase(std::remove(out.begin(), out.end(), std::string()), out.end());
  return out;
}

namespace {

// The outputs named "HEAD:i" (a graph model's flattened outputs, graph.hpp) for the head `head`.
std::vector<int> head_elements(const std::string& head, const std::vector<std::string>& names) {
  std::vector<int> elements;
  const std::string prefix = head + ":";
  for (int i = 0; i < static_cast<int>(names.size()); ++i) {
    const auto& name = names[i];
    if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0 &&
        std::all_of(name.begin() + static_cast<std::ptrdiff_t>(prefix.size()), name.end(),
                    [](unsigned char c) { return std::isdigit(c); }))
      elements.push_back(i);
  }
  return elements;
}

}  // namespace

std::vector<int> resolve_outputs(const std::vector<std::string>& requested, const std::vector<std::string>& names,
                                 int output_count) {
  if (!names.empty() && static_cast<int>(names.size()) != output_count)
    throw ModelError("the targets file names " + std::to_string(names.size()) + " outputs but the model has " +
                     std::to_string(output_count));
  std::vector<int> out;
  for (const auto& item : requested) {
    const bool numeric = !item.empty() && std::all_of(item.begin(), item.end(), [](unsigned char c) { return std::isdigit(c); });
    if (numeric) {
      const long index = item.size() > 9 ? -1 : std::stol(item);
      if (index < 0 || index >= output_count)
        throw ModelError("output index " + item + " is out of range: the model has " + std::to_string(output_count) +
                         " outputs (0.." + std::to_string(output_count - 1) + ")");
      out.push_back(static_cast<int>(index));
      continue;
    }
    if (names.empty())
      throw ModelError("output '" + item + "' is a name but no targets file names the outputs; give --targets or a 0-based index");
    std::vector<int> matches;
    for (int i = 0; i < static_cast<int>(names.size()); ++i)
      if (names[i] == item) matches.push_back(i);
    // A bare head name ("counts") stands for its element when the head has one ("counts:0").
    if (matches.empty()) matches = head_elements(item, names);
    if (matches.size() > 1 && names[matches.front()] != item)
      throw ModelError("output '" + item + "' is a head of " + std::to_string(matches.size()) + " outputs (" +
                       names[matches.front()] + " .. " + names[matches.back()] +
                       "); name one of them, or reduce the head to one output per task (model.reduce, --reduce)");
    if (matches.empty()) {
      std::string hint;
      for (int i = 0; i < static_cast<int>(names.size()) && hint.size() < 200; ++i)
        if (names[i].find(item) != std::string::npos) hint += (hint.empty() ? "" : ", ") + names[i];
      throw ModelError("unknown output '" + item + "'" + (hint.empty() ? " (check the targets file)" : " (did you mean: " + hint + "?)"));
    }
    if (matches.size() > 1) {
      std::string list;
      for (int m : matches) list += (list.empty() ? "" : ", ") + std::to_string(m);
      throw ModelError("output name '" + item + "' is ambiguous: outputs " + list + " carry it; give the index instead");
    }
    out.push_back(matches.front());
  }
  return out;
}

std::vector<std::string> outputs_matching(const std::string& pattern, const std::vector<std::string>& names,
                                          const std::vector<int>& outcomes, const std::string& key) {
  std::regex expression;
  try {
    expression = std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw UsageError("option '" + key + "': '" + pattern + "' is not a regular expression (" + e.what() + ")");
  }
  if (names.empty()) throw UsageError("option '" + key + "' needs output names: give model.targets");
  std::vector<std::string> out;
  for (int i = 0; i < static_cast<int>(names.size()); ++i)
    if (std::find(outcomes.begin(), outcomes.end(), i) == outcomes.end() && std::regex_match(names[i], expression))
      out.push_back(names[i]);
  if (out.empty()) throw UsageError("option '" + key + "': no output name matches '" + pattern + "'");
  return out;
}

}  // namespace deepmr::model
