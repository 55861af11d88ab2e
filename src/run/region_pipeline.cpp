#include "deepmr/run/region_pipeline.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <future>
#include <limits>
#include <thread>

#include "deepmr/common/error.hpp"
#include "deepmr/genome/one_hot.hpp"
#include "deepmr/stats/direction.hpp"
#include "deepmr/stats/jackknife.hpp"
#include "deepmr/stats/normal_stream.hpp"
#include "deepmr/stats/result_columns.hpp"

namespace deepmr::run {
namespace {

using Clock = std::chrono::steady_clock;

// The effects' column of a model output (RunSetup::network_outputs lists each output once).
std::size_t column_of(const std::vector<int>& outputs, int output) {
  return static_cast<std::size_t>(std::find(outputs.begin(), outputs.end(), output) - outputs.begin());
}
double since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// The bootstrap stream of a unit: its exposure in the low 32 bits, its outcome in the high ones, so
// that the primary outcome's units keep the streams of a one-outcome run.
std::uint64_t unit_stream(std::uint32_t exposure, std::uint32_t outcome) {
  return static_cast<std::uint64_t>(exposure) | static_cast<std::uint64_t>(outcome) << 32;
}

// An MR result as a store row: the columns of stats/result_columns.hpp.
store::FitRow fit_row(const stats::MrResult& r) {
  store::FitRow row;
  row.status = r.estimable ? store::FitStatus::ok : store::FitStatus::not_estimable;
  row.reason = r.reason;
  row.values = stats::column_values(r);
  return row;
}

// Instruments: the mutants. Exposure: column x of the effects; outcome: column y; psi (when the
// effects have correlations): that of the exposure's differences with the outcome's, in the
// exposure's cells of the outcome's anchor (the outcomes are the first columns and the anchors:
// ism::IsmOptions::correlation_anchors).
stats::Instruments instruments_of(const std::vector<double>& beta, const std::vector<double>& se,
                                  const std::vector<double>& correlation, std::size_t n_outputs, std::size_t x,
                                  std::size_t y) {
  stats::Instruments instruments;
  const std::size_t anchor = y * beta.size();
  for (std::size_t m = 0; m * n_outputs < beta.size(); ++m) {
    instruments.bx.push_back(beta[m * n_outputs + x]);
    instruments.bxse.push_back(se[m * n_outputs + x]);
    instruments.by.push_back(beta[m * n_outputs + y]);
    instruments.byse.push_back(se[m * n_outputs + y]);
    if (!correlation.empty()) instruments.psi.push_back(correlation[anchor + m * n_outputs + x]);
  }
  return instruments;
}

// The direction test (stats/direction.hpp) as a store row.
store::FitRow direction_row(const stats::DirectionResult& result) {
  store::FitRow row;
  row.status = result.estimable ? store::FitStatus::ok : store::FitStatus::not_estimable;
  row.reason = result.reason;
  row.values = stats::column_values(result);
  return row;
}

struct UnitFits {
  std::vector<stats::MrResult> fits;  // one per method
  stats::DirectionResult direction;
};

// The MR fits and the direction test of exposure column x on outcome column y, each from the same
// instruments; with jackknife groups both are repeated on each leave-group-out beta and se (the
// whole fit, instrument filter included; estimates only, so without bootstrap draws) for their
// grouped jackknife SEs (stats/jackknife.hpp).
UnitFits fit_unit(const ism::Effects& effects, std::size_t x, std::size_t y, const std::vector<stats::MrMethod>& methods,
                  const stats::MrOptions& mr) {
  const std::size_t n_outputs = effects.outputs.size();
  const auto instruments = instruments_of(effects.beta, effects.se, effects.correlation, n_outputs, x, y);
  UnitFits out{stats::fit_all(methods, instruments, mr), stats::direction_test(instruments, mr.min_abs_z_x)};
  const auto& jack = effects.jackknife;
  if (jack.beta.empty()) return out;
  stats::MrOptions estimates_only = mr;
  estimates_only.bootstrap_draws = 0;
  std::vector<std::vector<stats::MrResult>> leave_out(methods.size());
  std::vector<stats::DirectionResult> leave_out_direction;
  for (std::size_t g = 0; g < jack.beta.size(); ++g) {
    static const std::vector<double> none;
    const auto& correlation = jack.correlation.empty() ? none : jack.correlation[g];
    const auto part = instruments_of(jack.beta[g], jack.se[g], correlation, n_outputs, x, y);
    const auto refits = stats::fit_all(methods, part, estimates_only);
    for (std::size_t m = 0; m < methods.size(); ++m) leave_out[m].push_back(refits[m]);
    leave_out_direction.push_back(stats::direction_test(part, mr.min_abs_z_x));
  }
  for (std::size_t m = 0; m < methods.size(); ++m) stats::add_jackknife(out.fits[m], leave_out[m], jack.sizes, mr);
  stats::add_direction_jackknife(out.direction, leave_out_direction, jack.sizes);
  return out;
}

}  // namespace

RegionPipeline::RegionPipeline(const RunSetup& setup, store::JournalWriter& journal, int rank, std::uint32_t attempt,
                               const std::vector<model::Device>& devices, std::function<bool()> should_stop)
    : setup_(setup),
      journal_(journal),
      rank_(rank),
      attempt_(attempt),
      should_stop_(std::move(should_stop)),
      overlap_mr_(setup.config.overlap_mr) {
  const auto& spec = setup.plan_spec;
  if (spec.source == genome::RegionSource::sequences) {
    const bool labelled = !spec.exposures.empty() && spec.exposures.front().column >= 0;
    sequences_ = std::make_unique<store::SequenceFile>(spec.sequences, spec.sequences_dataset,
                                                      labelled ? spec.labels_dataset : "");
  } else {
    fasta_ = std::make_unique<genome::FastaReader>(spec.fasta);
    // Region::chrom indexes the FASTA's sequences: the worker's FASTA must be the planned one.
    const auto& planned = setup.plan.chromosomes();
    if (fasta_->index().size() != planned.size())
      throw InputError(spec.fasta + ": has " + std::to_string(fasta_->index().size()) +
                       " sequences but the plan was made from " + std::to_string(planned.size()));
    for (std::size_t i = 0; i < planned.size(); ++i)
      if (fasta_->name(static_cast<std::uint32_t>(i)) != planned[i])
        throw InputError(spec.fasta + ": sequence " + std::to_string(i) + " is '" + fasta_->name(static_cast<std::uint32_t>(i)) +
                         "' but the plan has '" + planned[i] + "'");
  }
  const std::vector<int> outputs = setup.network_outputs();
  // The outcomes are the first columns, in order (RunSetup::network_outputs): outcome o is column o
  // and anchor o of the correlations.
  for (int output : setup.exposure_outputs) exposure_columns_.push_back(column_of(outputs, output));
  for (const auto& device : devices) {
    networks_.push_back(model::make_choice_network(setup.model, outputs, device));
    engines_.push_back(ism::make_engine(setup.config.engine, *networks_.back()));
  }
  if (devices.empty()) throw InternalError("a region worker needs a device");
  if (devices.size() > 1) {
    std::vector<int> indices;
    for (const auto& device : devices) indices.push_back(device.index);
    gather_ = devices.front().kind == model::Device::Kind::cuda ? dist::make_nccl_gather(indices) : dist::make_host_gather();
  }
}

namespace {

// A part's block and segment states as a flat array (the DeviceGather payload): per state, whether
// it is a segment, its block, its count, its jackknife group, the means, the sums of squared
// deviations, then (with correlations) the co-moments.
std::vector<double> flatten(const ism::Effects& part) {
  std::vector<double> out;
  for (const auto* states : {&part.blocks, &part.segments})
    for (const auto& b : *states) {
      out.push_back(states == &part.segments ? 1 : 0);
      out.push_back(b.block);
      out.push_back(b.count);
      out.push_back(b.group);
      out.insert(out.end(), b.mean.begin(), b.mean.end());
      out.insert(out.end(), b.m2.begin(), b.m2.end());
      out.insert(out.end(), b.cross.begin(), b.cross.end());
    }
  return out;
}

// anchors: the co-moment arrays per state (0 without correlations).
void unflatten(const std::vector<double>& flat, std::size_t cells, std::size_t anchors, ism::Effects& part) {
  part.blocks.clear();
  part.segments.clear();
  constexpr std::size_t header = 4;
  const std::size_t arrays = 2 + anchors, size = header + arrays * cells;
  for (std::size_t at = 0; at + size <= flat.size(); at += size) {
    ism::BlockState b;
    b.block = static_cast<int>(flat[at + 1]);
    b.count = static_cast<int>(flat[at + 2]);
    b.group = static_cast<int>(flat[at + 3]);
    const auto first = flat.begin() + static_cast<std::ptrdiff_t>(at + header);
    const auto n = static_cast<std::ptrdiff_t>(cells);
    b.mean.assign(first, first + n);
    b.m2.assign(first + n, first + 2 * n);
    if (anchors > 0) b.cross.assign(first + 2 * n, first + static_cast<std::ptrdiff_t>(arrays) * n);
    (flat[at] != 0 ? part.segments : part.blocks).push_back(std::move(b));
  }
}

}  // namespace

// One device: the engine computes every sample. Several: each computes its groups of sample
// blocks concurrently; the shares meet through the DeviceGather and merge in block order, so the
// bits do not depend on the number of devices.
ism::Effects RegionPipeline::effects_of(const std::string& window, const ism::IsmOptions& options) {
  if (engines_.size() == 1) return engines_.front()->run(window, options);
  const int groups = static_cast<int>(engines_.size());
  std::vector<ism::Effects> parts(groups);
  std::vector<std::exception_ptr> errors(groups);
  std::vector<std::thread> threads;
  for (int g = 0; g < groups; ++g)
    threads.emplace_back([&, g] {
      try {
        ism::IsmOptions part = options;
        part.sample_group = g;
        part.sample_groups = groups;
        parts[g] = engines_[g]->run(window, part);
      } catch (...) {
        errors[g] = std::current_exception();
      }
    });
  for (auto& t : threads) t.join();
  for (const auto& error : errors)
    if (error) std::rethrow_exception(error);
  const std::size_t cells = parts.front().mutants.size() * parts.front().outputs.size();
  std::vector<std::vector<double>> shares;
  for (const auto& part : parts) shares.push_back(flatten(part));
  shares = gather_->gather(shares);
  const std::size_t anchors = parts.front().with_correlation ? static_cast<std::size_t>(parts.front().correlation_anchors) : 0;
  for (int g = 0; g < groups; ++g) unflatten(shares[g], cells, anchors, parts[g]);
  return ism::merge_sample_groups(std::move(parts));
}

RegionPipeline::~RegionPipeline() {
  if (pending_.valid()) pending_.wait();  // fits not journaled are dropped: their region stays to do
}

std::string RegionPipeline::window_of(const genome::Region& region) {
  const bool allow_n = setup_.plan_spec.n_policy != genome::NPolicy::skip;
  if (region.is_window()) {
    std::string window;
    fasta_->fetch(region.chrom, region.start, region.end, window);
    return ism::checked_sequence(window, allow_n,
                                 setup_.plan_spec.fasta + " " + setup_.plan.chromosomes()[region.chrom] + ":" +
                                     std::to_string(region.start + 1) + "-" + std::to_string(region.end));
  }
  const auto values = sequences_->read_row(region.row);
  return genome::decode_one_hot(values.data(), static_cast<std::size_t>(region.end - region.start),
                                setup_.plan_spec.sequences_alphabet);
}

RegionPipeline::Mutagenesis RegionPipeline::mutagenesis(std::uint64_t region_id) {
  const auto& config = setup_.config;
  const genome::Region& region = setup_.plan.region(region_id);
  const auto ism_start = Clock::now();
  Mutagenesis out;
  out.region = region_id;
  out.window = window_of(region);
  ism::IsmOptions options;
  options.mc_samples = config.mc_samples;
  options.dropout = true;
  options.member_dropout = config.member_dropout;
  options.seed = config.seed;
  options.region_id = region_id;
  options.batch = config.batch;
  options.positions = config.positions;
  options.jackknife_groups = std::min(config.jackknife_groups, config.mc_samples);
  options.correlations = config.mr.ivw_weights == stats::IvwWeights::delta;
  options.correlation_anchors = static_cast<int>(setup_.outcome_outputs.size());
  if (should_stop_) options.should_stop = should_stop_;
  out.effects = effects_of(out.window, options);
  out.broken = broken_outputs(out.effects);
  out.seconds_ism = since(ism_start);
  return out;
}

std::vector<std::string> RegionPipeline::broken_outputs(const ism::Effects& effects) const {
  // A non-finite effect fails the units that need it: an outcome's fails that outcome's units, an
  // exposure's that exposure's units. The reason names the first offending mutant.
  const std::size_t n_outputs = effects.outputs.size();
  std::vector<std::string> broken(n_outputs);
  for (std::size_t i = 0; i < effects.beta.size(); ++i) {
    const std::size_t o = i % n_outputs;
    if (broken[o].empty() && (!std::isfinite(effects.beta[i]) || !std::isfinite(effects.se[i]))) {
      const auto& mutant = effects.mutants[i / n_outputs];
      broken[o] = "the model gave a non-finite output (NaN or Inf) on " + setup_.output_name(effects.outputs[o]) +
                  " for mutant " + std::to_string(mutant.position) + " " + mutant.ref + ">" + mutant.alt;
    }
  }
  return broken;
}

std::string RegionPipeline::unit_failure(const std::vector<std::string>& broken, std::uint64_t unit) const {
  const std::size_t x = exposure_columns_[setup_.units.exposure(unit)], y = setup_.units.outcome(unit);
  return !broken[y].empty() ? broken[y] : broken[x];
}

bool RegionPipeline::every_unit_fails(const Mutagenesis& computed) const {
  const auto& broken = computed.broken;
  const std::uint64_t first = setup_.units.first(computed.region), last = setup_.units.first(computed.region + 1);
  if (first == last) return false;
  for (std::uint64_t u = first; u < last; ++u)
    if (unit_failure(broken, u).empty()) return false;
  return true;
}

store::RegionResult RegionPipeline::fits(const Mutagenesis& computed) const {
  const auto& config = setup_.config;
  const std::uint64_t region_id = computed.region;
  const std::string& window = computed.window;
  const ism::Effects& effects = computed.effects;
  store::RegionResult result;
  result.region = region_id;
  result.rank = rank_;
  result.run = setup_.run_id;
  result.attempt = attempt_;
  const auto mr_start = Clock::now();
  const std::size_t n_outputs = effects.outputs.size(), n_mutants = effects.mutants.size();
  const auto& broken = computed.broken;

  const auto& units = setup_.units;
  const std::uint64_t first = units.first(region_id), last = units.first(region_id + 1);
  for (std::uint64_t u = first; u < last; ++u) {
    store::UnitResult unit;
    unit.unit = u;
    unit.exposure = units.exposure(u);
    unit.outcome = units.outcome(u);
    const std::size_t x = exposure_columns_[unit.exposure], y = unit.outcome;
    unit.reason = unit_failure(broken, u);
    unit.failed = !unit.reason.empty();
    if (unit.failed) {
      for (std::size_t m = 0; m < config.methods.size(); ++m)
        unit.fits.push_back({store::FitStatus::failed, unit.reason,
                             std::vector<double>(store::fit_columns().size(), std::numeric_limits<double>::quiet_NaN())});
      unit.direction = {store::FitStatus::failed, unit.reason,
                        std::vector<double>(stats::direction_columns().size(), std::numeric_limits<double>::quiet_NaN())};
      result.units.push_back(std::move(unit));
      continue;
    }
    stats::MrOptions mr = config.mr;
    mr.seed = stats::unit_seed(config.seed, unit_stream(unit.exposure, unit.outcome), region_id);
    const UnitFits fitted = fit_unit(effects, x, y, config.methods, mr);
    for (const auto& fit : fitted.fits) unit.fits.push_back(fit_row(fit));
    unit.direction = direction_row(fitted.direction);
    result.units.push_back(std::move(unit));
  }
  result.failed = !result.units.empty();
  for (const auto& unit : result.units) result.failed = result.failed && unit.failed;
  if (result.failed) result.reason = result.units.front().reason;
  if (config.store_effects && !result.failed) {
    // Every outcome, then each unit's exposure.
    result.sequence = window;
    result.mutants = static_cast<std::uint32_t>(n_mutants);
    const std::size_t outcomes = setup_.outcome_outputs.size();
    result.outputs = static_cast<std::uint32_t>(outcomes + result.units.size());
    for (std::size_t m = 0; m < n_mutants; ++m) {
      auto add = [&](std::size_t column) {
        result.beta.push_back(static_cast<float>(effects.beta[m * n_outputs + column]));
        result.se.push_back(static_cast<float>(effects.se[m * n_outputs + column]));
      };
      for (std::size_t y = 0; y < outcomes; ++y) add(y);
      for (const auto& unit : result.units) add(exposure_columns_[unit.exposure]);
    }
  }
  result.seconds_ism = computed.seconds_ism;
  result.seconds_mr = since(mr_start);
  return result;
}

store::RegionResult RegionPipeline::result_of(std::uint64_t region_id, double& seconds_ism, double& seconds_mr) {
  auto result = fits(mutagenesis(region_id));
  seconds_ism = result.seconds_ism;
  seconds_mr = result.seconds_mr;
  return result;
}

dist::RegionReport RegionPipeline::compute(std::uint64_t region) {
  dist::RegionReport report;
  report.region = region;
  Mutagenesis computed = mutagenesis(region);
  report.seconds_ism = computed.seconds_ism;
  report.failed = every_unit_fails(computed);
  // The previous region's fits ran while this region's mutagenesis did; they are journaled first,
  // so records keep the order of the regions.
  const Finished previous = finish();
  report.seconds_mr = previous.seconds_mr;
  report.seconds_io = previous.seconds_io;
  if (overlap_mr_) {
    pending_ = std::async(std::launch::async, [this, computed = std::move(computed)] { return fits(computed); });
  } else {
    const auto result = fits(computed);
    report.seconds_mr += result.seconds_mr;
    const auto io_start = Clock::now();
    journal_.append(result);
    report.seconds_io += since(io_start);
  }
  return report;
}

RegionPipeline::Finished RegionPipeline::finish() {
  Finished out;
  if (!pending_.valid()) return out;
  // The time this thread waits for the fits: the MR that the mutagenesis did not hide.
  const auto wait_start = Clock::now();
  const store::RegionResult result = pending_.get();
  out.seconds_mr = since(wait_start);
  const auto io_start = Clock::now();
  journal_.append(result);
  out.seconds_io = since(io_start);
  return out;
}

double RegionPipeline::finish_pending() { return finish().seconds_mr; }

double RegionPipeline::make_durable() {
  const auto start = Clock::now();
  journal_.make_durable();
  return since(start);
}

}  // namespace deepmr::run
