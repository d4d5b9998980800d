// UPDATE decode and encode throughput, in prefixes per second: one 500-NLRI UPDATE (a
// table transfer) and single-NLRI UPDATEs (churn, VIP flaps).
#include <benchmark/benchmark.h>

#include "wire/packer.hpp"

using namespace anycastd;
using namespace anycastd::bgp;

namespace {

PathAttributes attrs() {
  PathAttributes a;
  a.origin = kOriginIgp;
  a.as_path = AsPath{{{kAsSequence, {65515, 12076, 133937, 4200000001u}}}};
  a.med = 50;
  a.communities = {(65010u << 16) | 100, (65010u << 16) | 200};
  a.large_communities = {{65010, 1, 2}};
  return a;
}

std::vector<Prefix> prefixes(size_t n) {
  std::vector<Prefix> out;
  for (size_t i = 0; i < n; ++i) out.emplace_back(IpAddress::v4(0x0A000000 + uint32_t(i << 8)), 24);
  return out;
}

const IpAddress kNh = IpAddress::v4(0xC6120001);

void BM_Decode500(benchmark::State& st) {
  CodecOptions o;
  auto msg = pack_announce(attrs(), kNh, prefixes(500), o)->at(0);
  for (auto _ : st) benchmark::DoNotOptimize(decode(msg, o));
  st.SetItemsProcessed(st.iterations() * 500);
}

void BM_Decode1(benchmark::State& st) {
  CodecOptions o;
  auto msg = pack_announce(attrs(), kNh, prefixes(1), o)->at(0);
  for (auto _ : st) benchmark::DoNotOptimize(decode(msg, o));
  st.SetItemsProcessed(st.iterations());
}

void BM_Encode500(benchmark::State& st) {
  CodecOptions o;
  auto p = prefixes(500);
  for (auto _ : st) benchmark::DoNotOptimize(pack_announce(attrs(), kNh, p, o));
  st.SetItemsProcessed(st.iterations() * 500);
}

void BM_Encode1(benchmark::State& st) {
  CodecOptions o;
  auto p = prefixes(1);
  auto a = attrs();
  for (auto _ : st) benchmark::DoNotOptimize(pack_announce(a, kNh, p, o));
  st.SetItemsProcessed(st.iterations());
}

}  // namespace

BENCHMARK(BM_Decode500);
BENCHMARK(BM_Decode1);
BENCHMARK(BM_Encode500);
BENCHMARK(BM_Encode1);
BENCHMARK_MAIN();
