#pragma once
// Shared by the libFuzzer harnesses (tests/fuzz/*_fuzzer.cpp). Inputs reach the parsers as files,
// the way users' inputs do. An input is handled when the parser returns or refuses it with one of
// deepmr's typed errors carrying one line of text. Anything else (an InternalError, an exception
// that is not a deepmr::Error such as std::bad_alloc, a message spanning lines) would reach the user
// as an internal error or a garbled message: it aborts, and libFuzzer keeps the input as a crash.

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <typeinfo>

#include "deepmr/common/error.hpp"

namespace deepmr::fuzz {

// This process's scratch directory under $TMPDIR (scripts/fuzz points it at /dev/shm), removed at
// exit. Never destroyed: the exit handler that removes it runs after static destructors.
inline const std::string& scratch() {
  static const std::string* dir = [] {
    const auto path = std::filesystem::temp_directory_path() / ("deepmr-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
    auto* name = new std::string(path.string());
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(scratch(), ignored);
    });
    return name;
  }();
  return *dir;
}

inline std::string write_file(const std::string& name, const void* data, std::size_t size) {
  const std::string path = scratch() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) {
    std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
  return path;
}

[[noreturn]] inline void finding(const char* kind, const char* what) {
  std::fprintf(stderr, "fuzz: finding: %s: %s\n", kind, what);
  std::abort();
}

// Runs `parse`; a clean refusal is a deepmr::Error other than InternalError with a one-line message.
template <typename Parse>
void expect_clean(Parse&& parse) {
  try {
    parse();
  } catch (const Error& e) {
    const std::string message = e.what();
    if (e.code() == ExitCode::internal) finding("InternalError", e.what());
    if (message.empty() || message.find('\n') != std::string::npos) finding("message not one line", e.what());
  } catch (const std::exception& e) {
    finding(typeid(e).name(), e.what());
  }
}

}  // namespace deepmr::fuzz
