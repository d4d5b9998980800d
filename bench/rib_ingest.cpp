// In-process RIB ingest: a full-table-sized load (1,000,000 IPv4 prefixes, 100,000
// distinct AS paths) through import policy and decision into the Loc-RIB, export to a
// second peer, withdraw-all, and resident memory. It measures the routing core alone;
// the wire-level comparison with BIRD and GoBGP is bench/ingest.
//   bench_rib_ingest [prefixes] [paths]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "core/memory.hpp"
#include "rib/rib.hpp"

using namespace anycastd;
using Clock = std::chrono::steady_clock;

namespace {

long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  return 0;
}

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  const uint32_t prefixes = argc > 1 ? std::atoi(argv[1]) : 1000000;
  const uint32_t paths = argc > 2 ? std::atoi(argv[2]) : 100000;
  long base = rss_kib();
  policy::Policy accept = policy::accept_all();
  rib::Rib r(rib::RibConfig{65010, 1, {}});
  auto in = r.add_peer({*IpAddress::parse("198.18.0.4"), 65515, &accept, &accept});
  auto out = r.add_peer({*IpAddress::parse("198.18.0.5"), 65020, &accept, &accept});
  r.peer_up(out, 5, IpAddress::parse("198.18.0.1"), std::nullopt, true, false);

  auto t = Clock::now();
  for (uint32_t i = 0; i < prefixes; ++i) {
    bgp::PathAttributes a;
    a.origin = bgp::kOriginIgp;
    a.next_hop = IpAddress::v4(0xC6120004);
    uint32_t k = i % paths;
    bgp::AsPath p;
    p.segments.push_back(
        {bgp::kAsSequence, {65515, 64512 + k % 400, 4200000000u + k, 13335 + k % 7}});
    a.as_path = std::move(p);
    if (k % 3 == 0) a.communities = {(65515u << 16) | (k % 100)};
    // Spread across 1.0.0.0-223.255.255.0 as /24s, as a real table is mostly /24s.
    r.announce(in, Prefix(IpAddress::v4(0x01000000u + i * 256u), 24), std::move(a));
  }
  double ingest = since(t);
  long rss_in = rss_kib();
  size_t interned = r.attr_store().size();
  t = Clock::now();
  auto o = r.take_outbound(out);
  double exp = since(t);
  // As in the daemon, the batch is encoded and sent, then freed.
  size_t exported = o.size(), groups = o.announce.size();
  o = {};
  release_free_memory();  // as the daemon does once bulk work has gone quiet
  long rss_out = rss_kib();
  t = Clock::now();
  r.peer_down(in);
  auto w = r.take_outbound(out);
  double wd = since(t);
  std::printf(
      "prefixes %u, distinct paths %u (interned attribute sets %zu)\n"
      "ingest into Loc-RIB: %.3f s (%.2f M prefixes/s)\n"
      "export to a second peer: %.3f s (%zu prefixes in %zu attribute groups)\n"
      "session loss, withdraw all: %.3f s (%zu withdrawals)\n"
      "resident memory after ingest: %.1f MiB (%.0f bytes per prefix)\n"
      "resident memory after export: %.1f MiB (%.0f bytes per prefix)\n",
      prefixes, paths, interned, ingest, prefixes / ingest / 1e6, exp, exported, groups, wd,
      w.withdraw.size(), (rss_in - base) / 1024.0, (rss_in - base) * 1024.0 / prefixes,
      (rss_out - base) / 1024.0, (rss_out - base) * 1024.0 / prefixes);
  return 0;
}
