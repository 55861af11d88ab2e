#include "deepmr/app/options.hpp"

#include <gtest/gtest.h>

#include "deepmr/common/error.hpp"
#include "test_support.hpp"

namespace deepmr::app {
namespace {

struct Fixture {
  po::options_description options;
  po::positional_options_description positional;
  Fixture() {
    options.add_options()
        ("mc-samples", po::value<int>()->default_value(50), "samples")
        ("seed", po::value<std::uint64_t>()->default_value(1), "seed")
        ("model", po::value<std::string>()->required(), "model")
        ("store.path", po::value<std::string>()->default_value("deepmr.h5"), "store")
        ("exposure", po::value<std::vector<std::string>>()->composing(), "exposures");
  }
  ParsedOptions parse(const std::vector<std::string>& args) { return parse_options("test", options, positional, args); }
};

std::string usage_error(Fixture& f, const std::vector<std::string>& args) {
  try {
    f.parse(args);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Options, CommandLineBeatsConfigFileWhichBeatsDefaults) {
  test::TempDir dir;
  test::write_text(dir.file("run.ini"),
                   "# a comment\nmodel = from_file.pt\nmc-samples = 20   # inline comment\n\n[store]\npath = out.h5\n");
  Fixture f;
  auto parsed = f.parse({"--config", dir.file("run.ini"), "--mc-samples", "7"});
  EXPECT_EQ(parsed.values["mc-samples"].as<int>(), 7);                  // command line
  EXPECT_EQ(parsed.values["model"].as<std::string>(), "from_file.pt");  // file
  EXPECT_EQ(parsed.values["store.path"].as<std::string>(), "out.h5");   // file, section-qualified
  EXPECT_EQ(parsed.values["seed"].as<std::uint64_t>(), 1u);             // default
  EXPECT_EQ(parsed.config_path, dir.file("run.ini"));
  EXPECT_NE(parsed.config_text.find("from_file.pt"), std::string::npos);

  auto without = f.parse({"--config", dir.file("run.ini")});
  EXPECT_EQ(without.values["mc-samples"].as<int>(), 20);
}

TEST(Options, UnknownKeyInFileNamesKeyFileAndLine) {
  test::TempDir dir;
  test::write_text(dir.file("bad.ini"), "model = m.pt\n[store]\npaht = x.h5\n");
  Fixture f;
  auto message = usage_error(f, {"--config", dir.file("bad.ini")});
  EXPECT_NE(message.find(dir.file("bad.ini") + ":3:"), std::string::npos) << message;
  EXPECT_NE(message.find("unknown key 'store.paht'"), std::string::npos) << message;
}

TEST(Options, WrongTypeInFileNamesKeyFileAndLine) {
  test::TempDir dir;
  test::write_text(dir.file("bad.ini"), "model = m.pt\nmc-samples = fifty\n");
  Fixture f;
  auto message = usage_error(f, {"--config", dir.file("bad.ini")});
  EXPECT_NE(message.find(dir.file("bad.ini") + ":2:"), std::string::npos) << message;
  EXPECT_NE(message.find("'mc-samples'"), std::string::npos) << message;
  EXPECT_NE(message.find("fifty"), std::string::npos) << message;
}

TEST(Options, WrongTypeOnCommandLineNamesTheOption) {
  Fixture f;
  auto message = usage_error(f, {"--model", "m.pt", "--seed", "-3x"});
  EXPECT_NE(message.find("seed"), std::string::npos) << message;
}

TEST(Options, MissingRequiredValueNamesTheKey) {
  Fixture f;
  auto message = usage_error(f, {"--mc-samples", "3"});
  EXPECT_NE(message.find("missing required option 'model'"), std::string::npos) << message;
}

TEST(Options, UnknownCommandLineOptionIsNamed) {
  Fixture f;
  auto message = usage_error(f, {"--model", "m.pt", "--mc-sample", "3"});
  EXPECT_NE(message.find("mc-sample"), std::string::npos) << message;
}

TEST(Options, DuplicateKeyInFileIsAnErrorUnlessTheOptionComposes) {
  test::TempDir dir;
  test::write_text(dir.file("dup.ini"), "model = a.pt\nmodel = b.pt\n");
  Fixture f;
  auto message = usage_error(f, {"--config", dir.file("dup.ini")});
  EXPECT_NE(message.find(":2:"), std::string::npos) << message;
  EXPECT_NE(message.find("set twice (first on line 1)"), std::string::npos) << message;

  test::write_text(dir.file("list.ini"), "model = a.pt\nexposure = FOXA1\nexposure = EZH2\n");
  auto parsed = f.parse({"--config", dir.file("list.ini")});
  EXPECT_EQ(parsed.values["exposure"].as<std::vector<std::string>>(), (std::vector<std::string>{"FOXA1", "EZH2"}));
}

TEST(Options, MalformedLinesAndMissingFilesAreUsageErrors) {
  test::TempDir dir;
  test::write_text(dir.file("bad.ini"), "model = a.pt\nthis line has no equals sign\n");
  Fixture f;
  EXPECT_NE(usage_error(f, {"--config", dir.file("bad.ini")}).find("bad.ini:2: expected 'key = value'"),
            std::string::npos);
  EXPECT_NE(usage_error(f, {"--config", dir.file("absent.ini")}).find("cannot read the config file"),
            std::string::npos);
}

// Issue 15, item 8: a UTF-8 byte-order mark made the first line "expected 'key = value', found
// '\xEF\xBB\xBF[store]'" with the mark invisible in the message.
TEST(Options, ByteOrderMarkAtTheStartIsSkipped) {
  test::TempDir dir;
  test::write_text(dir.file("bom.ini"), "\xEF\xBB\xBF[store]\npath = b.h5\n");
  Fixture f;
  auto parsed = f.parse({"--config", dir.file("bom.ini"), "--model", "m.pt"});
  EXPECT_EQ(parsed.values["store.path"].as<std::string>(), "b.h5");
  test::write_text(dir.file("bomkey.ini"), "\xEF\xBB\xBFmodel = m.pt\n");
  EXPECT_EQ(f.parse({"--config", dir.file("bomkey.ini")}).values["model"].as<std::string>(), "m.pt");
}

// Found by the config fuzz harness: Boost's error message fills in "%value%" until none is left, so
// a bad value that holds "%value%" hung deepmr (in a file or on the command line).
TEST(Options, BadValueHoldingAPlaceholderIsAnErrorNotAHang) {
  test::TempDir dir;
  test::write_text(dir.file("p.ini"), "model = m.pt\nmc-samples = 5%value%\n");
  Fixture f;
  const auto in_file = usage_error(f, {"--config", dir.file("p.ini")});
  EXPECT_NE(in_file.find("p.ini:2: key 'mc-samples': invalid value '5%value%'"), std::string::npos) << in_file;
  const auto on_command_line = usage_error(f, {"--model", "m.pt", "--mc-samples", "%value%x"});
  EXPECT_NE(on_command_line.find("invalid value for option 'mc-samples'"), std::string::npos) << on_command_line;
  const auto unknown = usage_error(f, {"--model", "m.pt", "--%canonical_option%"});
  EXPECT_NE(unknown.find("unrecognised option"), std::string::npos) << unknown;
  // Without a '%', Boost's own wording.
  EXPECT_NE(usage_error(f, {"--model", "m.pt", "--mc-samples", "x"}).find("the argument ('x') for option"),
            std::string::npos);
}

}  // namespace
}  // namespace deepmr::app
