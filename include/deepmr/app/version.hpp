#pragma once

#include <string>

namespace deepmr::app {

// The text of `deepmr --version`: deepmr itself and every library it was built with.
std::string version_report();

}  // namespace deepmr::app
