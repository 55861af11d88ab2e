// Runs under mpirun at 1, 2 and 3 ranks: every rank writes its own rows of one parallel HDF5 file,
// then independent readers (h5py and h5dump) read the file back.
#include <gtest/gtest.h>

#include "deepmr/dist/communicator.hpp"
#include "hdf5.hpp"  // private to the store layer (src/store)
#include "test_support.hpp"

namespace deepmr::store {
namespace {

using dist::Communicator;

class ParallelHdf5 : public ::testing::Test {
 protected:
  void SetUp() override {
    auto world = Communicator::world();
    if (world.is_root()) dir_ = std::make_unique<test::TempDir>("h5");
    path_ = world.broadcast(world.is_root() ? dir_->file("rows.h5") : std::string(), 0);
  }
  void TearDown() override { Communicator::world().barrier(); }
  std::unique_ptr<test::TempDir> dir_;
  std::string path_;
};

constexpr hsize_t kRowsPerRank = 5, kColumns = 3;

double value(hsize_t row, hsize_t column) { return 1000.0 * row + column + 0.25; }

TEST_F(ParallelHdf5, RanksWriteTheirRowsAndExternalReadersSeeThem) {
  auto world = Communicator::world();
  const hsize_t p = world.size(), r = world.rank();
  {
    File file = File::create_parallel(path_, world);
    file.set_attribute("/", "format", std::string("deepmr-test"));
    file.set_attribute("/", "ranks", static_cast<std::int64_t>(p));
    Dataset values = file.create_dataset<double>("/results/values", {p * kRowsPerRank, kColumns});
    Dataset owner = file.create_dataset<std::int64_t>("/results/rank", {p * kRowsPerRank});
    Dataset names = file.create_string_dataset("/results/name", p * kRowsPerRank, 16);

    std::vector<double> mine;
    std::vector<std::int64_t> ranks;
    std::vector<std::string> labels;
    for (hsize_t i = 0; i < kRowsPerRank; ++i) {
      const hsize_t row = r * kRowsPerRank + i;
      for (hsize_t c = 0; c < kColumns; ++c) mine.push_back(value(row, c));
      ranks.push_back(static_cast<std::int64_t>(r));
      labels.push_back("row-" + std::to_string(row));
    }
    values.write_rows(r * kRowsPerRank, kRowsPerRank, mine.data(), Transfer::independent);
    owner.write_rows(r * kRowsPerRank, kRowsPerRank, ranks.data(), Transfer::collective);
    names.write_strings(r * kRowsPerRank, labels, Transfer::collective);
    file.flush();
  }
  world.barrier();

  if (world.is_root()) {
    // Our own serial reader.
    File file = File::open_serial(path_, false);
    EXPECT_EQ(file.string_attribute("/", "format"), "deepmr-test");
    EXPECT_EQ(file.int_attribute("/", "ranks"), static_cast<std::int64_t>(p));
    auto all = file.open_dataset("/results/values").read_all<double>();
    ASSERT_EQ(all.size(), p * kRowsPerRank * kColumns);
    for (hsize_t row = 0; row < p * kRowsPerRank; ++row)
      for (hsize_t c = 0; c < kColumns; ++c) EXPECT_EQ(all[row * kColumns + c], value(row, c));
    EXPECT_EQ(file.open_dataset("/results/name").read_strings().back(), "row-" + std::to_string(p * kRowsPerRank - 1));

    // h5py, an independent reader.
    const std::string script =
        "import h5py, numpy as np\n"
        "f = h5py.File('" + path_ + "', 'r')\n"
        "v = f['results/values'][:]\n"
        "rows = np.arange(v.shape[0])[:, None]; cols = np.arange(v.shape[1])[None, :]\n"
        "assert np.array_equal(v, 1000.0 * rows + cols + 0.25), v\n"
        "assert list(f['results/rank'][:]) == [i // " + std::to_string(kRowsPerRank) + " for i in range(v.shape[0])]\n"
        "assert f['results/name'][-1].decode() == 'row-%d' % (v.shape[0] - 1)\n"
        "assert f.attrs['ranks'] == " + std::to_string(p) + "\n"
        "print('h5py ok', v.shape)\n";
    test::TempDir scratch("py");
    test::write_text(scratch.file("check.py"), script);
    auto py = test::run(test::python() + " " + scratch.file("check.py"));
    EXPECT_EQ(py.status, 0) << py.err;
    EXPECT_NE(py.out.find("h5py ok"), std::string::npos) << py.out;

    // h5dump, the HDF5 project's own tool.
    auto dump = test::run("h5dump -d /results/rank " + test::quote(path_));
    EXPECT_EQ(dump.status, 0) << dump.err;
    EXPECT_NE(dump.out.find("DATASPACE  SIMPLE { ( " + std::to_string(p * kRowsPerRank) + " )"), std::string::npos)
        << dump.out;
  }
}

TEST_F(ParallelHdf5, MissingFileIsAStoreErrorNamingThePath) {
  auto world = Communicator::world();
  try {
    File::open_parallel(path_ + ".missing", world, false);
    FAIL() << "opening a missing file must throw";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find(path_ + ".missing"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace deepmr::store
