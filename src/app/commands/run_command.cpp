// deepmr run: the main job (ARCHITECTURE.md section 3), under mpirun. This command reads the
// options, prints what the run does and how it ended; the run itself is the run layer's
// (run/run_driver.hpp): rank 0 coordinates, the other ranks compute, the journal makes every
// finished region durable and the store is assembled from it at the end (or at a requested stop).

#include <cmath>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "deepmr/app/command.hpp"
#include "deepmr/app/exit_status.hpp"
#include "deepmr/app/prepare_run.hpp"
#include "deepmr/app/run_config.hpp"
#include "deepmr/app/stop_signals.hpp"
#include "deepmr/app/store_tables.hpp"
#include "deepmr/app/table.hpp"
#include "deepmr/common/atomic_file.hpp"
#include "deepmr/common/error.hpp"
#include "deepmr/common/failure.hpp"
#include "deepmr/run/run_driver.hpp"
#include "deepmr/store/store_reader.hpp"

namespace deepmr::app {
namespace {

using dist::AgreedFailure;
using dist::Communicator;

std::string duration_text(double seconds) {
  if (!std::isfinite(seconds)) return "?";
  std::ostringstream out;
  if (seconds >= 3600) out << static_cast<long>(seconds / 3600) << "h" << std::setw(2) << std::setfill('0') << static_cast<long>(seconds / 60) % 60 << "m";
  else if (seconds >= 60) out << static_cast<long>(seconds / 60) << "m" << std::setw(2) << std::setfill('0') << static_cast<long>(seconds) % 60 << "s";
  else out << std::fixed << std::setprecision(1) << seconds << "s";
  return out.str();
}

// cuda:K pins the first GPU of every worker; cuda and auto bind GPUs per node-local rank.
int pinned_gpu(const RunSetup& setup, const std::string& asked) {
  if (setup.model.device.kind != model::Device::Kind::cuda || asked == "auto" || asked == "cuda") return -1;
  return setup.model.device.index;
}

void print_start(const run::RunStart& s) {
  std::cerr << "deepmr run: " << s.units_done << " of " << s.units_total << " units done, " << s.regions_pending
            << " regions to compute on " << s.workers << " worker" << (s.workers > 1 ? "s" : "")
            << " (threads per worker: " << s.threads << ", " << s.compute << ")" << std::endl;
}

void print_end(const RunSetup& setup, const run::RunOutcome& outcome, TableFormat format) {
  // Time per rank: where it went.
  std::cerr << "deepmr run: main loop " << duration_text(outcome.loop_seconds) << "; per rank: ";
  for (const auto& t : outcome.loop.timings)
    std::cerr << "[rank " << t.rank << ": " << t.regions << " regions, ism " << duration_text(t.seconds_ism) << ", mr "
              << duration_text(t.seconds_mr) << ", io " << duration_text(t.seconds_io) << ", wait "
              << duration_text(t.seconds_wait) << "] ";
  std::cerr << std::endl;
  if (outcome.assembly.duplicate_records > 0)
    std::cerr << "deepmr run: warning: the journal holds " << outcome.assembly.duplicate_records
              << " duplicate records (identical results, kept once)" << std::endl;
  const auto contents = store::read_store(setup.config.store);
  std::cerr << "deepmr run: " << setup.config.store << ": " << completeness(contents) << std::endl;
  summary_table(contents, 0).write(std::cout, format);
  std::cout.flush();
}

class RunCommand : public Command {
 public:
  std::string name() const override { return "run"; }
  std::string summary() const override {
    return "The Deep MR run under mpirun: mutagenesis and MR per region, the store, the meta-analysis";
  }
  std::string usage() const override { return "--config FILE [--resume | --auto-resume] [--format tsv|json]"; }
  void describe(po::options_description& options, po::positional_options_description&) const override {
    options.add_options()
        ("resume", po::bool_switch(), "continue the run of this config from its journal (after a kill or a stop)")
        ("auto-resume", po::bool_switch(),
         "resume when the store's journal holds a run, else start one (for job scripts that requeue)")
        ("format", po::value<std::string>()->default_value("tsv")->value_name("tsv|json"), "summary table format")
        ("status-file", po::value<std::string>()->value_name("FILE"),
         "write this run's exit status there when it ends (job scripts: mpirun itself exits 1 when it is "
         "signalled, although deepmr stopped cleanly with 75)");
    describe_run_options(options);
  }

  bool uses_mpi(const std::vector<std::string>&) const override { return true; }
  bool stops_on_request() const override { return true; }

  int run(const ParsedOptions& parsed, int argc, char** argv) override {
    const Communicator world = Communicator::world();
    int status = 0;
    try {
      status = run_collectively(parsed, world, resume_command(world, argc, argv));
    } catch (const AgreedFailure& agreed) {
      status = report_failure(name(), agreed.failure, world);  // every rank the same status; rank 0 speaks
    }
    if (world.is_root() && !parsed.values["status-file"].empty()) write_status_file(parsed.values["status-file"].as<std::string>(), status);
    return status;
  }

 private:
  static void write_status_file(const std::string& path, int status) {
    try {
      write_file_atomically(path, [&](std::ostream& out) { out << status << "\n"; }, "run --status-file",
                            ExitCode::usage, Durability::synced);
    } catch (const std::exception& e) {
      std::cerr << "deepmr run: warning: " << one_line(e.what()) << std::endl;
    }
  }

  // The command that resumes this run: the same arguments (overrides included) with --resume, under
  // mpirun with as many ranks (any other mpirun options are the user's to repeat).
  static std::string resume_command(const Communicator& world, int argc, char** argv) {
    auto quoted = [](const std::string& word) {
      if (!word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                                  "-_./=:,+@%") == std::string::npos)
        return word;
      std::string out = "'";
      for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
      return out + "'";
    };
    std::string command = "mpirun -n " + std::to_string(world.size()) + " " + quoted(argc > 0 ? argv[0] : "deepmr");
    for (int i = 1; i < argc; ++i) {
      const std::string word = argv[i];
      if (word != "--resume" && word != "--auto-resume") command += " " + quoted(word);
    }
    return command + " --resume";
  }

  static int run_collectively(const ParsedOptions& parsed, const Communicator& world, const std::string& resume_with) {
    const bool resume = parsed.values["resume"].as<bool>();
    const bool auto_resume = parsed.values["auto-resume"].as<bool>();
    TableFormat format = TableFormat::tsv;
    RunSetup setup;
    dist::collectively(world, [&] {
      if (resume && auto_resume) throw UsageError("give --resume or --auto-resume, not both");
      format = parse_table_format(parsed.values["format"].as<std::string>());
      setup = prepare_run(parsed);
    });

    run::RunRequest request;
    request.start = resume ? store::JournalStart::resume
                    : auto_resume ? store::JournalStart::auto_resume
                                  : store::JournalStart::fresh;
    request.threads_given = !parsed.values["run.threads"].empty();
    request.pinned_gpu = pinned_gpu(setup, parsed.values["run.device"].as<std::string>());
    request.stop_requested = [] { return stop_requested(); };

    // Progress counts the units of this attempt: the rate and ETA of a resume are its own.
    run::RunObserver observer;
    std::uint64_t done_before = 0;
    observer.progress = [&](const dist::Scheduler& s, double elapsed) {
      const double rate = (s.units_done() - done_before) / std::max(elapsed, 1e-9);
      const double eta = rate > 0 ? (s.units_total() - s.units_done()) / rate : INFINITY;
      std::cerr << "deepmr run: progress " << s.units_done() << "/" << s.units_total() << " units ("
                << std::fixed << std::setprecision(1) << 100.0 * s.units_done() / std::max<std::uint64_t>(1, s.units_total())
                << "%), " << std::setprecision(3) << rate << " units/s, ETA " << duration_text(eta) << std::endl;
    };
    observer.warning = [](const std::string& line) { std::cerr << "deepmr run: warning: " << line << std::endl; };
    observer.started = [&](const run::RunStart& s) {
      done_before = s.units_done;
      print_start(s);
    };

    const auto outcome = run::run_deep_mr(world, setup, request, observer);
    if (world.is_root()) print_end(setup, outcome, format);
    if (outcome.loop.stopped_early)
      throw AgreedFailure(dist::RankFailure{0, ExitCode::resumable,
                                            std::to_string(outcome.loop.units_done) + " of " +
                                                std::to_string(outcome.loop.units_total) +
                                                " units done and kept; resume with: " + resume_with});
    return 0;
  }
};

}  // namespace

std::unique_ptr<Command> make_run_command() { return std::make_unique<RunCommand>(); }

}  // namespace deepmr::app
