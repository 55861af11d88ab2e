// Feeds bytes as an INI config file (--config FILE): read_config_file, then parse_options against
// options of every kind a deepmr command declares (integers, doubles, strings, switches, a
// composing list, a required option with a default).

#include <cstdint>
#include <string>
#include <vector>

#include "deepmr/app/options.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace deepmr;
  namespace po = app::po;
  const std::string path = fuzz::write_file("input.ini", data, size);
  static const po::options_description options = [] {
    po::options_description d;
    d.add_options()("analysis.mc-samples", po::value<int>()->default_value(50), "")(
        "analysis.seed", po::value<std::uint64_t>(), "")("analysis.alpha", po::value<double>(), "")(
        "analysis.exposure", po::value<std::vector<std::string>>()->composing(), "")(
        "regions.fasta", po::value<std::string>()->required(), "")("run.store", po::value<std::string>(), "")(
        "run.store-effects", po::value<bool>(), "")("run.threads", po::value<unsigned>(), "")(
        "model.reverse-complement", po::bool_switch(), "");
    return d;
  }();
  fuzz::expect_clean([&] { app::read_config_file(path); });
  fuzz::expect_clean([&] {
    app::parse_options("run", options, po::positional_options_description(), {"--config", path});
  });
  return 0;
}
