#include "deepmr/app/exit_status.hpp"

#include <iostream>
#include <new>

#include "deepmr/common/error.hpp"

namespace deepmr::app {

std::string one_line(std::string message) {
  for (auto& c : message)
    if (c == '\n' || c == '\r') c = ' ';
  while (!message.empty() && message.back() == ' ') message.pop_back();
  return message;
}

int report_failure(const std::string& command, const std::exception_ptr& error) {
  const std::string prefix = command.empty() ? "deepmr" : "deepmr " + command;
  int code = static_cast<int>(ExitCode::internal);
  std::string message;
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    code = static_cast<int>(e.code());
    message = e.what();
  } catch (const std::bad_alloc&) {
    message = "out of memory (lower the batch size or the number of ranks per node)";
  } catch (const std::exception& e) {
    message = std::string("internal error: ") + e.what() + " (please report this)";
  } catch (...) {
    message = "internal error: unknown exception (please report this)";
  }
  const char* kind = code == static_cast<int>(ExitCode::resumable) ? "stopped" : "error";
  std::cerr << prefix << ": " << kind << ": " << one_line(message) << std::endl;
  return code;
}

}  // namespace deepmr::app
