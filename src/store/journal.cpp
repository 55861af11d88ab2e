#include "deepmr/store/journal.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "deepmr/common/atomic_file.hpp"
#include "deepmr/common/error.hpp"
#include "deepmr/common/sha256.hpp"

namespace deepmr::store {
namespace fs = std::filesystem;
namespace {

constexpr std::uint32_t kMagic = 0x4a524d44;  // "DMRJ"
constexpr std::size_t kHeader = 4 + 8 + 4;

std::uint32_t crc_of(const char* data, std::size_t size) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (size > 0) {
    const uInt chunk = static_cast<uInt>(std::min<std::size_t>(size, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data), chunk);
    data += chunk;
    size -= chunk;
  }
  return static_cast<std::uint32_t>(crc);
}

std::string errno_text() { return std::strerror(errno); }

// part-<attempt>-<rank>.jrn -> attempt, or -1 for other names.
long attempt_of(const std::string& name) {
  if (name.rfind("part-", 0) != 0 || name.size() < 10 || name.substr(name.size() - 4) != ".jrn") return -1;
  const auto dash = name.find('-', 5);
  if (dash == std::string::npos) return -1;
  try {
    return std::stol(name.substr(5, dash - 5));
  } catch (...) {
    return -1;
  }
}

}  // namespace

std::string journal_directory(const std::string& store_path) { return store_path + ".journal"; }

std::string Manifest::get(const std::string& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? std::string() : it->second;
}

void Manifest::write(const std::string& path) const {
  write_file_atomically(
      path,
      [&](std::ostream& out) {
        out << "# deepmr run manifest: what a resume must match\n";
        for (const auto& [key, value] : entries_) {
          std::string flat = value;
          for (auto& c : flat)
            if (c == '\n' || c == '\r') c = ' ';
          out << key << " = " << flat << "\n";
        }
      },
      "the journal manifest", ExitCode::store, Durability::synced);
}

Manifest Manifest::read(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw StoreError(path + ": cannot read the journal manifest; is this the journal of a deepmr run?");
  Manifest manifest;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto eq = line.find(" = ");
    if (eq == std::string::npos) throw StoreError(path + ": malformed manifest line '" + line + "'");
    manifest.set(line.substr(0, eq), line.substr(eq + 3));
  }
  return manifest;
}

std::vector<std::string> Manifest::differences(const Manifest& run) const {
  std::set<std::string> keys;
  for (const auto& [key, value] : entries_) keys.insert(key);
  for (const auto& [key, value] : run.entries_) keys.insert(key);
  std::vector<std::string> out;
  auto shown = [](const std::string& v) { return v.empty() ? std::string("(unset)") : "'" + v + "'"; };
  for (const auto& key : keys)
    if (get(key) != run.get(key)) out.push_back(key + ": " + shown(get(key)) + " here, " + shown(run.get(key)) + " in the run");
  return out;
}

JournalWriter::JournalWriter(const std::string& directory, std::uint32_t attempt, int rank)
    : path_((fs::path(directory) / ("part-" + std::to_string(attempt) + "-" + std::to_string(rank) + ".jrn")).string()) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw StoreError(path_ + ": cannot open the journal for writing (" + errno_text() + ")");
  sync_directory(directory);  // the new file's name must survive a crash too
}

JournalWriter::~JournalWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void JournalWriter::append(const RegionResult& result) {
  const std::string payload = serialize(result);
  std::string record(kHeader, '\0');
  const std::uint32_t magic = kMagic, crc = crc_of(payload.data(), payload.size());
  const std::uint64_t size = payload.size();
  std::memcpy(record.data(), &magic, 4);
  std::memcpy(record.data() + 4, &size, 8);
  std::memcpy(record.data() + 12, &crc, 4);
  record += payload;
  const char* data = record.data();
  std::size_t left = record.size();
  while (left > 0) {
    const ssize_t written = ::write(fd_, data, left);
    if (written < 0) {
      if (errno == EINTR) continue;
      throw StoreError(path_ + ": cannot append to the journal (" + errno_text() +
                       "); free space and resume the run (deepmr run --resume)");
    }
    data += written;
    left -= static_cast<std::size_t>(written);
  }
  pending_ = true;
}

void JournalWriter::make_durable() {
  if (!pending_) return;
  if (::fdatasync(fd_) != 0)
    throw StoreError(path_ + ": cannot make the journal durable (" + errno_text() + "); resume the run later");
  pending_ = false;
  ++syncs_;
}

std::uint64_t Manifest::run_id() const {
  std::string text;
  for (const auto& [key, value] : entries_) text += key + "\n" + value + "\n";
  const std::string hex = sha256_hex(text);
  return std::stoull(hex.substr(0, 16), nullptr, 16);
}

JournalStats read_journal(const std::string& directory, const std::function<void(RegionResult&&)>& visit,
                          bool with_effects, std::optional<std::uint64_t> run) {
  return read_journal_parts(directory, [](std::size_t) { return true; }, visit, with_effects, run);
}

JournalStats read_journal_parts(const std::string& directory, const std::function<bool(std::size_t)>& take,
                                const std::function<void(RegionResult&&)>& visit, bool with_effects,
                                std::optional<std::uint64_t> run) {
  JournalStats stats;
  if (!fs::is_directory(directory)) return stats;
  std::vector<std::string> parts;
  for (const auto& entry : fs::directory_iterator(directory)) {
    const std::string name = entry.path().filename().string();
    const long attempt = attempt_of(name);
    if (attempt < 0) continue;
    parts.push_back(entry.path().string());
    stats.attempts = std::max<std::uint32_t>(stats.attempts, static_cast<std::uint32_t>(attempt) + 1);
  }
  std::sort(parts.begin(), parts.end());
  stats.parts = parts.size();
  std::set<std::uint64_t> seen;
  for (std::size_t position = 0; position < parts.size(); ++position) {
    if (!take(position)) continue;
    const std::string& part = parts[position];
    std::ifstream in(part, std::ios::binary);
    if (!in) throw StoreError(part + ": cannot read the journal");
    std::error_code ec;
    const std::uint64_t file_size = fs::file_size(part, ec);
    if (ec) throw StoreError(part + ": cannot read the journal (" + ec.message() + ")");
    std::uint64_t offset = 0;
    for (;;) {
      char header[kHeader];
      in.read(header, kHeader);
      if (in.gcount() == 0) break;  // clean end
      std::uint32_t magic = 0, crc = 0;
      std::uint64_t size = 0;
      bool torn = in.gcount() != static_cast<std::streamsize>(kHeader);
      if (!torn) {
        std::memcpy(&magic, header, 4);
        std::memcpy(&size, header + 4, 8);
        std::memcpy(&crc, header + 12, 4);
        // A length beyond the end of the file is damage (a torn or flipped record), never a
        // reason to allocate.
        torn = magic != kMagic || size > file_size - std::min(file_size, offset + kHeader);
      }
      std::string payload;
      if (!torn) {
        payload.resize(size);
        in.read(payload.data(), static_cast<std::streamsize>(size));
        torn = in.gcount() != static_cast<std::streamsize>(size) || crc_of(payload.data(), payload.size()) != crc;
      }
      if (torn) {
        ++stats.torn_parts;
        break;
      }
      offset += kHeader + size;
      RegionResult result = deserialize(payload);
      if (run && result.run != *run)
        throw StoreError(part + ": holds records of another run (run id " + std::to_string(result.run) + ", not " +
                         std::to_string(*run) + " as in its manifest); was it copied from another journal? Move it "
                         "out of " + directory + " and resume");
      ++stats.records;
      if (!seen.insert(result.region).second) ++stats.duplicate_records;
      if (!with_effects) {
        result.beta.clear();
        result.se.clear();
        result.mutants = result.outputs = 0;
      }
      visit(std::move(result));
    }
  }
  return stats;
}

}  // namespace deepmr::store
