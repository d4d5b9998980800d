#pragma once
// A set of Loc-RIB positions, a bit each: which prefixes a peer holds from us, or which
// it sent us. Visiting the set costs a word per 64 positions, not a table walk.
#include <bit>
#include <cstdint>
#include <vector>

namespace anycastd::rib {

class PositionBits {
 public:
  bool has(uint32_t pos) const {
    return pos / 64 < words_.size() && ((words_[pos / 64] >> (pos % 64)) & 1);
  }
  // Returns whether the bit changed.
  bool set(uint32_t pos, bool on) {
    if (pos / 64 >= words_.size()) {
      if (!on) return false;
      words_.resize(pos / 64 + 1);
    }
    uint64_t bit = uint64_t{1} << (pos % 64);
    if (((words_[pos / 64] & bit) != 0) == on) return false;
    words_[pos / 64] ^= bit;
    count_ += on ? 1 : size_t(-1);
    return true;
  }
  size_t size() const { return count_; }
  void clear() {
    std::vector<uint64_t>().swap(words_);
    count_ = 0;
  }
  template <typename F>
  void for_each(F&& f) const {
    for (size_t w = 0; w < words_.size(); ++w)
      for (uint64_t bits = words_[w]; bits; bits &= bits - 1)
        f(static_cast<uint32_t>(w * 64 + std::countr_zero(bits)));
  }

 private:
  std::vector<uint64_t> words_;
  size_t count_ = 0;
};

}  // namespace anycastd::rib
