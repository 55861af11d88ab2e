#include "deepmr/dist/collective_step.hpp"

#include "deepmr/common/failure.hpp"

namespace deepmr::dist {

RankFailure rank_failure(int rank, const std::exception_ptr& error) {
  auto failure = failure_of(error);
  return RankFailure{rank, failure.code, std::move(failure.message)};
}

void collectively(const Communicator& comm, const std::function<void()>& step) {
  std::optional<RankFailure> local;
  try {
    step();
  } catch (const AgreedFailure&) {
    throw;  // agreed by every rank already, inside the step
  } catch (...) {
    local = rank_failure(comm.rank(), std::current_exception());
  }
  if (auto agreed = agree_on_failure(comm, local)) throw AgreedFailure(*agreed);
}

}  // namespace deepmr::dist
