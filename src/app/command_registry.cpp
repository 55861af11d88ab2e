#include "deepmr/app/command.hpp"

namespace deepmr::app {

// Each command's factory, defined in commands/<name>_command.cpp.

std::vector<std::unique_ptr<Command>> make_commands() {
  std::vector<std::unique_ptr<Command>> commands;
  return commands;
}

}  // namespace deepmr::app
