#pragma once
// Options of a deepmr command from the command line and from an INI config file (--config FILE).
// The command line wins over the file. INI sections prefix their keys: `[store] path = x` is the
// option `store.path`, also settable as `--store.path x`. Unknown keys, wrong types and missing
// required values are UsageErrors naming the key, with file and line when it came from a file.

#include <boost/program_options.hpp>
#include <cstdint>
#include <map>
#include <istream>
#include <string>
#include <vector>

namespace deepmr::app {

namespace po = boost::program_options;

// One `key = value` line of a config file.
struct ConfigEntry {
  std::string key;  // section-qualified: "section.key", or "key" before any section
  std::string value;
  std::string file;
  int line = 0;
};

// Reads an INI file: `[section]` headers, `key = value` lines, `#` or `;` comments (whole lines, or
// after whitespace), blank lines; a UTF-8 byte-order mark at the start is skipped. Throws UsageError
// (file and line) on malformed lines.
std::vector<ConfigEntry> read_config_file(const std::string& path);
// The same for INI text from a stream; `origin` names it in errors and in each entry's `file`.
std::vector<ConfigEntry> read_config_text(std::istream& in, const std::string& origin);

struct ParsedOptions {
  po::variables_map values;
  std::string config_path;  // empty when no --config was given
  std::string config_text;  // the config file verbatim (for provenance)
};

// Parses `args` (everything after the command name) against `options` (which must not define
// --config or --help; they are added here). Throws UsageError with the offending key.
ParsedOptions parse_options(const std::string& command, const po::options_description& options,
                            const po::positional_options_description& positional,
                            const std::vector<std::string>& args);

// A string-typed option read as an integer in [0, max]; throws UsageError naming the option
// otherwise (Boost would wrap "-1" around for unsigned types).
std::uint64_t unsigned_option(const po::variables_map& values, const std::string& name,
                              std::uint64_t max = UINT64_MAX);
std::uint64_t unsigned_option(const ParsedOptions& parsed, const std::string& name,
                              std::uint64_t max = UINT64_MAX);

}  // namespace deepmr::app
