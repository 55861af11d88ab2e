#pragma once
// Per-mutant effect tracks of a store (deepmr export --format bedgraph|bigwig, docs/export.md):
// for the outcome (per region) and each selected exposure (per unit), one track per chosen
// statistic and alternative. bedGraph: every track in one file, each after its own track line;
// bigWig: one file per track in a directory, named <role>.<name>.<stat>.<alt>.bw.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "deepmr/app/bigwig_writer.hpp"
#include "deepmr/app/effect_tracks.hpp"
#include "deepmr/store/store_reader.hpp"

namespace deepmr::app {

enum class TrackFormat { bedgraph, bigwig };

struct TrackRequest {
  std::vector<std::uint32_t> exposures;  // exposure indices, in store order
  bool outcome = true;
  std::vector<TrackChoice> choices;      // stat-major, in the order the tracks are written
  std::vector<ChromSize> chroms;         // the genome's sequences (the FASTA index), in order
};

struct TrackExportSummary {
  std::size_t tracks = 0;                  // tracks written
  std::vector<std::string> empty;          // tracks without any value (no file, no bedGraph section)
};

// Reads the effects of `store_path` (its contents already read as `store`) and writes the tracks to
// `out`. Units that are not done and regions that failed are left out. The caller has checked
// that the store holds effects and windows.
TrackExportSummary export_tracks(const std::string& store_path, const store::StoreContents& store,
                                 const TrackRequest& request, TrackFormat format, const std::string& out);

// A name made safe for a file name: characters other than letters, digits, '.', '-' and '_' become '_'.
std::string file_safe(const std::string& name);

}  // namespace deepmr::app
