#include "deepmr/app/options.hpp"

#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

#include "deepmr/common/error.hpp"

namespace deepmr::app {
namespace {

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  const auto end = s.find_last_not_of(" \t\r\n");
  return s.substr(begin, end - begin + 1);
}

// Drops a trailing comment that starts with '#' or ';' after whitespace (paths may contain '#').
std::string strip_inline_comment(const std::string& s) {
  for (std::size_t i = 1; i < s.size(); ++i)
    if ((s[i] == '#' || s[i] == ';') && (s[i - 1] == ' ' || s[i - 1] == '\t')) return s.substr(0, i);
  return s;
}

std::string option_of_error(const po::error& e) {
  if (auto* named = dynamic_cast<const po::error_with_option_name*>(&e)) {
    std::string name = named->get_option_name();
    while (!name.empty() && name.front() == '-') name.erase(0, 1);
    return name;
  }
  return "";
}

// po::error::what() fills in its %placeholders% (%value%, %canonical_option%, ...) by replacing
// each until none is left: user text that holds one itself ("%value%") never ends (found by the
// config fuzz harness). Errors whose user text holds a '%' are therefore worded here, naming the
// option, and what() is not called.
bool holds_percent(const std::vector<std::string>& texts) {
  for (const auto& text : texts)
    if (text.find('%') != std::string::npos) return true;
  return false;
}

std::string describe(const po::error& e, const std::vector<std::string>& user_texts) {
  if (!holds_percent(user_texts)) return e.what();
  const std::string name = option_of_error(e);
  const std::string what = dynamic_cast<const po::unknown_option*>(&e) ? "unrecognised option"
                           : dynamic_cast<const po::multiple_occurrences*>(&e) ? "option given more than once"
                                                                                  : "invalid value";
  return name.empty() ? what : what + " for option '" + name + "'";
}

}  // namespace

std::vector<ConfigEntry> read_config_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError(path + ": cannot read the config file (check the path given to --config)");
  return read_config_text(in, path);
}

std::vector<ConfigEntry> read_config_text(std::istream& in, const std::string& path) {
  std::vector<ConfigEntry> entries;
  std::string raw, section;
  int line = 0;
  while (std::getline(in, raw)) {
    ++line;
    // Editors on Windows may start a UTF-8 file with a byte-order mark; it is not part of the text.
    if (line == 1 && raw.compare(0, 3, "\xEF\xBB\xBF") == 0) raw.erase(0, 3);
    std::string text = trim(raw);
    if (text.empty() || text[0] == '#' || text[0] == ';') continue;
    text = trim(strip_inline_comment(text));
    if (text.front() == '[') {
      if (text.back() != ']' || text.size() < 3)
        throw UsageError(at(path, line) + "malformed section header '" + text + "' (write [name])");
      section = trim(text.substr(1, text.size() - 2));
      continue;
    }
    const auto eq = text.find('=');
    if (eq == std::string::npos)
      throw UsageError(at(path, line) + "expected 'key = value', found '" + text + "'");
    std::string key = trim(text.substr(0, eq));
    if (key.empty()) throw UsageError(at(path, line) + "missing key before '='");
    entries.push_back({section.empty() ? key : section + "." + key, trim(text.substr(eq + 1)), path, line});
  }
  return entries;
}

ParsedOptions parse_options(const std::string& command, const po::options_description& options,
                            const po::positional_options_description& positional,
                            const std::vector<std::string>& args) {
  po::options_description all;
  all.add_options()("config", po::value<std::string>()->value_name("FILE"), "INI config file");
  all.add(options);

  ParsedOptions parsed;
  std::vector<std::string> user_texts = args;  // what an error message may quote (describe())
  const std::string help_hint = " (see deepmr " + command + " --help)";
  try {
    // No abbreviations: a script that says --mc-sample must not silently mean --mc-samples.
    const int style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    auto cli = po::command_line_parser(args).options(all).positional(positional).style(style).run();
    po::store(cli, parsed.values);
  } catch (const po::error& e) {
    throw UsageError(describe(e, args) + help_hint);
  }

  if (parsed.values.count("config")) {
    parsed.config_path = parsed.values["config"].as<std::string>();
    const auto entries = read_config_file(parsed.config_path);
    for (const auto& entry : entries) user_texts.push_back(entry.value);
    {
      std::ifstream in(parsed.config_path);
      std::ostringstream text;
      text << in.rdbuf();
      parsed.config_text = text.str();
    }
    // One entry at a time, so that an error is pinned to its file and line. The command line
    // was stored first, and po::store never overwrites a stored value: the command line wins. A
    // repeatable key given on the command line replaces the file's lines of it (not added to them).
    std::set<std::string> on_command_line;
    for (const auto& [key, value] : parsed.values)
      if (!value.defaulted()) on_command_line.insert(key);
    std::map<std::string, int> first_line;
    for (const auto& entry : entries) {
      if (entry.key == "config")
        throw UsageError(at(entry.file, entry.line) + "a config file cannot include another (key 'config')");
      const auto* description = all.find_nothrow(entry.key, false);
      if (!description)
        throw UsageError(at(entry.file, entry.line) + "unknown key '" + entry.key + "' for deepmr " + command +
                         help_hint);
      auto [seen, fresh] = first_line.emplace(entry.key, entry.line);
      if (!fresh && !description->semantic()->is_composing())
        throw UsageError(at(entry.file, entry.line) + "key '" + entry.key + "' is set twice (first on line " +
                         std::to_string(seen->second) + ")");
      if (on_command_line.count(entry.key)) continue;
      po::parsed_options one(&all);
      one.options.emplace_back(entry.key, std::vector<std::string>{entry.value});
      one.options.back().original_tokens = {entry.key, entry.value};
      try {
        po::store(one, parsed.values);
      } catch (const po::error& e) {
        const std::string what = holds_percent({entry.value}) ? "invalid value '" + entry.value + "'" : e.what();
        throw UsageError(at(entry.file, entry.line) + "key '" + entry.key + "': " + what);
      }
    }
  }

  try {
    po::notify(parsed.values);
  } catch (const po::required_option& e) {
    throw UsageError("missing required option '" + option_of_error(e) + "'" + help_hint);
  } catch (const po::error& e) {
    throw UsageError(describe(e, user_texts) + help_hint);
  }
  return parsed;
}

std::uint64_t unsigned_option(const ParsedOptions& parsed, const std::string& name, std::uint64_t max) {
  return unsigned_option(parsed.values, name, max);
}

std::uint64_t unsigned_option(const po::variables_map& values, const std::string& name, std::uint64_t max) {
  const std::string text = values[name].as<std::string>();
  std::uint64_t value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  const bool whole = !text.empty() && result.ec == std::errc() && result.ptr == text.data() + text.size();
  if (!whole || value > max) {
    const std::string range = max == UINT64_MAX ? "a non-negative integer" : "an integer from 0 to " + std::to_string(max);
    throw UsageError("option '" + name + "': expected " + range + ", got '" + text + "'");
  }
  return value;
}

}  // namespace deepmr::app
