#pragma once
// Bounds-checked big-endian readers and writers: every decode goes through these so that
// a short buffer is an error value, never an out-of-bounds read.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace anycastd {

using Bytes = std::vector<std::byte>;
using ByteView = std::span<const std::byte>;

class ByteReader {
 public:
  ByteReader() = default;
  explicit ByteReader(ByteView data) : data_(data) {}

  size_t remaining() const { return data_.size() - pos_; }
  size_t position() const { return pos_; }
  bool empty() const { return remaining() == 0; }

  bool u8(uint8_t& out) {
    if (remaining() < 1) return false;
    out = static_cast<uint8_t>(data_[pos_++]);
    return true;
  }
  bool u16(uint16_t& out) {
    if (remaining() < 2) return false;
    out = static_cast<uint16_t>((get(0) << 8) | get(1));
    pos_ += 2;
    return true;
  }
  bool u32(uint32_t& out) {
    if (remaining() < 4) return false;
    out = (uint32_t{get(0)} << 24) | (uint32_t{get(1)} << 16) | (uint32_t{get(2)} << 8) | get(3);
    pos_ += 4;
    return true;
  }
  // A sub-reader over the next n bytes; advances past them.
  bool sub(size_t n, ByteReader& out) {
    if (remaining() < n) return false;
    out = ByteReader(data_.subspan(pos_, n));
    pos_ += n;
    return true;
  }
  bool view(size_t n, ByteView& out) {
    if (remaining() < n) return false;
    out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  ByteView rest() const { return data_.subspan(pos_); }

 private:
  uint8_t get(size_t i) const { return static_cast<uint8_t>(data_[pos_ + i]); }
  ByteView data_;
  size_t pos_ = 0;
};

class ByteWriter {
 public:
  explicit ByteWriter(Bytes& out) : out_(out) {}
  void u8(uint8_t v) { out_.push_back(std::byte{v}); }
  void u16(uint16_t v) {
    u8(static_cast<uint8_t>(v >> 8));
    u8(static_cast<uint8_t>(v));
  }
  void u32(uint32_t v) {
    u16(static_cast<uint16_t>(v >> 16));
    u16(static_cast<uint16_t>(v));
  }
  void bytes(ByteView v) { out_.insert(out_.end(), v.begin(), v.end()); }
  size_t size() const { return out_.size(); }
  void patch_u8(size_t offset, uint8_t v) { out_[offset] = std::byte{v}; }
  // Overwrites a 16-bit length placeholder written earlier at offset.
  void patch_u16(size_t offset, uint16_t v) {
    out_[offset] = std::byte{static_cast<uint8_t>(v >> 8)};
    out_[offset + 1] = std::byte{static_cast<uint8_t>(v)};
  }

 private:
  Bytes& out_;
};

}  // namespace anycastd
