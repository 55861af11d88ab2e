#pragma once
// A step that every rank runs and that fails on all ranks together: when it throws on any rank,
// every rank throws the same AgreedFailure (the lowest failing rank's), so that no rank walks on
// into a collective call alone and hangs (docs/reliability.md).

#include <exception>
#include <functional>

#include "deepmr/dist/communicator.hpp"

namespace deepmr::dist {

// An error every rank agreed on: thrown identically on all ranks; rank 0 reports it.
struct AgreedFailure : std::exception {
  explicit AgreedFailure(RankFailure f) : failure(std::move(f)) {}
  const char* what() const noexcept override { return failure.message.c_str(); }
  RankFailure failure;
};

// Collective. Runs `step` here; throws AgreedFailure on every rank when it failed on any.
void collectively(const Communicator& comm, const std::function<void()>& step);

// The failure of `rank` for an exception (common/failure.hpp's mapping).
RankFailure rank_failure(int rank, const std::exception_ptr& error);

}  // namespace deepmr::dist
