#include "proxy/balancer.hpp"

#include "core/hash.hpp"
#include "proxy/maglev.hpp"

namespace anycastd::proxy {

uint64_t flow_hash(const FlowKey& k, HashOn on) {
  uint64_t h = std::hash<IpAddress>{}(k.src);
  if (on == HashOn::client) return h;
  h = hash_mix(h, (uint64_t{k.src_port} << 24) | (uint64_t{k.dst_port} << 8) | k.protocol);
  return hash_mix(h, std::hash<IpAddress>{}(k.dst));
}

namespace {

bool usable(const BackendView& b) {
  return b.healthy && b.weight > 0;
}

// nginx's smooth weighted round robin: every pick adds each backend's weight to its
// score and serves the highest, which then pays back the total. Weights 5,1,1 give
// a a b a c a a rather than a a a a a b c.
class RoundRobin final : public Balancer {
 public:
  explicit RoundRobin(std::span<const BackendView> b) { update(b, nullptr); }
  std::optional<uint32_t> pick(const FlowKey&) override {
    int64_t total = 0;
    std::optional<uint32_t> best;
    for (uint32_t i = 0; i < weight_.size(); ++i) {
      if (weight_[i] == 0) continue;
      score_[i] += weight_[i];
      total += weight_[i];
      if (!best || score_[i] > score_[*best]) best = i;
    }
    if (best) score_[*best] -= total;
    return best;
  }
  void update(std::span<const BackendView> b, std::shared_ptr<const MaglevTable>) override {
    weight_.assign(b.size(), 0);
    score_.assign(b.size(), 0);  // a fresh cycle, so a returning backend is not owed turns
    for (uint32_t i = 0; i < b.size(); ++i)
      if (usable(b[i])) weight_[i] = b[i].weight;
  }

 private:
  std::vector<int64_t> weight_, score_;
};

// Fewest open connections per unit of weight; ties go round the list from where the last
// pick stopped, so an idle service still spreads its first connections.
class LeastConn final : public Balancer {
 public:
  LeastConn(std::span<const BackendView> b, OpenConnections open) : open_(std::move(open)) {
    update(b, nullptr);
  }
  std::optional<uint32_t> pick(const FlowKey&) override {
    std::optional<uint32_t> best;
    uint64_t best_open = 0;
    const auto n = static_cast<uint32_t>(weight_.size());
    for (uint32_t step = 0; step < n; ++step) {
      uint32_t i = (cursor_ + step) % n;
      if (weight_[i] == 0) continue;
      uint64_t o = open_ ? open_(i) : active_[i];
      if (!best || o * weight_[*best] < best_open * weight_[i]) {
        best = i;
        best_open = o;
      }
    }
    if (best) cursor_ = (*best + 1) % n;
    return best;
  }
  void update(std::span<const BackendView> b, std::shared_ptr<const MaglevTable>) override {
    weight_.assign(b.size(), 0);
    active_.resize(b.size(), 0);  // open connections stay counted across health changes
    for (uint32_t i = 0; i < b.size(); ++i)
      if (usable(b[i])) weight_[i] = b[i].weight;
  }
  // Counted here only without shared counts to read.
  void opened(uint32_t i) override {
    if (!open_) ++active_[i];
  }
  void closed(uint32_t i) override {
    if (!open_ && active_[i]) --active_[i];
  }

 private:
  OpenConnections open_;
  std::vector<uint64_t> weight_, active_;
  uint32_t cursor_ = 0;
};

class Maglev final : public Balancer {
 public:
  Maglev(HashOn on, std::span<const BackendView> b, std::shared_ptr<const MaglevTable> t)
      : on_(on), table_(t ? std::move(t) : std::make_shared<const MaglevTable>(b)) {}
  std::optional<uint32_t> pick(const FlowKey& k) override {
    uint32_t i = table_->lookup(flow_hash(k, on_));
    if (i == MaglevTable::kNone) return std::nullopt;
    return i;
  }
  void update(std::span<const BackendView> b, std::shared_ptr<const MaglevTable> t) override {
    table_ = t ? std::move(t) : std::make_shared<const MaglevTable>(b);
  }

 private:
  HashOn on_;
  std::shared_ptr<const MaglevTable> table_;
};

}  // namespace

std::unique_ptr<Balancer> make_balancer(Balance b, HashOn on, std::span<const BackendView> backends,
                                        std::shared_ptr<const MaglevTable> maglev,
                                        OpenConnections open) {
  switch (b) {
    case Balance::round_robin:
      return std::make_unique<RoundRobin>(backends);
    case Balance::least_conn:
      return std::make_unique<LeastConn>(backends, std::move(open));
    case Balance::maglev:
      return std::make_unique<Maglev>(on, backends, std::move(maglev));
  }
  return nullptr;
}

}  // namespace anycastd::proxy
