#pragma once
// Fixed-width binary encoding of plain values, strings and arrays (host byte order): journal
// records and MPI messages.

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "deepmr/common/error.hpp"

namespace deepmr {

class ByteWriter {
 public:
  template <typename T>
  void put(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    bytes_.append(reinterpret_cast<const char*>(&value), sizeof value);
  }
  void put_string(const std::string& s) {
    put(static_cast<std::uint32_t>(s.size()));
    bytes_ += s;
  }
  template <typename T>
  void put_array(const std::vector<T>& values) {
    static_assert(std::is_trivially_copyable_v<T>);
    put(static_cast<std::uint32_t>(values.size()));
    bytes_.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
  }
  const std::string& bytes() const { return bytes_; }
  std::string take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

// Throws `Failure` (constructed from a message) when the bytes run out.
template <typename Failure = InternalError>
class ByteReader {
 public:
  explicit ByteReader(const std::string& bytes, std::string what = "message") : bytes_(bytes), what_(std::move(what)) {}
  template <typename T>
  T get() {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    need(sizeof value);
    std::memcpy(&value, bytes_.data() + at_, sizeof value);
    at_ += sizeof value;
    return value;
  }
  std::string get_string() {
    const auto size = get<std::uint32_t>();
    need(size);
    std::string s = bytes_.substr(at_, size);
    at_ += size;
    return s;
  }
  template <typename T>
  std::vector<T> get_array() {
    const auto count = get<std::uint32_t>();
    need(static_cast<std::size_t>(count) * sizeof(T));
    std::vector<T> values(count);
    if (count) std::memcpy(values.data(), bytes_.data() + at_, count * sizeof(T));
    at_ += count * sizeof(T);
    return values;
  }
  // A count of items that take at least `bytes_each` bytes each: checked against what is left, so
  // that a damaged count never makes a reader allocate for items that cannot be there.
  std::uint32_t get_count(std::size_t bytes_each) {
    const auto count = get<std::uint32_t>();
    need(static_cast<std::size_t>(count) * bytes_each);
    return count;
  }
  bool done() const { return at_ == bytes_.size(); }

 private:
  void need(std::size_t size) const {
    if (at_ + size > bytes_.size()) throw Failure(what_ + " is truncated or malformed");
  }
  const std::string& bytes_;
  std::string what_;
  std::size_t at_ = 0;
};

}  // namespace deepmr
