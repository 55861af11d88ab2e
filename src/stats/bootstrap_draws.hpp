#pragma once
// A bootstrap's draws on several threads with the results of one (private to the stats layer).
// Draw d reads the normals at positions [d * per_draw, (d + 1) * per_draw) of
// NormalStream(seed, stream), the values that per_draw-sized fill()s of a fresh stream give it, so
// a method's statistic per draw, and everything computed from the draws in draw order, is the same
// bit for bit for any thread count.
//
// With several threads the draws go in blocks, through a pipeline of three stages per round: the
// workers convert one block's words by the ziggurat's fast path, worker 0 finishes the previous
// block's few draws that left it (in order: they take the stream's extra words one after another),
// and the workers compute the statistics of the block before that, chunk by chunk.

#include <cstddef>
#include <cstdint>
#include <functional>

namespace deepmr::stats::detail {

// statistic(worker, draw, normals): called once per draw; calls with different workers run
// concurrently, so per-worker state is indexed by `worker` (< threads). threads 0 or 1: one
// thread, worker 0, the draws in order.
using DrawStatistic = std::function<void(std::size_t worker, std::size_t draw, const double* normals)>;
void for_each_bootstrap_draw(std::uint64_t seed, std::uint64_t stream, std::size_t per_draw, std::size_t draws,
                             std::size_t threads, const DrawStatistic& statistic);

}  // namespace deepmr::stats::detail
