#pragma once
// Inputs identified by content, for the journal's manifest: a resume is refused when an input
// changed although its path did not (e.g. bases edited inside a planned window), and accepted
// when the same files are named by another spelling (paths are compared canonically,
// app/run_config.cpp). Keys are "content.<config key>", e.g. content.regions.fasta.

#include <map>
#include <string>

#include "deepmr/run/run_setup.hpp"

namespace deepmr::run {

inline constexpr const char* kContentPrefix = store::kContentKeyPrefix;

// SHA-256 of: the model file; the bases of every planned window (regions.fasta: what the model
// reads, upper-cased, so a FASTA may be re-wrapped or re-indexed), or every planned row of the
// sequences file; each peak file; the sweep BED; the targets file. One process (rank 0): it reads
// every planned window once.
std::map<std::string, std::string> input_digests(const RunSetup& setup);

}  // namespace deepmr::run
