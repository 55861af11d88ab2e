#pragma once
// Helpers shared by the tests: temporary directories, running the real deepmr binary, reading files.

#include <sys/wait.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace deepmr::test {

inline std::string source_dir() { return DEEPMR_SOURCE_DIR; }
inline std::string binary_dir() { return DEEPMR_BINARY_DIR; }
inline std::string deepmr_binary() { return binary_dir() + "/bin/deepmr"; }
inline std::string python() { return DEEPMR_PYTHON; }

// Equal bit for bit, not only in value (-0.0 differs from 0.0): the determinism tests' criterion.
template <typename T>
bool bitwise_equal(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

// The message of the E that `call` throws; "" when it throws none (another exception escapes), so
// that a search in it for the expected text fails.
template <typename E, typename Call>
std::string error_message(Call&& call) {
  try {
    call();
  } catch (const E& e) {
    return e.what();
  }
  return "";
}

// A line split at every tab (an empty field where two tabs meet or the line ends in one).
inline std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  for (;;) {
    const std::size_t tab = line.find('\t', start);
    fields.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    if (tab == std::string::npos) return fields;
    start = tab + 1;
  }
}

// The data lines of a TSV text (after its header line), as text fields; empty lines skipped.
inline std::vector<std::vector<std::string>> tsv_fields(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  std::vector<std::vector<std::string>> rows;
  while (std::getline(in, line))
    if (!line.empty()) rows.push_back(split_tabs(line));
  return rows;
}

// A fresh directory removed with everything in it when the object goes away.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "test") {
    std::random_device rd;
    auto base = std::filesystem::temp_directory_path();
    for (;;) {
      path_ = base / ("deepmr-" + tag + "-" + std::to_string(rd()));
      if (std::filesystem::create_directory(path_)) break;
    }
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

struct RunResult {
  int status = -1;      // exit status, or 128 + signal when killed by a signal
  std::string out;      // stdout
  std::string err;      // stderr
};

// Runs a shell command line; stdout and stderr are captured separately.
inline RunResult run(const std::string& command_line) {
  TempDir capture("run");
  const std::string out = capture.file("stdout"), err = capture.file("stderr");
  int raw = std::system((command_line + " > '" + out + "' 2> '" + err + "'").c_str());
  RunResult result;
  if (WIFEXITED(raw)) result.status = WEXITSTATUS(raw);
  else if (WIFSIGNALED(raw)) result.status = 128 + WTERMSIG(raw);
  result.out = read_text(out);
  result.err = read_text(err);
  return result;
}

inline std::string quote(const std::string& s) { return "'" + s + "'"; }

// Counts the lines of a text (a final line without newline counts).
inline int line_count(const std::string& text) {
  int n = 0;
  for (char c : text) n += c == '\n';
  if (!text.empty() && text.back() != '\n') ++n;
  return n;
}

}  // namespace deepmr::test
