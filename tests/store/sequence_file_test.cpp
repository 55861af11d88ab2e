// SequenceFile reads pre-encoded sequences and labels written by an independent client (h5py).
#include "deepmr/store/sequence_file.hpp"

#include <gtest/gtest.h>

#include <functional>

#include "deepmr/common/error.hpp"
#include "test_support.hpp"

namespace deepmr::store {
namespace {

// Rows: sequence row r, channel c, position i holds 1 when (r + i) % 4 == c; labels[r][t] = (r + t) % 2.
const char* kMakeFiles = R"PY(
import sys, h5py, numpy as np
d = sys.argv[1]
n, length, t = 6, 8, 3
seq = np.zeros((n, 4, length), dtype=np.uint8)
for r in range(n):
    for i in range(length):
        seq[r, (r + i) % 4, i] = 1
labels = np.array([[(r + k) % 2 for k in range(t)] for r in range(n)], dtype=np.float32)
with h5py.File(d + "/good.h5", "w") as f:
    f["sequences"] = seq
    f["labels"] = labels
with h5py.File(d + "/float.h5", "w") as f:
    f["x"] = seq.astype(np.float32)
with h5py.File(d + "/transposed.h5", "w") as f:
    f["sequences"] = np.transpose(seq, (0, 2, 1))
with h5py.File(d + "/short_labels.h5", "w") as f:
    f["sequences"] = seq
    f["labels"] = labels[:4]
)PY";

class SequenceFileTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir("seqfile");
    test::write_text(dir_->file("make.py"), kMakeFiles);
    auto r = test::run(test::python() + " " + dir_->file("make.py") + " " + dir_->path());
    ASSERT_EQ(r.status, 0) << r.err;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string file(const std::string& name) { return dir_->file(name); }
  static test::TempDir* dir_;
};
test::TempDir* SequenceFileTest::dir_ = nullptr;

std::string input_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

TEST_F(SequenceFileTest, ReadsRowsAsChannelMajorFloatsAndLabelsAsBoundFlags) {
  SequenceFile f(file("good.h5"));
  EXPECT_EQ(f.rows(), 6u);
  EXPECT_EQ(f.length(), 8u);
  EXPECT_TRUE(f.has_labels());
  EXPECT_EQ(f.label_count(), 3u);
  for (std::uint64_t r = 0; r < 6; ++r) {
    const auto row = f.read_row(r);
    ASSERT_EQ(row.size(), 32u);
    for (std::size_t c = 0; c < 4; ++c)
      for (std::size_t i = 0; i < 8; ++i)
        EXPECT_EQ(row[c * 8 + i], (r + i) % 4 == c ? 1.0f : 0.0f) << r << " " << c << " " << i;
  }
  const auto bound = f.bound({2, 0});
  ASSERT_EQ(bound.size(), 12u);
  for (std::uint64_t r = 0; r < 6; ++r) {
    EXPECT_EQ(bound[r * 2 + 0], (r + 2) % 2) << r;
    EXPECT_EQ(bound[r * 2 + 1], r % 2) << r;
  }
}

TEST_F(SequenceFileTest, FloatDatasetsAndCustomNamesWork) {
  SequenceFile f(file("float.h5"), "x", "");
  EXPECT_FALSE(f.has_labels());
  const auto row = f.read_row(5);  // position 0 of row 5 is channel (5 + 0) % 4 = 1
  EXPECT_EQ(row[0 * 8 + 0], 0.0f);
  EXPECT_EQ(row[1 * 8 + 0], 1.0f);
  EXPECT_EQ(row[2 * 8 + 1], 1.0f);
  EXPECT_NE(input_error([&] { f.bound({0}); }).find("has no label dataset"), std::string::npos);
}

TEST_F(SequenceFileTest, BadInputsAreInputErrorsNamingTheFile) {
  auto missing = input_error([] { SequenceFile f(file("absent.h5")); });
  EXPECT_NE(missing.find(file("absent.h5")), std::string::npos) << missing;
  test::write_text(file("text.h5"), "not hdf5\n");
  auto not_hdf5 = input_error([] { SequenceFile f(file("text.h5")); });
  EXPECT_NE(not_hdf5.find("cannot open it as an HDF5 file"), std::string::npos) << not_hdf5;
  auto no_dataset = input_error([] { SequenceFile f(file("good.h5"), "nope"); });
  EXPECT_NE(no_dataset.find("has no dataset 'nope'"), std::string::npos) << no_dataset;
  auto transposed = input_error([] { SequenceFile f(file("transposed.h5")); });
  EXPECT_NE(transposed.find("is 6 x 8 x 4; sequences must be N x 4 x L"), std::string::npos) << transposed;
  auto short_labels = input_error([] { SequenceFile f(file("short_labels.h5")); });
  EXPECT_NE(short_labels.find("'labels' is 4 x 3"), std::string::npos) << short_labels;
  SequenceFile good(file("good.h5"));
  EXPECT_NE(input_error([&] { good.read_row(6); }).find("row 6 is past the 6 rows"), std::string::npos);
  EXPECT_NE(input_error([&] { good.bound({3}); }).find("label column 3 is past the 3 columns"), std::string::npos);
}

}  // namespace
}  // namespace deepmr::store
