#pragma once
// A `deepmr` subcommand: its name, its options and what it does. Each command lives in its own
// file under src/app/commands/ and is listed once in command_registry.cpp.

#include <memory>
#include <string>
#include <vector>

#include "deepmr/app/options.hpp"

namespace deepmr::app {

class Command {
 public:
  virtual ~Command() = default;
  virtual std::string name() const = 0;
  virtual std::string summary() const = 0;
  // Usage line after "deepmr <name> ", e.g. "--input FILE [options]".
  virtual std::string usage() const = 0;
  virtual void describe(po::options_description& options, po::positional_options_description& positional) const = 0;
  // Returns the process exit status; errors are thrown as deepmr::Error.
  virtual int run(const ParsedOptions& options, int argc, char** argv) = 0;
  // Commands (or subcommands, given the arguments after the command name) that run under MPI: main
  // initialises MPI before reading their options, so that all ranks agree on an option error and
  // only rank 0 reports it.
  virtual bool uses_mpi(const std::vector<std::string>& /*args*/) const { return false; }
  // Commands that stop cleanly on SIGTERM or SIGUSR1 (app/stop_signals.hpp): main installs the
  // handlers first thing, before MPI starts, so that a signal during start-up is not lost.
  virtual bool stops_on_request() const { return false; }
};

std::vector<std::unique_ptr<Command>> make_commands();

}  // namespace deepmr::app
