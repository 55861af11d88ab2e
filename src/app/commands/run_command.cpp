// deepmr run: the main job (ARCHITECTURE.md section 3). Under mpirun, rank 0 coordinates and the
// other ranks compute; the journal makes every finished region durable; the store is assembled
// from it at the end (or at a requested stop), with the meta-analysis per exposure.

#include <torch/cuda.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

#include "deepmr/app/command.hpp"
#include "deepmr/app/exit_status.hpp"
#include "deepmr/app/region_worker.hpp"
#include "deepmr/app/run_config.hpp"
#include "deepmr/app/run_setup.hpp"
#include "deepmr/app/stop_signals.hpp"
#include "deepmr/app/store_assembly.hpp"
#include "deepmr/common/error.hpp"
#include "deepmr/dist/communicator.hpp"
#include "deepmr/dist/device_binding.hpp"
#include "deepmr/dist/work_loop.hpp"
#include "deepmr/model/gemm.hpp"
#include "deepmr/store/journal.hpp"

namespace deepmr::app {
namespace {

namespace fs = std::filesystem;
using dist::Communicator;

std::string now_text() {
  const std::time_t t = std::time(nullptr);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buffer;
}

std::string duration_text(double seconds) {
  if (!std::isfinite(seconds)) return "?";
  std::ostringstream out;
  if (seconds >= 3600) out << static_cast<long>(seconds / 3600) << "h" << std::setw(2) << std::setfill('0') << static_cast<long>(seconds / 60) % 60 << "m";
  else if (seconds >= 60) out << static_cast<long>(seconds / 60) << "m" << std::setw(2) << std::setfill('0') << static_cast<long>(seconds) % 60 << "s";
  else out << std::fixed << std::setprecision(1) << seconds << "s";
  return out.str();
}

// An error every rank agreed on: thrown identically on all ranks, printed by rank 0 only.
struct AgreedFailure {
  dist::RankFailure failure;
};

// Runs `step` on every rank; when it fails on any rank, every rank throws the lowest failing
// rank's error, so that no rank walks on into a collective call alone.
template <typename Step>
void collectively(const Communicator& comm, Step&& step) {
  std::optional<dist::RankFailure> local;
  try {
    step();
  } catch (const Error& e) {
    local = dist::RankFailure{comm.rank(), e.code(), e.what()};
  } catch (const std::exception& e) {
    local = dist::RankFailure{comm.rank(), ExitCode::internal, std::string("internal error: ") + e.what()};
  }
  if (auto agreed = dist::agree_on_failure(comm, local)) throw AgreedFailure{*agreed};
}

// Threads for a computing rank: the node's cores shared by the node's computing ranks.
int default_threads(const Communicator& world) {
  const Communicator node = world.split_node_local();
  // The coordinator (world rank 0) computes only when it is alone.
  const std::int64_t computing = node.allreduce_sum(world.size() == 1 || !world.is_root() ? 1 : 0);
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  return static_cast<int>(std::max<std::int64_t>(1, cores / std::max<std::int64_t>(1, computing)));
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
        ("format", po::value<std::string>()->default_value("tsv")->value_name("tsv|json"), "summary table format");
    describe_run_options(options);
  }

  bool uses_mpi(const std::vector<std::string>&) const override { return true; }

  int run(const ParsedOptions& parsed, int, char**) override {
    const Communicator world = Communicator::world();
    install_stop_handlers();
    try {
      return run_collectively(parsed, world);
    } catch (const AgreedFailure& agreed) {
      // Every rank returns the same status; only rank 0 speaks.
      if (world.is_root())
        std::cerr << "deepmr run: " << (agreed.failure.code == ExitCode::resumable ? "stopped: " : "error: ")
                  << one_line(agreed.failure.message)
                  << (world.size() > 1 && agreed.failure.rank > 0 ? " (rank " + std::to_string(agreed.failure.rank) + ")" : "")
                  << std::endl;
      return static_cast<int>(agreed.failure.code);
    }
  }

 private:
  int run_collectively(const ParsedOptions& parsed, const Communicator& world) {
    const bool resume = parsed.values["resume"].as<bool>();
    const bool auto_resume = parsed.values["auto-resume"].as<bool>();
    TableFormat format = TableFormat::tsv;
    RunSetup setup;
    const std::string started = world.broadcast(world.is_root() ? now_text() : std::string(), 0);
    collectively(world, [&] {
      if (resume && auto_resume) throw UsageError("give --resume or --auto-resume, not both");
      format = parse_table_format(parsed.values["format"].as<std::string>());
      setup = prepare_run(parsed);
    });
    // Every rank planned by itself: check they agree before trusting region ids in messages.
    collectively(world, [&] {
      const std::string root_digest = world.broadcast(world.is_root() ? setup.plan_digest : std::string(), 0);
      if (root_digest != setup.plan_digest)
        throw InputError("rank " + std::to_string(world.rank()) + " planned different regions than rank 0: do all "
                         "ranks see the same input files?");
    });
    std::vector<model::Device> devices;
    collectively(world, [&] { devices = worker_devices(world, setup, parsed.values["run.device"].as<std::string>()); });
    if (parsed.values["run.threads"].empty()) setup.model.threads = default_threads(world);
    // On the CPU, a worker's sample groups share its threads.
    if (setup.model.device.kind == model::Device::Kind::cpu)
      setup.model.threads = std::max(1, setup.model.threads / static_cast<int>(devices.size()));
    model::set_threads(setup.model.threads);

    // Rank 0 decides what is left to do: everything (a fresh run) or what the journal lacks.
    const std::string journal_dir = store::journal_directory(setup.config.store);
    std::vector<std::uint64_t> todo;
    std::int64_t attempt = 0;
    collectively(world, [&] {
      if (!world.is_root()) return;
      const bool resuming = resume || (auto_resume && fs::exists(journal_dir + "/manifest"));
      attempt = prepare_journal(setup, journal_dir, resuming, todo);
    });
    attempt = world.broadcast(attempt, 0);

    // The main loop.
    std::vector<std::uint32_t> units_per_region(setup.plan.region_count());
    for (std::uint64_t r = 0; r < setup.plan.region_count(); ++r)
      units_per_region[r] = static_cast<std::uint32_t>(setup.plan.first_unit(r + 1) - setup.plan.first_unit(r));
    const int workers = std::max(1, world.size() - 1);
    dist::Scheduler scheduler(todo, units_per_region, workers, setup.config.dispatch_batch);
    std::unique_ptr<store::JournalWriter> journal;
    std::unique_ptr<RegionWorker> worker;
    const bool computes = world.size() == 1 || !world.is_root();
    collectively(world, [&] {
      if (!computes) return;
      journal = std::make_unique<store::JournalWriter>(journal_dir, static_cast<std::uint32_t>(attempt), world.rank());
      worker = std::make_unique<RegionWorker>(setup, *journal, world.rank(), static_cast<std::uint32_t>(attempt), devices);
    });
    if (world.is_root())
      std::cerr << "deepmr run: " << scheduler.units_done() << " of " << scheduler.units_total() << " units done, "
                << scheduler.regions_pending() << " regions to compute on " << workers << " worker"
                << (workers > 1 ? "s" : "") << " (threads per worker: " << setup.model.threads << ", "
                << (setup.model.backend == model::Backend::kernels ? "kernels " + model::isa_name(model::active_isa()) : std::string("torch"))
                << ")" << std::endl;

    dist::WorkLoopHooks hooks;
    hooks.compute = [&](std::uint64_t region) { return worker->compute(region); };
    hooks.stop_requested = [] { return stop_requested(); };
    hooks.progress_seconds = setup.config.progress_seconds > 0 ? setup.config.progress_seconds : 1e300;
    const std::uint64_t done_before = scheduler.units_done();
    hooks.progress = [&](const dist::Scheduler& s, double elapsed) {
      const double rate = (s.units_done() - done_before) / std::max(elapsed, 1e-9);
      const double eta = rate > 0 ? (s.units_total() - s.units_done()) / rate : INFINITY;
      std::cerr << "deepmr run: progress " << s.units_done() << "/" << s.units_total() << " units ("
                << std::fixed << std::setprecision(1) << 100.0 * s.units_done() / std::max<std::uint64_t>(1, s.units_total())
                << "%), " << std::setprecision(3) << rate << " units/s, ETA " << duration_text(eta) << std::endl;
    };
    const auto loop_start = std::chrono::steady_clock::now();
    const auto outcome = dist::run_work_loop(world, scheduler, hooks);
    const double loop_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - loop_start).count();
    worker.reset();
    journal.reset();
    if (outcome.failure) throw AgreedFailure{*outcome.failure};

    // The store, from the journal: complete, or partial after a stop.
    AssemblyOutcome assembly;
    collectively(world, [&] {
      assembly = assemble_store(world, setup, {{"started", started}, {"finished", now_text()}},
                                {{"attempts", attempt + 1}, {"ranks", world.size()}},
                                {{"main_loop_seconds", world.broadcast_double(loop_seconds, 0)}});
    });
    if (world.is_root()) report_end(setup, outcome, assembly, loop_seconds, format);
    if (outcome.stopped_early) {
      const std::string how = "deepmr run --config " + (parsed.config_path.empty() ? std::string("FILE") : parsed.config_path) + " --resume";
      throw AgreedFailure{dist::RankFailure{0, ExitCode::resumable,
                                            std::to_string(outcome.units_done) + " of " + std::to_string(outcome.units_total) +
                                                " units done and kept; resume with: " + how}};
    }
    return 0;
  }

  // Collective. The devices a worker computes on: run.gpus-per-worker GPUs bound from its
  // node-local rank (the coordinator binds none; cuda:K pins K, K+1, ...), or as many CPU sample
  // groups sharing its cores.
  static std::vector<model::Device> worker_devices(const Communicator& world, const RunSetup& setup,
                                                   const std::string& asked) {
    const int groups = setup.config.gpus_per_worker;
    std::vector<model::Device> devices(groups, setup.model.device);
    if (setup.model.device.kind != model::Device::Kind::cuda) return devices;
    const bool pinned = asked != "auto" && asked != "cuda";
    const auto bound = dist::bind_devices(world, groups, static_cast<int>(torch::cuda::device_count()));
    for (int g = 0; g < groups; ++g) {
      if (pinned) devices[g].index = setup.model.device.index + g;
      else if (!bound.empty()) devices[g].index = bound[g];
    }
    return devices;
  }

  // Rank 0: creates or checks the journal; returns the attempt number and fills `todo`.
  static std::int64_t prepare_journal(const RunSetup& setup, const std::string& journal_dir, bool resume,
                                      std::vector<std::uint64_t>& todo) {
    const std::string manifest_path = journal_dir + "/manifest";
    const auto manifest = setup.manifest();
    std::int64_t attempt = 0;
    std::vector<std::uint8_t> done(setup.plan.region_count(), 0);
    if (resume) {
      if (!fs::exists(manifest_path))
        throw UsageError("--resume: " + journal_dir + " holds no run to resume (no manifest); start it without --resume");
      const auto differences = manifest.differences(store::Manifest::read(manifest_path));
      if (!differences.empty()) {
        std::string list;
        for (const auto& d : differences) list += (list.empty() ? "" : "; ") + d;
        throw UsageError("--resume: this config or model differs from the run in " + journal_dir + ": " + list +
                         " (resume with the original config, or start a new run with another run.store)");
      }
      const auto stats = store::read_journal(
          journal_dir, [&](store::RegionResult&& r) {
            if (r.region < done.size()) done[r.region] = 1;
          },
          false);
      attempt = stats.attempts;
    } else {
      std::error_code ec;
      const bool journal_exists = fs::exists(journal_dir, ec) && !fs::is_empty(journal_dir, ec);
      if (journal_exists || fs::exists(setup.config.store, ec))
        throw StoreError(setup.config.store + " or its journal already exists: resume that run with --resume, or "
                         "set another run.store (deepmr never overwrites results)");
      // The store's directory must exist: a mistyped path is not silently created.
      const fs::path parent = fs::absolute(setup.config.store).parent_path();
      if (!fs::is_directory(parent, ec))
        throw StoreError("run.store: the directory " + parent.string() + " does not exist (create it first)");
      fs::create_directory(journal_dir, ec);
      if (ec || !fs::is_directory(journal_dir))
        throw StoreError(journal_dir + ": cannot create the journal directory (" + ec.message() +
                         "); check that the store's directory is writable");
      if (::access(journal_dir.c_str(), W_OK) != 0)
        throw StoreError(journal_dir + ": the journal directory is not writable");
      manifest.write(manifest_path);
    }
    for (std::uint64_t r = 0; r < done.size(); ++r)
      if (!done[r]) todo.push_back(r);
    return attempt;
  }

  static void report_end(const RunSetup& setup, const dist::WorkLoopOutcome& outcome, const AssemblyOutcome& assembly,
                         double loop_seconds, TableFormat format) {
    // Time per rank: where it went.
    std::cerr << "deepmr run: main loop " << duration_text(loop_seconds) << "; per rank: ";
    for (const auto& t : outcome.timings)
      std::cerr << "[rank " << t.rank << ": " << t.regions << " regions, ism " << duration_text(t.seconds_ism) << ", mr "
                << duration_text(t.seconds_mr) << ", io " << duration_text(t.seconds_io) << ", wait "
                << duration_text(t.seconds_wait) << "] ";
    std::cerr << std::endl;
    if (assembly.duplicate_records > 0)
      std::cerr << "deepmr run: warning: the journal holds " << assembly.duplicate_records
                << " duplicate records (identical results, kept once)" << std::endl;
    const auto contents = store::read_store(setup.config.store);
    std::cerr << "deepmr run: " << setup.config.store << ": " << completeness(contents) << std::endl;
    summary_table(contents, 0).write(std::cout, format);
    std::cout.flush();
  }
};

}  // namespace

std::unique_ptr<Command> make_run_command() { return std::make_unique<RunCommand>(); }

}  // namespace deepmr::app
