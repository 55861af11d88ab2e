#include "deepmr/run/run_driver.hpp"

#include <chrono>
#include <ctime>
#include <memory>

#include "deepmr/common/error.hpp"
#include "deepmr/dist/device_binding.hpp"
#include "deepmr/model/gemm.hpp"
#include "deepmr/run/region_pipeline.hpp"
#include "deepmr/store/journal.hpp"

namespace deepmr::run {
namespace {

using dist::collectively;
using dist::Communicator;

std::string now_text() {
  const std::time_t t = std::time(nullptr);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buffer;
}

// Collective. The devices a worker computes on: run.gpus-per-worker GPUs bound from its node-local
// rank (the coordinator binds none; cuda:K pins K, K+1, ...), or as many CPU sample groups sharing
// its cores.
std::vector<model::Device> worker_devices(const Communicator& world, const RunSetup& setup, int pinned_gpu) {
  const int groups = setup.config.gpus_per_worker;
  std::vector<model::Device> devices(groups, setup.model.device);
  if (setup.model.device.kind != model::Device::Kind::cuda) return devices;
  const auto gpus = dist::worker_gpus(world, groups, model::cuda_device_count(), pinned_gpu);
  for (int g = 0; g < groups; ++g) devices[g].index = gpus[g];
  return devices;
}

}  // namespace

RunOutcome run_deep_mr(const Communicator& world, RunSetup& setup, const RunRequest& request,
                       const RunObserver& observer) {
  const std::string started = world.broadcast(world.is_root() ? now_text() : std::string(), 0);
  // Every rank planned by itself: check they agree before trusting region ids in messages.
  collectively(world, [&] {
    const std::string root_digest = world.broadcast(world.is_root() ? setup.plan_digest : std::string(), 0);
    if (root_digest != setup.plan_digest)
      throw InputError("rank " + std::to_string(world.rank()) + " planned different regions than rank 0: do all "
                       "ranks see the same input files?");
  });
  std::vector<model::Device> devices;
  collectively(world, [&] { devices = worker_devices(world, setup, request.pinned_gpu); });
  if (!request.threads_given) setup.model.threads = dist::default_threads(world);
  // On the CPU, a worker's sample groups share its threads.
  if (setup.model.device.kind == model::Device::Kind::cpu)
    setup.model.threads = std::max(1, setup.model.threads / static_cast<int>(devices.size()));
  model::set_threads(setup.model.threads);
  // The bootstraps' threads: on a GPU the rank's cores wait for the device, on the CPU they compute.
  setup.config.mr.threads = static_cast<std::size_t>(
      setup.config.mr_threads > 0 ? setup.config.mr_threads
                                  : (setup.model.device.kind == model::Device::Kind::cuda ? setup.model.threads : 1));

  // Rank 0 decides what is left to do: everything (a fresh run) or what the journal lacks.
  RunOutcome outcome;
  store::JournalStartPlan journal_plan;
  std::int64_t run_id = 0;
  collectively(world, [&] {
    if (!world.is_root()) return;
    const auto manifest = setup.manifest();
    run_id = static_cast<std::int64_t>(manifest.run_id());
    journal_plan = store::start_journal(setup.config.store, manifest, setup.plan.region_count(), request.start,
                                        observer.warning);
  });
  outcome.attempt = world.broadcast(static_cast<std::int64_t>(journal_plan.attempt), 0);
  setup.run_id = static_cast<std::uint64_t>(world.broadcast(run_id, 0));  // every record carries it

  std::vector<std::uint32_t> units_per_region(setup.plan.region_count());
  for (std::uint64_t r = 0; r < setup.plan.region_count(); ++r)
    units_per_region[r] = static_cast<std::uint32_t>(setup.units.first(r + 1) - setup.units.first(r));
  const int workers = std::max(1, world.size() - 1);
  dist::Scheduler scheduler(journal_plan.todo, units_per_region, workers, setup.config.dispatch_batch);
  const std::string journal_dir = store::journal_directory(setup.config.store);
  std::unique_ptr<store::JournalWriter> journal;
  std::unique_ptr<RegionPipeline> pipeline;
  const bool computes = world.size() == 1 || !world.is_root();
  const auto attempt = static_cast<std::uint32_t>(outcome.attempt);
  collectively(world, [&] {
    if (!computes) return;
    journal = std::make_unique<store::JournalWriter>(journal_dir, attempt, world.rank());
    pipeline = std::make_unique<RegionPipeline>(setup, *journal, world.rank(), attempt, devices, request.stop_requested);
  });
  if (world.is_root() && observer.started) {
    RunStart start;
    start.units_done = scheduler.units_done();
    start.units_total = scheduler.units_total();
    start.regions_pending = scheduler.regions_pending();
    start.workers = workers;
    start.threads = setup.model.threads;
    start.compute = setup.model.backend == model::Backend::kernels ? "kernels " + model::isa_name(model::active_isa())
                                                                    : std::string("torch");
    observer.started(start);
  }

  dist::WorkLoopHooks hooks;
  hooks.compute = [&](std::uint64_t region) { return pipeline->compute(region); };
  hooks.finish = [&] { return pipeline->finish_pending(); };
  hooks.make_durable = [&] { return pipeline->make_durable(); };
  hooks.stop_requested = request.stop_requested ? request.stop_requested : [] { return false; };
  hooks.progress_seconds = setup.config.progress_seconds > 0 ? setup.config.progress_seconds : 1e300;
  hooks.progress = observer.progress;
  const auto loop_start = std::chrono::steady_clock::now();
  outcome.loop = dist::run_work_loop(world, scheduler, hooks);
  outcome.loop_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - loop_start).count();
  pipeline.reset();
  journal.reset();
  if (outcome.loop.failure) throw dist::AgreedFailure(*outcome.loop.failure);

  // The store, from the journal: complete, or partial after a stop.
  collectively(world, [&] {
    outcome.assembly = assemble_store(world, setup, {{"started", started}, {"finished", now_text()}},
                                      {{"attempts", outcome.attempt + 1}, {"ranks", world.size()}},
                                      {{"main_loop_seconds", world.broadcast_double(outcome.loop_seconds, 0)}});
  });
  return outcome;
}

}  // namespace deepmr::run
