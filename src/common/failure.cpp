#include "deepmr/common/failure.hpp"

#include <new>

namespace deepmr {

std::string one_line(std::string message) {
  for (auto& c : message)
    if (c == '\n' || c == '\r') c = ' ';
  while (!message.empty() && message.back() == ' ') message.pop_back();
  return message;
}

Failure failure_of(const std::exception_ptr& error) {
  Failure failure;
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    failure.code = e.code();
    failure.message = e.what();
  } catch (const std::bad_alloc&) {
    failure.message = "out of memory (lower the batch size or the number of ranks per node)";
  } catch (const std::exception& e) {
    failure.message = std::string("internal error: ") + e.what() + " (please report this)";
  } catch (...) {
    failure.message = "internal error: unknown exception (please report this)";
  }
  failure.message = one_line(failure.message);
  return failure;
}

}  // namespace deepmr
