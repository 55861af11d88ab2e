#include "deepmr/model/model_file.hpp"

#include <gtest/gtest.h>

#include "deepmr/common/error.hpp"
#include "expected_tables.hpp"
#include "test_support.hpp"

namespace deepmr::model {
namespace {

using test::fixture_model;

std::string model_error(const std::string& path, const ModelOverrides& overrides = {}) {
  try {
    load_model_file(path, overrides);
  } catch (const ModelError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ModelFile, ReadsTheKipoiLayoutWithMetadata) {
  auto stack = load_model_file(fixture_model("kipoi_conv2d"));
  EXPECT_EQ(stack.options.alphabet, "AGCT");
  EXPECT_TRUE(stack.options.reverse_complement_average);
  EXPECT_TRUE(stack.options.conv2d_layout);
  EXPECT_EQ(stack.options.input_length, 120);
  ASSERT_EQ(stack.layers.size(), 16u);
  EXPECT_EQ(stack.layers[0].kind, LayerKind::conv);
  EXPECT_EQ(stack.layers[0].path, "net.0");
  EXPECT_EQ(stack.layers[0].type, "Conv2d");
  EXPECT_EQ(stack.layers[0].kernel, 8);
  EXPECT_EQ(stack.layers[1].kind, LayerKind::threshold);
  EXPECT_DOUBLE_EQ(stack.layers[1].value, 1e-6);
  EXPECT_EQ(stack.layers[2].kind, LayerKind::max_pool);
  EXPECT_EQ(stack.layers[2].kernel, 4);
  EXPECT_EQ(stack.layers[3].kind, LayerKind::dropout);
  EXPECT_NEAR(stack.layers[3].p, 0.2, 1e-12);
  EXPECT_EQ(stack.layers[10].kind, LayerKind::dropout);
  EXPECT_NEAR(stack.layers[10].p, 0.5, 1e-12);
  // 120 -> conv 113 -> pool 28 -> conv 21 -> pool 5 -> conv(3) 3 -> 30 features -> 12 -> 7
  EXPECT_EQ(stack.layers[8].out.width, 3);
  EXPECT_EQ(stack.layers[11].out.channels, 30);
  EXPECT_EQ(stack.output_count(), 7);
  EXPECT_EQ(stack.dropout_layers(), (std::vector<int>{3, 7, 10}));
  ASSERT_EQ(stack.target_names.size(), 7u);
  EXPECT_EQ(stack.target_names[6], "kipoi_conv2d|out6");
}

TEST(ModelFile, ReadsNestedSequentialsPaddingDilationAndBatchNorm) {
  auto small = load_model_file(fixture_model("conv1d_small"));
  EXPECT_EQ(small.layers[4].path, "net.4.0");  // inside the nested Sequential
  EXPECT_FALSE(small.options.conv2d_layout);
  auto bn = load_model_file(fixture_model("batchnorm_elu"));
  EXPECT_EQ(bn.layers[0].pad_left, 3);
  EXPECT_EQ(bn.layers[0].pad_right, 3);
  EXPECT_EQ(bn.layers[0].out.width, 50);
  EXPECT_EQ(bn.layers[1].kind, LayerKind::batch_norm);
  EXPECT_EQ(bn.layers[2].kind, LayerKind::elu);
  EXPECT_NEAR(bn.layers[2].alpha, 0.7, 1e-12);
  EXPECT_EQ(bn.layers[3].kind, LayerKind::avg_pool);
  EXPECT_EQ(bn.layers[5].dilation, 2);
  EXPECT_EQ(bn.layers[5].out.width, 21);
}

TEST(ModelFile, TracedModelsNeedTheirInputLengthAndKeepTheirHyperparameters) {
  // A traced Sequential has no metadata and pooling floors admit several lengths.
  auto message = model_error(fixture_model("traced_conv1d"));
  EXPECT_NE(message.find("accepts input lengths 58 to 60"), std::string::npos) << message;
  EXPECT_NE(message.find("--input-length"), std::string::npos) << message;
  ModelOverrides overrides;
  overrides.input_length = 60;
  auto traced = load_model_file(fixture_model("traced_conv1d"), overrides);
  auto scripted = load_model_file(fixture_model("conv1d_small"));
  ASSERT_EQ(traced.layers.size(), scripted.layers.size());
  for (std::size_t i = 0; i < traced.layers.size(); ++i) {
    EXPECT_EQ(traced.layers[i].kind, scripted.layers[i].kind) << i;
    EXPECT_EQ(traced.layers[i].kernel, scripted.layers[i].kernel) << i;
    EXPECT_EQ(traced.layers[i].p, scripted.layers[i].p) << i;
    EXPECT_EQ(traced.layers[i].out.width, scripted.layers[i].out.width) << i;
  }
  EXPECT_EQ(traced.options.alphabet, "ACGT");
}

TEST(ModelFile, AModelOfSeveralLengthsTakesTheDataLength) {
  // traced_conv1d accepts 58 to 60 bases and names none: the data's length decides.
  const auto path = fixture_model("traced_conv1d");
  auto stack = load_model_file(path, {}, DataLength{59, "--sequence"});
  EXPECT_EQ(stack.options.input_length, 59);
  std::string message;
  try {
    load_model_file(path, {}, DataLength{61, "--sequence"});
  } catch (const ModelError& e) {
    message = e.what();
  }
  EXPECT_NE(message.find("accepts input lengths 58 to 60, but --sequence has 61 bases"), std::string::npos) << message;
  // An explicit length wins over the data's (the window check then names the mismatch).
  ModelOverrides overrides;
  overrides.input_length = 58;
  EXPECT_EQ(load_model_file(path, overrides, DataLength{60, "--sequence"}).options.input_length, 58);
  // A model of one length keeps it whatever the data (conv1d_small names 60 in its metadata).
  EXPECT_EQ(load_model_file(fixture_model("conv1d_small"), {}, DataLength{59, "x"}).options.input_length, 60);
}

TEST(ModelFile, LiveInputPositionsExcludeColumnsThatArePooledAway) {
  auto stack = load_model_file(fixture_model("kipoi_conv2d"));
  // 120 -> 113 (conv) -> 28 (pool: column 112 dropped) -> 21 -> 5 (pool: 20 dropped): inputs 115..119 are dead.
  EXPECT_EQ(stack.live_input_positions(), (std::pair<int, int>{0, 114}));
}

TEST(ModelFile, ForwardMacsOfTheKipoiFixture) {
  auto stack = load_model_file(fixture_model("kipoi_conv2d"));
  const double expected = 113.0 * 6 * 4 * 8 + 21.0 * 8 * 6 * 8 + 3.0 * 10 * 8 * 3 + 12.0 * 30 + 7.0 * 12;
  EXPECT_DOUBLE_EQ(stack.forward_macs(), expected);
}

// A model the layer-stack reader does not take (another layer type, not an nn.Sequential) is read
// as a graph (docs/models.md, "Graphs"); the graph reader's refusal is then the error.
TEST(ModelFile, ModelsThatAreNotLayerStacksAreReadAsGraphs) {
  ModelOverrides overrides;
  overrides.input_length = 10;
  const auto gelu = load_model_file(fixture_model("unsupported_layer"), overrides);
  EXPECT_TRUE(gelu.is_graph());
  EXPECT_TRUE(gelu.layers.empty());
  EXPECT_EQ(gelu.source, fixture_model("unsupported_layer"));
  EXPECT_EQ(gelu.options.input_length, 10);
  // Without a length of its own the graph needs one.
  EXPECT_NE(model_error(fixture_model("unsupported_layer")).find("give --input-length"), std::string::npos);
  auto message = model_error(fixture_model("two_branches"), overrides);
  EXPECT_NE(message.find("unsupported op aten::sum"), std::string::npos) << message;
  // A Sequential of the supported layers with the wrong input is still refused as a layer stack.
  message = model_error(fixture_model("six_channels"));
  EXPECT_NE(message.find("takes 6 input channels; one-hot DNA has 4"), std::string::npos) << message;
  EXPECT_FALSE(load_model_file(fixture_model("conv1d_small")).is_graph());
}

TEST(ModelFile, WrongInputLengthNamesTheLayer) {
  ModelOverrides overrides;
  overrides.input_length = 200;
  auto message = model_error(fixture_model("kipoi_conv2d"), overrides);
  EXPECT_NE(message.find("net.12"), std::string::npos) << message;
  EXPECT_NE(message.find("expects 30 input features"), std::string::npos) << message;
}

TEST(ModelFile, MissingAndNonTorchScriptFiles) {
  EXPECT_NE(model_error("/nonexistent/model.pt").find("cannot read the model file"), std::string::npos);
  test::TempDir dir;
  test::write_text(dir.file("model.pt"), "this is not a zip archive\n");
  auto message = model_error(dir.file("model.pt"));
  EXPECT_NE(message.find("not a TorchScript model file"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

// Found by the model fuzz harness: a damaged code entry makes LibTorch's TorchScript compiler throw
// a std::runtime_error, not a c10::Error; it left load_model_file as an internal error (exit 1).
TEST(ModelFile, DamagedCodeEntryIsAModelError) {
  test::TempDir dir;
  test::write_text(dir.file("damage.py"),
                   "import sys, zipfile\n"
                   "src, out = zipfile.ZipFile(sys.argv[1]), zipfile.ZipFile(sys.argv[2], 'w')\n"
                   "for item in src.infolist():\n"
                   "    data = src.read(item)\n"
                   "    if item.filename.endswith('code/__torch__/torch/nn/modules/dropout.py'):\n"
                   "        data = data.replace(b'self.training', b'self.training,, ')\n"
                   "    out.writestr(item, data)\n"
                   "out.close()\n");
  const std::string damaged = dir.file("damaged.pt");
  ASSERT_EQ(test::run(test::python() + " " + test::quote(dir.file("damage.py")) + " " +
                      test::quote(fixture_model("conv1d_small")) + " " + test::quote(damaged))
                .status,
            0);
  const auto message = model_error(damaged);
  EXPECT_NE(message.find(damaged + ": not a TorchScript model file (expected ident but found ','"), std::string::npos)
      << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

// Found by the model fuzz harness: on this archive LibTorch's importer reads memory it never wrote.
// Depending on the heap's layout it dies of SIGSEGV (always under ASan), throws without text, or
// throws a made-up reason ("is an Atom"). Read in a child process first, it is a model error every
// time, and this process never reads a file the child refused (it crashed here once, under ctest).
TEST(ModelFile, ArchiveThatCrashesTheImporterIsAModelError) {
  const auto file = test::source_dir() + "/tests/fuzz/corpus/model/regress_libtorch_parse_class_constant_segv";
  const auto message = model_error(file);
  const bool crashed = message.find(file + ": LibTorch crashed reading the model file with SIG") != std::string::npos;
  const bool refused = message.find(file + ": not a TorchScript model file (") != std::string::npos;
  EXPECT_TRUE(crashed || refused) << message;
  EXPECT_EQ(message.find("()"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

// Found by the model fuzz harness: LibTorch loads a tensor whose data entry is shorter than its
// storage, and reading its weights ran past the buffer (a heap overflow under ASan).
TEST(ModelFile, TensorWithTooFewBytesIsAModelError) {
  test::TempDir dir;
  test::write_text(dir.file("cut.py"),
                   "import sys, zipfile\n"
                   "src, out = zipfile.ZipFile(sys.argv[1]), zipfile.ZipFile(sys.argv[2], 'w')\n"
                   "for item in src.infolist():\n"
                   "    data = src.read(item)\n"
                   "    if item.filename.endswith('/data/1'):\n"
                   "        data = data[:100]\n"
                   "    out.writestr(item, data)\n"
                   "out.close()\n");
  const std::string cut = dir.file("cut.pt");
  ASSERT_EQ(test::run(test::python() + " " + test::quote(dir.file("cut.py")) + " " +
                      test::quote(fixture_model("conv1d_small")) + " " + test::quote(cut))
                .status,
            0);
  const auto message = model_error(cut);
  EXPECT_NE(message.find(cut + ": tensor '"), std::string::npos) << message;
  EXPECT_NE(message.find("bytes of data but the file holds 100; the file is damaged"), std::string::npos) << message;
  // The allocator is LibTorch's own again: a good file still loads.
  EXPECT_NO_THROW(load_model_file(fixture_model("conv1d_small")));
}

TEST(ModelFile, BadAlphabetOverrideIsRefused) {
  ModelOverrides overrides;
  overrides.alphabet = "ACGU";
  EXPECT_NE(model_error(fixture_model("conv1d_small"), overrides).find("alphabet 'ACGU'"), std::string::npos);
}


}  // namespace
}  // namespace deepmr::model
