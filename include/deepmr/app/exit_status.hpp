#pragma once
// The one place where errors become exit statuses and the one line on stderr (docs/cli.md).

#include <exception>
#include <string>

namespace deepmr::app {

// Prints "deepmr <command>: error: <message>" (one line) and returns the documented exit status.
int report_failure(const std::string& command, const std::exception_ptr& error);

// Replaces line breaks so that a message always stays on one line.
std::string one_line(std::string message);

}  // namespace deepmr::app
