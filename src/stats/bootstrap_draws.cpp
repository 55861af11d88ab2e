#include "bootstrap_draws.hpp"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "deepmr/stats/normal_stream.hpp"
#include "thread_team.hpp"

namespace deepmr::stats::detail {
namespace {

// The normals of one block: about this many (4 MiB), and at least one draw per worker.
constexpr std::size_t kBlockNormals = std::size_t{1} << 19;
// Fewer normals than this in all run on the calling thread: starting and joining a team costs more
// than a small bootstrap's draws (speed only: the draws are the same either way).
constexpr std::size_t kParallelNormals = std::size_t{1} << 17;

// A block of draws in flight: its normals, and per chunk of draws the misses of its fast path.
struct Block {
  std::size_t first = 0, count = 0;
  std::vector<double> z;
  std::vector<std::vector<NormalStream::Miss>> misses;
};

}  // namespace

void for_each_bootstrap_draw(std::uint64_t seed, std::uint64_t stream, std::size_t per_draw, std::size_t draws,
                             std::size_t threads, const DrawStatistic& statistic) {
  NormalStream normals(seed, stream);
  // No more workers than draws, than a few per core (a huge option must not exhaust the threads a
  // process may start), or than the work is worth.
  const std::size_t most = 4 * std::max<std::size_t>(4, std::thread::hardware_concurrency());
  std::size_t workers = std::max<std::size_t>(1, std::min({threads, draws, most}));
  if (draws * per_draw < kParallelNormals) workers = 1;
  if (workers == 1) {
    std::vector<double> z(per_draw);
    for (std::size_t d = 0; d < draws; ++d) {
      normals.fill(z.data(), per_draw);
      statistic(0, d, z.data());
    }
    return;
  }

  // A pipeline of three stages, one block each per round, so that the calling thread's serial
  // stage overlaps the others: round r converts block r by the fast path (any worker, chunk by
  // chunk), finishes block r - 1's misses in position order (worker 0, first) and computes block
  // r - 2's statistics (any worker, chunk by chunk).
  ThreadTeam team(workers);
  const std::size_t block = std::clamp(kBlockNormals / std::max<std::size_t>(per_draw, 1), workers, draws);
  const std::size_t chunk = std::max<std::size_t>(1, block / (4 * workers));  // draws per unit of work
  const std::size_t blocks = (draws + block - 1) / block;
  // Kept from call to call on the calling thread (three blocks: 12 MiB, or more where one draw per
  // worker needs more): touching fresh pages costs more than a fit's whole bootstrap on some
  // machines (a virtual machine's page faults).
  thread_local Block ring[3];
  const auto chunks_of = [&](const Block& b) { return (b.count + chunk - 1) / chunk; };
  for (std::size_t round = 0; round < blocks + 2; ++round) {
    Block* converting = round < blocks ? &ring[round % 3] : nullptr;
    Block* finishing = round >= 1 && round - 1 < blocks ? &ring[(round - 1) % 3] : nullptr;
    Block* computing = round >= 2 ? &ring[(round - 2) % 3] : nullptr;
    if (converting) {
      converting->first = round * block;
      converting->count = std::min(block, draws - converting->first);
      converting->z.resize(converting->count * per_draw);
      converting->misses.resize(chunks_of(*converting));
      for (auto& m : converting->misses) m.clear();
    }
    std::atomic<std::size_t> next_conversion{0}, next_statistic{0};
    team.run([&](std::size_t w) {
      if (w == 0 && finishing) {
        const std::uint64_t base = static_cast<std::uint64_t>(finishing->first) * per_draw;
        for (const auto& chunk_misses : finishing->misses)
          for (const auto& miss : chunk_misses) finishing->z[miss.position - base] = normals.finish_miss(miss);
      }
      if (converting)
        for (std::size_t c; (c = next_conversion++) < converting->misses.size();) {
          const std::size_t begin = c * chunk, end = std::min(converting->count, begin + chunk);
          normals.fast_draws(static_cast<std::uint64_t>(converting->first + begin) * per_draw, (end - begin) * per_draw,
                             converting->z.data() + begin * per_draw, converting->misses[c]);
        }
      if (computing)
        for (std::size_t c; (c = next_statistic++) < chunks_of(*computing);)
          for (std::size_t d = c * chunk; d < std::min(computing->count, (c + 1) * chunk); ++d)
            statistic(w, computing->first + d, computing->z.data() + d * per_draw);
    });
  }
}

}  // namespace deepmr::stats::detail
