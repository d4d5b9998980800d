#pragma once
// The candidate paths of one prefix. Nearly every prefix of a full table has one path, so
// that one is kept inline (no heap block, no extra cache miss); a second moves them all to
// the heap. The inline path and the heap pointer share their bytes: 32 bytes in all.
#include <cstdint>
#include <new>
#include <utility>

#include "rib/path.hpp"

namespace anycastd::rib {

class PathList {
 public:
  PathList() { new (&one_) Path(); }
  ~PathList() { release(); }
  PathList(PathList&& o) noexcept {
    new (&one_) Path();
    take(std::move(o));
  }
  PathList& operator=(PathList&& o) noexcept {
    if (this != &o) {
      release();
      new (&one_) Path();
      take(std::move(o));
    }
    return *this;
  }

  Path* begin() { return cap_ ? heap_ : &one_; }
  Path* end() { return begin() + size_; }
  const Path* begin() const { return cap_ ? heap_ : &one_; }
  const Path* end() const { return begin() + size_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  Path& operator[](size_t i) { return begin()[i]; }
  const Path& operator[](size_t i) const { return begin()[i]; }

  void push_back(Path p) {
    if (size_ == 0) {
      one_ = std::move(p);
    } else {
      if (cap_ == 0 || size_ == cap_) {
        uint32_t cap = cap_ == 0 ? 2 : cap_ * 2;
        Path* grown = new Path[cap];
        for (uint32_t i = 0; i < size_; ++i) grown[i] = std::move(begin()[i]);
        release();
        heap_ = grown;
        cap_ = cap;
      }
      heap_[size_] = std::move(p);
    }
    ++size_;
  }

  // Keeps the order of the others; returns the position after the removed path.
  Path* erase(Path* at) {
    auto pos = static_cast<uint32_t>(at - begin());
    for (uint32_t i = pos; i + 1 < size_; ++i) begin()[i] = std::move(begin()[i + 1]);
    begin()[size_ - 1] = Path{};
    if (--size_ == 1 && cap_) {
      Path last = std::move(heap_[0]);
      release();
      new (&one_) Path(std::move(last));
    }
    return begin() + pos;
  }

 private:
  // Ends whichever member is alive; the caller constructs the next one.
  void release() {
    if (cap_) {
      delete[] heap_;
      cap_ = 0;
    } else {
      one_.~Path();
    }
  }
  // Expects `one_` alive and empty; leaves `o` empty with its `one_` alive.
  void take(PathList&& o) {
    if (o.cap_) {
      one_.~Path();
      heap_ = o.heap_;
      cap_ = o.cap_;
      new (&o.one_) Path();
      o.cap_ = 0;
    } else {
      one_ = std::move(o.one_);
      o.one_ = Path{};
    }
    size_ = o.size_;
    o.size_ = 0;
  }

  union {
    Path one_;  // alive while cap_ == 0
    Path* heap_;
  };
  uint32_t size_ = 0;
  uint32_t cap_ = 0;  // 0: the paths (at most one) are inline
};

}  // namespace anycastd::rib
