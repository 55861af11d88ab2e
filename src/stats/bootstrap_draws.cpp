#include "bootstrap_draws.hpp"

#include <algorithm>
#include <vector>

#include "deepmr/stats/normal_stream.hpp"
#include "thread_team.hpp"

namespace deepmr::stats::detail {
namespace {

// The normals of one block, at most this many (4 MiB), unless one draw alone needs more.
constexpr std::size_t kBlockNormals = std::size_t{1} << 19;

}  // namespace

void for_each_bootstrap_draw(std::uint64_t seed, std::uint64_t stream, std::size_t per_draw, std::size_t draws,
                             std::size_t threads, const DrawStatistic& statistic) {
  NormalStream normals(seed, stream);
  const std::size_t workers = std::max<std::size_t>(1, std::min(threads, draws));
  if (workers == 1) {
    std::vector<double> z(per_draw);
    for (std::size_t d = 0; d < draws; ++d) {
      normals.fill(z.data(), per_draw);
      statistic(0, d, z.data());
    }
    return;
  }

  ThreadTeam team(workers);
  const std::size_t block = std::clamp(kBlockNormals / std::max<std::size_t>(per_draw, 1), workers, draws);
  std::vector<double> z(block * per_draw);
  std::vector<std::vector<NormalStream::Miss>> misses(workers);
  for (std::size_t first = 0; first < draws; first += block) {
    const std::size_t count = std::min(block, draws - first);
    // Worker w's share of the block: draws [first + share(w), first + share(w + 1)).
    const auto share = [&](std::size_t w) { return count * w / workers; };
    team.run([&](std::size_t w) {
      misses[w].clear();
      const std::size_t begin = share(w), end = share(w + 1);
      normals.fast_draws(static_cast<std::uint64_t>(first + begin) * per_draw, (end - begin) * per_draw,
                         z.data() + begin * per_draw, misses[w]);
    });
    const std::uint64_t base = static_cast<std::uint64_t>(first) * per_draw;
    for (const auto& worker_misses : misses)
      for (const auto& miss : worker_misses) z[miss.position - base] = normals.finish_miss(miss);
    team.run([&](std::size_t w) {
      for (std::size_t d = share(w); d < share(w + 1); ++d) statistic(w, first + d, z.data() + d * per_draw);
    });
  }
}

}  // namespace deepmr::stats::detail
