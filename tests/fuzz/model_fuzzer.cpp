// Feeds bytes to the model loader (load_model_file) as a model file. Input that starts with "PK"
// (a zip archive, as TorchScript files are) is the whole file as given. Other input replaces one
// entry of a valid TorchScript archive (tests/data/models/conv1d_small.pt): its first byte picks
// the entry (in name order), the rest is the entry's new content, and the archive is written again
// with valid CRCs, so that mutations reach past the archive checks into the pickled module, its
// code and constants, and deepmr's walk of the layers.
//
// LibTorch is not instrumented: coverage guides only through deepmr's code. A crash inside
// LibTorch's own importer is caught by load_model_file's first read in a child process and must
// come back as a ModelError (docs/reliability.md, "Fuzzing").

#include <caffe2/serialize/inline_container.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "deepmr/model/model_file.hpp"
#include "fuzz_support.hpp"

namespace {

struct Entry {
  std::string name;
  std::string bytes;
};

// The entries of the base archive, read once, in name order.
const std::vector<Entry>& base_entries() {
  static const std::vector<Entry> entries = [] {
    caffe2::serialize::PyTorchStreamReader reader(DEEPMR_FUZZ_BASE_MODEL);
    std::vector<std::string> names = reader.getAllRecords();
    std::sort(names.begin(), names.end());
    std::vector<Entry> out;
    for (const auto& name : names) {
      auto [data, size] = reader.getRecord(name);
      out.push_back({name, std::string(static_cast<const char*>(data.get()), size)});
    }
    return out;
  }();
  return entries;
}

void write_archive(const std::string& path, std::size_t replaced, const std::uint8_t* data, std::size_t size) {
  caffe2::serialize::PyTorchStreamWriter writer(path);
  const auto& entries = base_entries();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].name == "version") continue;  // the writer adds it
    if (i == replaced) writer.writeRecord(entries[i].name, data, size);
    else writer.writeRecord(entries[i].name, entries[i].bytes.data(), entries[i].bytes.size());
  }
  writer.writeEndOfFile();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace deepmr;
  std::string path;
  if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
    path = fuzz::write_file("model.pt", data, size);
  } else {
    if (size == 0) return 0;
    path = fuzz::scratch() + "/model.pt";
    write_archive(path, data[0] % base_entries().size(), data + 1, size - 1);
  }
  fuzz::expect_clean([&] { model::load_model_file(path); });
  return 0;
}
