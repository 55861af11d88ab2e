#pragma once
// Builds the plan of a run from its region source (see plan.hpp and docs/genome.md):
//   peaks:     for each exposure, the windows of length L centred on its peaks; K sampled per
//              exposure (seeded), windows with N skipped; identical windows merged across exposures;
//   sweep:     the windows of one BED; every usable window is a unit of every exposure;
//   sequences: rows of a pre-encoded sequence file; K bound rows sampled per exposure. The file is
//              read by the caller (the store layer); this layer sees it as RowCandidates.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "deepmr/genome/bed_reader.hpp"
#include "deepmr/genome/fasta_reader.hpp"
#include "deepmr/genome/one_hot.hpp"
#include "deepmr/genome/plan.hpp"
#include "deepmr/genome/window.hpp"

namespace deepmr::genome {

// Windows that extend past either end of their sequence: skipped and counted, or an error.
enum class BoundsPolicy { skip, error };
BoundsPolicy parse_bounds_policy(std::string_view text, const std::string& option = "out-of-bounds");

struct ExposureInput {
  std::string name;
  std::string path;          // peaks: the exposure's peak file
  std::int64_t column = -1;  // sequences: its column in the label matrix; -1: every row is a candidate
};

struct PlanSpec {
  RegionSource source = RegionSource::peaks;
  std::vector<ExposureInput> exposures;
  std::string fasta;                                  // peaks, sweep
  std::string sweep;                                  // sweep: BED (or narrowPeak) of regions
  std::string sequences;                              // sequences: HDF5 file
  std::string sequences_dataset = "sequences";        // N x 4 x L, uint8 or float
  std::string labels_dataset = "labels";              // N x T
  Alphabet sequences_alphabet = Alphabet::acgt();     // channel order of the stored sequences
  std::uint64_t window_length = 0;                    // L, the model's input length
  std::uint64_t per_exposure = 25;                    // K; 0 takes every usable region
  bool allow_fewer = false;                           // take fewer than K when fewer exist
  std::vector<std::string> chromosomes;               // keep peaks on these only; empty: all
  NPolicy n_policy = NPolicy::skip;
  BoundsPolicy out_of_bounds = BoundsPolicy::skip;
  PeakFormat format = PeakFormat::automatic;
  std::uint64_t seed = 1;
};

struct WindowCounts {
  std::uint64_t records = 0;
  std::uint64_t other_chromosome = 0;
  std::uint64_t past_end = 0;
  std::uint64_t duplicate = 0;
};

// Windows of a peak file and, parallel to them, the peaks they were centred on.
struct PeakWindows {
  std::vector<Window> windows;
  std::vector<PeakLabel> labels;  // a window of several peaks: their labels merged (merge_label)
};

// The distinct windows of length `length` centred on the records of a peak or BED file, in
// genomic order. `keep[s]` says whether peaks on FASTA sequence s are kept (empty: all). InputError
// (file:line) for a chromosome absent from the FASTA (unless filtered out), a window past a
// sequence end when `bounds` is error, an empty file, and everything BedReader rejects.
PeakWindows read_windows(const std::string& path, PeakFormat format, const FastaReader& fasta,
                         const std::vector<bool>& keep, std::uint64_t length, BoundsPolicy bounds,
                         WindowCounts& counts);

Plan build_peak_plan(const PlanSpec& spec, const FastaReader& fasta);
Plan build_sweep_plan(const PlanSpec& spec, const FastaReader& fasta);

// A sequence file as the sampler sees it: bound flags in memory and a way to test one row.
struct RowCandidates {
  std::string input;                // the file, for messages
  std::uint64_t rows = 0;
  // rows x spec.exposures.size(), row-major, in the spec's exposure order: 1 where the row is
  // bound for that exposure. Empty: every row is a candidate for every exposure.
  std::vector<std::uint8_t> bound;
  // Reads a row and says whether it holds N; throws InputError for a row that is not one-hot.
  std::function<bool(std::uint64_t row)> has_n;
};
Plan build_row_plan(const PlanSpec& spec, const RowCandidates& rows);

}  // namespace deepmr::genome
