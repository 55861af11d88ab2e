#include "deepmr/model/targets.hpp"

#include <gtest/gtest.h>

#include "deepmr/common/error.hpp"
#include "test_support.hpp"

namespace deepmr::model {
namespace {

std::string deepsea_names() { return test::source_dir() + "/data/deepsea/predictor_names.txt"; }

TEST(Targets, DeepSeaNamesResolveToTheirIndices) {
  auto names = read_targets_file(deepsea_names());
  ASSERT_EQ(names.size(), 919u);
  EXPECT_EQ(names[56], "HepG2|DNase|None");
  EXPECT_EQ(names[576], "NA|NA|NA");
  EXPECT_EQ(resolve_outputs({"HepG2|DNase|None", "295", "HepG2|ATF3|None"}, names, 919),
            (std::vector<int>{56, 295, 295}));
}

TEST(Targets, AmbiguousUnknownAndOutOfRange) {
  auto names = read_targets_file(deepsea_names());
  try {
    resolve_outputs({"HepG2|BHLHE40|None"}, names, 919);
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("ambiguous: outputs 296, 548"), std::string::npos) << e.what();
  }
  try {
    resolve_outputs({"HepG2|FOXA|None"}, names, 919);
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown output 'HepG2|FOXA|None'"), std::string::npos) << e.what();
  }
  try {
    resolve_outputs({"919"}, names, 919);
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("out of range"), std::string::npos) << e.what();
  }
  EXPECT_THROW(resolve_outputs({"FOXA1"}, {}, 919), ModelError);  // a name needs a targets file
  EXPECT_THROW(resolve_outputs({"1"}, {"a", "b"}, 3), ModelError);  // file and model disagree
}

TEST(Targets, ABareHeadNameIsItsOnlyElement) {
  // A graph model's flattened outputs (graph.hpp): "HEAD:i".
  const std::vector<std::string> names{"profile:0", "profile:1", "profile:2", "counts:0", "heads.1:0", "counts:x"};
  EXPECT_EQ(resolve_outputs({"counts", "heads.1", "profile:2", "counts:0"}, names, 6), (std::vector<int>{3, 4, 2, 3}));
  try {
    resolve_outputs({"profile"}, names, 6);
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("output 'profile' is a head of 3 outputs (profile:0 .. profile:2)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(resolve_outputs({"heads"}, names, 6), ModelError);  // "heads.1:0" is not head "heads"
  EXPECT_THROW(resolve_outputs({"count"}, names, 6), ModelError);
}

TEST(Targets, ListsSplitOnCommas) {
  EXPECT_EQ(split_list(" HepG2|DNase|None, 295 ,,x"), (std::vector<std::string>{"HepG2|DNase|None", "295", "x"}));
}

TEST(Targets, BlankLinesInsideTheFileAreErrors) {
  test::TempDir dir;
  test::write_text(dir.file("t.txt"), "a\n\nb\n");
  try {
    read_targets_file(dir.file("t.txt"));
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("t.txt:2:"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace deepmr::model
