#pragma once
// Hashing for the value types used as keys of the routing tables.
#include <cstddef>
#include <cstdint>
#include <functional>

#include "core/ip.hpp"

namespace anycastd {

inline size_t hash_mix(size_t seed, uint64_t v) {
  // splitmix64 finaliser: cheap and spreads the low-entropy words of addresses well.
  v += 0x9e3779b97f4a7c15ULL + seed;
  v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9ULL;
  v = (v ^ (v >> 27)) * 0x94d049bb133111ebULL;
  return static_cast<size_t>(v ^ (v >> 31));
}

inline size_t hash_bytes(size_t seed, const uint8_t* p, size_t n) {
  uint64_t word = 0;
  size_t shift = 0;
  for (size_t i = 0; i < n; ++i) {
    word |= uint64_t{p[i]} << shift;
    shift += 8;
    if (shift == 64) {
      seed = hash_mix(seed, word);
      word = 0;
      shift = 0;
    }
  }
  return shift ? hash_mix(seed, word) : seed;
}

}  // namespace anycastd

template <>
struct std::hash<anycastd::IpAddress> {
  size_t operator()(const anycastd::IpAddress& a) const noexcept {
    return anycastd::hash_bytes(static_cast<size_t>(a.family()), a.raw().data(), a.byte_size());
  }
};

template <>
struct std::hash<anycastd::Prefix> {
  size_t operator()(const anycastd::Prefix& p) const noexcept {
    return anycastd::hash_mix(std::hash<anycastd::IpAddress>{}(p.address()), p.length());
  }
};
