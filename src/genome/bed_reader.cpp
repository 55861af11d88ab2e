#include "deepmr/genome/bed_reader.hpp"

#include <charconv>
#include <limits>

#include "deepmr/common/error.hpp"

namespace deepmr::genome {
namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// UCSC header lines: "track ...", "browser ...", and comments.
bool is_header(std::string_view line) {
  auto keyword = [&](std::string_view word) {
    return line.substr(0, word.size()) == word &&
           (line.size() == word.size() || line[word.size()] == ' ' || line[word.size()] == '\t');
  };
  return line.empty() || line[0] == '#' || keyword("track") || keyword("browser");
}

bool is_blank(std::string_view line) { return line.find_first_not_of(" \t") == std::string_view::npos; }

void split(std::string_view line, std::vector<std::string_view>& fields) {
  fields.clear();
  if (line.find('\t') != std::string_view::npos) {
    std::size_t from = 0;
    for (;;) {
      const std::size_t tab = line.find('\t', from);
      fields.push_back(line.substr(from, tab == std::string_view::npos ? std::string_view::npos : tab - from));
      if (tab == std::string_view::npos) break;
      from = tab + 1;
    }
    return;
  }
  std::size_t from = 0;
  while (from < line.size()) {
    const std::size_t begin = line.find_first_not_of(' ', from);
    if (begin == std::string_view::npos) break;
    const std::size_t stop = line.find(' ', begin);
    fields.push_back(line.substr(begin, stop == std::string_view::npos ? std::string_view::npos : stop - begin));
    from = stop == std::string_view::npos ? line.size() : stop;
  }
}

// Largest coordinate accepted: far beyond any genome, small enough for signed window arithmetic.
constexpr std::uint64_t kMaxCoordinate = std::uint64_t{1} << 50;

std::uint64_t coordinate(std::string_view text, const char* what, const std::string& path, long line) {
  if (!text.empty() && text[0] == '-')
    throw InputError(at(path, line) + what + " coordinate '" + std::string(text) +
                     "' is negative (BED coordinates are 0-based and non-negative)");
  std::uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range || (ec == std::errc() && value > kMaxCoordinate))
    throw InputError(at(path, line) + what + " coordinate '" + std::string(text) + "' is too large");
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size())
    throw InputError(at(path, line) + what + " coordinate '" + std::string(text) +
                     "' is not a whole number (is the file BED, with chrom, start, end first?)");
  return value;
}

double number(std::string_view text, const char* what, const std::string& path, long line) {
  double value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size())
    throw InputError(at(path, line) + "column " + what + " '" + std::string(text) + "' is not a number");
  return value;
}

}  // namespace

PeakFormat parse_peak_format(std::string_view text, const std::string& option) {
  if (text == "auto") return PeakFormat::automatic;
  if (text == "bed") return PeakFormat::bed;
  if (text == "narrowpeak" || text == "narrowPeak") return PeakFormat::narrow_peak;
  throw UsageError("option '" + option + "': unknown peak file format '" + std::string(text) +
                   "' (use auto, bed or narrowpeak)");
}

PeakFormat resolve_peak_format(PeakFormat format, const std::string& path) {
  if (format != PeakFormat::automatic) return format;
  return ends_with(path, ".narrowPeak") || ends_with(path, ".narrowPeak.gz") ? PeakFormat::narrow_peak
                                                                             : PeakFormat::bed;
}

BedReader::BedReader(const std::string& path, PeakFormat format)
    : reader_(path), format_(resolve_peak_format(format, path)) {}

bool BedReader::next(BedRecord& record) {
  std::string_view line;
  for (;;) {
    if (!reader_.next(line)) return false;
    if (!is_header(line) && !is_blank(line)) break;
  }
  const long n = reader_.line_number();
  const std::string& file = reader_.path();
  split(line, fields_);
  const bool narrow = format_ == PeakFormat::narrow_peak;
  const std::size_t need = narrow ? 10 : 3;
  // A line ending in a tab has an empty last field; past the columns read, it holds nothing.
  while (fields_.size() > need && fields_.back().empty()) fields_.pop_back();
  if (fields_.size() < need)
    throw InputError(at(file, n) + "found " + std::to_string(fields_.size()) + " column" +
                     (fields_.size() == 1 ? "" : "s") + ", a " + (narrow ? "narrowPeak" : "BED") +
                     " line needs " + (narrow ? "10" : "at least 3") + " (tab-separated chrom, start, end" +
                     (narrow ? ", name, score, strand, signalValue, pValue, qValue, peak)" : ")"));
  if (narrow && fields_.size() > 10)
    throw InputError(at(file, n) + "found " + std::to_string(fields_.size()) +
                     " columns, a narrowPeak line has 10 (set the format to bed to read it as BED)");
  if (fields_[0].empty()) throw InputError(at(file, n) + "empty chromosome name in column 1");

  record = BedRecord{};
  record.chrom = fields_[0];
  record.start = coordinate(fields_[1], "start", file, n);
  record.end = coordinate(fields_[2], "end", file, n);
  if (record.start > record.end)
    throw InputError(at(file, n) + "start " + std::to_string(record.start) + " is after end " +
                     std::to_string(record.end) + " (BED intervals are [start, end), 0-based)");
  record.columns = fields_.size();
  record.line = n;
  if (fields_.size() > 3) record.name = fields_[3];
  if (narrow) {
    record.score = number(fields_[4], "5 (score)", file, n);
    const std::string_view strand = fields_[5];
    if (strand != "+" && strand != "-" && strand != ".")
      throw InputError(at(file, n) + "column 6 (strand) is '" + std::string(strand) + "', expected +, - or .");
    record.strand = strand[0];
    record.signal_value = number(fields_[6], "7 (signalValue)", file, n);
    record.p_value = number(fields_[7], "8 (pValue)", file, n);
    record.q_value = number(fields_[8], "9 (qValue)", file, n);
    const std::string_view peak = fields_[9];
    if (peak != "-1") {
      const std::uint64_t offset = coordinate(peak, "summit (column 10)", file, n);
      if (offset >= record.end - record.start && !(offset == 0 && record.end == record.start))
        throw InputError(at(file, n) + "summit offset " + std::to_string(offset) + " lies outside the peak of length " +
                         std::to_string(record.end - record.start) + " (column 10 counts from the start; -1 means none)");
      record.summit = offset;
    }
  }
  ++records_;
  return true;
}

}  // namespace deepmr::genome
