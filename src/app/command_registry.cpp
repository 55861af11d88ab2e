#include "deepmr/app/command.hpp"

namespace deepmr::app {

// Each command's factory, defined in commands/<name>_command.cpp.
std::unique_ptr<Command> make_run_command();
std::unique_ptr<Command> make_plan_command();
std::unique_ptr<Command> make_summarize_command();
std::unique_ptr<Command> make_export_command();
std::unique_ptr<Command> make_mr_command();
std::unique_ptr<Command> make_meta_command();
std::unique_ptr<Command> make_ism_command();
std::unique_ptr<Command> make_bench_command();

std::vector<std::unique_ptr<Command>> make_commands() {
  std::vector<std::unique_ptr<Command>> commands;
  commands.push_back(make_run_command());
  commands.push_back(make_plan_command());
  commands.push_back(make_summarize_command());
  commands.push_back(make_export_command());
  commands.push_back(make_mr_command());
  commands.push_back(make_meta_command());
  commands.push_back(make_ism_command());
  commands.push_back(make_bench_command());
  return commands;
}

}  // namespace deepmr::app
