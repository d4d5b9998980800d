#pragma once
// The candidate paths of one prefix. Nearly every prefix of a full table has one path, so
// that one is kept inline (no heap block, no extra cache miss); a second moves them all to
// the heap.
#include <memory>
#include <utility>

#include "rib/path.hpp"

namespace anycastd::rib {

class PathList {
 public:
  PathList() = default;
  PathList(PathList&& o) noexcept { take(std::move(o)); }
  PathList& operator=(PathList&& o) noexcept {
    if (this != &o) take(std::move(o));
    return *this;
  }

  Path* begin() { return size_ <= 1 ? &one_ : heap_.get(); }
  Path* end() { return begin() + size_; }
  const Path* begin() const { return size_ <= 1 ? &one_ : heap_.get(); }
  const Path* end() const { return begin() + size_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  Path& operator[](size_t i) { return begin()[i]; }
  const Path& operator[](size_t i) const { return begin()[i]; }

  void push_back(Path p) {
    if (size_ == 0) {
      one_ = std::move(p);
    } else {
      if (size_ == 1 || size_ == cap_) {
        uint32_t cap = size_ == 1 ? 2 : cap_ * 2;
        auto grown = std::make_unique<Path[]>(cap);
        for (uint32_t i = 0; i < size_; ++i) grown[i] = std::move(begin()[i]);
        heap_ = std::move(grown);
        cap_ = cap;
        one_ = Path{};
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
    if (--size_ == 1) {
      one_ = std::move(heap_[0]);
      heap_.reset();
      cap_ = 0;
    }
    return begin() + pos;
  }

 private:
  void take(PathList&& o) {
    one_ = std::move(o.one_);
    heap_ = std::move(o.heap_);
    size_ = o.size_;
    cap_ = o.cap_;
    o.size_ = o.cap_ = 0;
  }

  Path one_;
  std::unique_ptr<Path[]> heap_;
  uint32_t size_ = 0, cap_ = 0;
};

}  // namespace anycastd::rib
