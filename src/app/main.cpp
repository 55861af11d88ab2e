// deepmr: the command line. Dispatches to a subcommand; every error ends as one line on stderr
// and a documented exit status (docs/cli.md).

#include <csignal>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "deepmr/app/command.hpp"
#include "deepmr/app/exit_status.hpp"
#include "deepmr/app/stop_signals.hpp"
#include "deepmr/app/version.hpp"
#include "deepmr/common/error.hpp"
#include "deepmr/dist/collective_step.hpp"
#include "deepmr/dist/unanswered_failure.hpp"
#include "deepmr/store/unclosed_files.hpp"

namespace {

void print_usage(std::ostream& out, const std::vector<std::unique_ptr<deepmr::app::Command>>& commands) {
  out << "deepmr: Deep Mendelian randomization of the causal effects a genomic deep-learning model has learned\n\n"
         "Usage: deepmr <command> [options]     (options also from --config FILE.ini)\n"
         "       deepmr <command> --help\n"
         "       deepmr --version\n\n"
         "Commands:\n";
  for (const auto& c : commands) {
    std::string name = c->name();
    name.resize(12, ' ');
    out << "  " << name << c->summary() << "\n";
  }
  out << "\nExit status: 0 success, 1 internal error, 2 usage or config error, 3 input data error,\n"
         "4 model error, 5 store error, 75 stopped early (resumable). See docs/cli.md.\n";
}

void print_command_help(const deepmr::app::Command& command) {
  namespace po = boost::program_options;
  po::options_description options("Options");
  po::positional_options_description positional;
  command.describe(options, positional);
  options.add_options()
      ("config", po::value<std::string>()->value_name("FILE"),
       "INI file with these options as keys ([section] prefixes its keys with 'section.'); the command line wins")
      ("help", "this text");
  std::cout << "Usage: deepmr " << command.name() << " " << command.usage() << "\n\n"
            << command.summary() << "\n\n"
            << options;
}

// MPI commands: every rank reads the options; an error on any rank is reported once, by rank 0,
// and every rank exits with its status.
template <typename Parse>
int run_under_mpi(deepmr::app::Command& command, Parse&& parse, int argc, char** argv) {
  std::optional<deepmr::dist::MpiSession> mpi;
  try {
    mpi.emplace(&argc, &argv);
  } catch (...) {
    return deepmr::app::report_failure(command.name(), std::current_exception());
  }
  deepmr::dist::set_unanswered_failure_handler([name = command.name()](const deepmr::dist::RankFailure& failure) {
    const int status = deepmr::app::report_failure(name, deepmr::Failure{failure.code, failure.message});
    std::cout.flush();
    std::_Exit(status);
  });
  const auto world = deepmr::dist::Communicator::world();
  std::optional<deepmr::app::ParsedOptions> parsed;
  try {
    deepmr::dist::collectively(world, [&] { parsed = parse(); });
  } catch (const deepmr::dist::AgreedFailure& agreed) {
    return deepmr::app::report_failure(command.name(), agreed.failure, world);
  }
  int status = 0;
  try {
    status = command.run(*parsed, argc, argv);
  } catch (...) {
    status = deepmr::app::report_failure(command.name(), std::current_exception());
  }
  if (deepmr::store::parallel_files_left_open()) {
    // MPI_Finalize would make HDF5 close the file again and crash (store/unclosed_files.hpp): the
    // error is reported, the journal is durable, so end here.
    std::cout.flush();
    std::cerr.flush();
    std::_Exit(status);
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  // Past a file-size limit, writes must fail with EFBIG (and a message), not kill the process.
  std::signal(SIGXFSZ, SIG_IGN);
#if defined(__GLIBC__)
  // LibTorch allocates each operator's output with malloc. glibc's defaults map blocks of a few MB
  // afresh and trim the heap when 2x that is free, so the engines' per-call tensors (the
  // incremental graph engine's windows: 2-24 MB each) page-fault on every call: 3-5x its time on
  // bpnet_large (docs/performance.md, "Incremental graphs"). Kept in the heap up to 64 MiB, and
  // the heap trimmed past 256 MiB free. Speed and memory only; never results.
  // Some glibc versions cap the mmap threshold at HEAP_MAX_SIZE / 2 (32 MiB) and refuse more: then 32;
  // the trim threshold is set only once the mmap threshold is, since setting it alone would fix
  // glibc's dynamic mmap threshold at its 128 KiB start.
  if (mallopt(M_MMAP_THRESHOLD, 64 << 20) == 1 || mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1)
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
  auto commands = deepmr::app::make_commands();
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    print_usage(std::cerr, commands);
    return static_cast<int>(deepmr::ExitCode::usage);
  }
  const std::string& first = args.front();
  if (first == "--help" || first == "-h" || first == "help") {
    print_usage(std::cout, commands);
    return 0;
  }
  if (first == "--version" || first == "version") {
    try {
      std::cout << deepmr::app::version_report();
      return 0;
    } catch (...) {
      return deepmr::app::report_failure("", std::current_exception());
    }
  }

  deepmr::app::Command* command = nullptr;
  for (auto& c : commands)
    if (c->name() == first) command = c.get();
  if (!command) {
    std::string names;
    for (const auto& c : commands) names += (names.empty() ? "" : ", ") + c->name();
    std::cerr << "deepmr: error: unknown command '" << first << "' (commands: " << names
              << "; see deepmr --help)" << std::endl;
    return static_cast<int>(deepmr::ExitCode::usage);
  }

  // A job's stop request can come while MPI starts or the model loads (a job preempted at once):
  // it is kept and honoured when the run's loop begins, rather than killing the ranks unreported.
  if (command->stops_on_request()) deepmr::app::install_stop_handlers();

  std::vector<std::string> rest(args.begin() + 1, args.end());
  for (const auto& a : rest)
    if (a == "--help" || a == "-h") {
      print_command_help(*command);
      return 0;
    }
  namespace po = boost::program_options;
  auto parse = [&] {
    po::options_description options("Options");
    po::positional_options_description positional;
    command->describe(options, positional);
    return deepmr::app::parse_options(command->name(), options, positional, rest);
  };
  if (command->uses_mpi(rest)) return run_under_mpi(*command, parse, argc, argv);
  try {
    return command->run(parse(), argc, argv);
  } catch (...) {
    return deepmr::app::report_failure(command->name(), std::current_exception());
  }
}
