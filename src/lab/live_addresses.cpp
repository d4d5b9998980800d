// The live lab's addresses: every device of the file gets one on loopback (live) or on the
// namespaces' segment (netns), in the order of the file's addresses, and back again.
#include <algorithm>
#include <set>

#include "lab/forwarding.hpp"
#include "lab/live_lab.hpp"
#include "lab/sim_node.hpp"

namespace anycastd::lab {

namespace {

// What `key` maps to, or `key` itself: addresses and prefixes outside the file's devices
// and announcements keep their value.
template <class Map, class Key>
Key mapped_or_same(const Map& m, const Key& key) {
  auto it = m.find(key);
  return it == m.end() ? key : it->second;
}

}  // namespace

void LiveLab::assign_addresses() {
  // Sorted, so that the order of addresses -- which decides "lowest next hop" -- holds on
  // loopback too.
  std::vector<IpAddress> all;
  for (const auto& n : plan_.nodes()) all.push_back(n->address);
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  // Loopback block 127.(100 + port % 100)/16: runs on different ports never share an
  // address, so their backends and proxies (which keep their own ports) cannot collide.
  const uint32_t base =
      netns_ ? (198u << 24) | (18u << 16) : (127u << 24) | ((100u + port_ % 100u) << 16);
  auto nth = [&](size_t i) {
    return IpAddress::v4(base | static_cast<uint32_t>((i / 250) << 8) |
                         static_cast<uint32_t>(i % 250 + 1));
  };
  for (size_t i = 0; i < all.size(); ++i) {
    to_live_[all[i]] = nth(i);
    to_file_[nth(i)] = all[i];
  }
  for (size_t i = 0; i < t_.clients.size(); ++i)
    client_address_[t_.clients[i].name] = nth(all.size() + i);
  if (!netns_) return;
  // Every originated prefix gets a block of 198.19.0.0/16: up to /24 a /24, longer ones
  // their own length, host routes from the top.
  std::set<Prefix> originated;
  for (const auto& n : plan_.nodes()) {
    for (const auto& v : n->speaker_cfg.vips) originated.insert(v.prefix);
    if (n->hub_spec)
      for (const auto& sp : n->hub_spec->spokes) originated.insert(sp.prefix);
  }
  uint32_t block = 0, host = 0;
  for (const auto& p : originated) {
    if (p.family() != Family::v4) continue;
    Prefix live = p.length() == 32
                      ? Prefix(IpAddress::v4((198u << 24) | (19u << 16) | (255u << 8) | ++host), 32)
                      : Prefix(IpAddress::v4((198u << 24) | (19u << 16) | (block++ << 8)),
                               std::max<uint8_t>(p.length(), 24));
    to_live_prefix_[p] = live;
    to_file_prefix_[live] = p;
  }
}

Prefix LiveLab::map(const Prefix& p) const {
  return mapped_or_same(to_live_prefix_, p);
}

Prefix LiveLab::unmap(const Prefix& p) const {
  return mapped_or_same(to_file_prefix_, p);
}

// An address inside an originated prefix keeps its offset inside the mapped block.
IpAddress LiveLab::map_target(const IpAddress& a) const {
  const std::pair<const Prefix, Prefix>* best = nullptr;
  for (const auto& kv : to_live_prefix_)
    if (contains(kv.first, a) && (!best || kv.first.length() > best->first.length())) best = &kv;
  if (!best) return map(a);
  uint32_t size = best->second.length() == 32 ? 1u : (1u << (32 - best->second.length()));
  uint32_t offset = (a.v4_value() - best->first.address().v4_value()) % size;
  return IpAddress::v4(best->second.address().v4_value() + offset);
}

IpAddress LiveLab::map(const IpAddress& a) const {
  return mapped_or_same(to_live_, a);
}

IpAddress LiveLab::unmap(const IpAddress& a) const {
  return mapped_or_same(to_file_, a);
}

// Privileged ports move up by 20000, so live mode needs no root; netns mode has it.
Endpoint LiveLab::map(const Endpoint& e) const {
  if (netns_) return {map(e.address), e.port};
  return {map(e.address), static_cast<uint16_t>(e.port < 1024 ? e.port + 20000 : e.port)};
}

const SimLab::Node* LiveLab::device(const IpAddress& file_address) const {
  for (const auto& n : plan_.nodes())
    if (n->address == file_address) return n.get();
  return nullptr;
}

const SimLab::Node* LiveLab::device_named(const std::string& name) const {
  for (const auto& n : plan_.nodes())
    if (n->name == name) return n.get();
  return nullptr;
}

}  // namespace anycastd::lab
