#pragma once
// Adj-RIB-In, Loc-RIB and Adj-RIB-Out for IPv4 and IPv6 unicast, with import and export
// policies. Sans-I/O: the speaker feeds it received routes and asks it, per peer, what to
// send; the RIB never touches a socket or a clock.
//
// Memory: accepted routes live once, as candidate paths in their Loc-RIB entry (that is
// the post-policy Adj-RIB-In); routes an import policy rejects are not kept, as in BIRD
// without `import table`. Attribute sets are interned.
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "core/hash.hpp"
#include "policy/policy.hpp"
#include "rib/decision.hpp"
#include "rib/path_list.hpp"
#include "rib/position_bits.hpp"
#include "rib/prefix_map.hpp"

namespace anycastd::rib {

struct PeerSettings {
  IpAddress address;
  uint32_t asn = 0;
  // nullptr: the RFC 8212 default, which accepts nothing from and exports nothing to an
  // eBGP peer (locally originated routes excepted) and everything on iBGP.
  const policy::Policy* import = nullptr;
  const policy::Policy* export_ = nullptr;
  uint32_t allow_own_as = 0;            // occurrences of our ASN tolerated in a received path
  bool route_reflector_client = false;  // RFC 4456
  bool route_server_client = false;     // RFC 7947: transparent, no own ASN, next hop kept
  uint32_t max_prefix = 0;              // accepted routes; 0 = no limit
  uint8_t max_prefix_warning = 80;      // percent of max_prefix that logs a warning
};

struct RibConfig {
  uint32_t local_as = 0;
  uint32_t router_id = 0;
  DecisionConfig decision;
};

struct Entry {
  PathList paths;  // at most one per peer; flags mark best and multipath
  const Path* best() const;
};

enum class Accepted { yes, rejected_by_policy, rejected_loop, warning_threshold, limit_exceeded };

// What a peer is sent for a prefix: the attribute set it may share with other prefixes,
// and the next hop beside it, since the wire puts that in NEXT_HOP or in MP_REACH_NLRI by
// family. Empty when nothing is sent.
struct Exported {
  Attrs attrs;  // NEXT_HOP unset
  IpAddress next_hop;
  explicit operator bool() const { return attrs != nullptr; }
  bool operator==(const Exported&) const = default;
  // The attributes as the peer reads them, next hop included (show, tests).
  bgp::PathAttributes received() const;
};

// Prefixes sent with one attribute set and next hop: they pack into as few UPDATEs as the
// message size allows.
struct OutGroup {
  Attrs attrs;  // NEXT_HOP unset
  IpAddress next_hop;
  std::vector<Prefix> prefixes;
  bgp::PathAttributes received() const { return Exported{attrs, next_hop}.received(); }
};

// What one peer should be sent: announcements grouped, and withdrawals.
struct Outbound {
  std::vector<OutGroup> announce;
  std::vector<Prefix> withdraw;
  bool empty() const { return announce.empty() && withdraw.empty(); }
  size_t size() const;
};

class Rib {
 public:
  explicit Rib(RibConfig cfg);

  PeerId add_peer(PeerSettings s);  // ids start at 1; kLocal is the RIB itself
  const PeerSettings& peer(PeerId id) const { return peers_.at(id).settings; }

  // The session came up: `router_id` is the peer's BGP identifier, `self_*` the next hops
  // that stand for us on that session (none: routes of that family are not sent), and
  // `v4`/`v6` the families it carries. Its whole table is then pending for export.
  void peer_up(PeerId id, uint32_t router_id, std::optional<IpAddress> self_v4,
               std::optional<IpAddress> self_v6, bool v4, bool v6);
  // The session went down: its routes leave the Loc-RIB, its Adj-RIB-Out is forgotten.
  void peer_down(PeerId id);
  bool is_up(PeerId id) const { return peers_.at(id).up; }

  // A received route; attrs.next_hop holds its next hop whatever the family.
  Accepted announce(PeerId from, const Prefix& prefix, bgp::PathAttributes attrs);
  // The prefixes of one UPDATE, which share their attributes: the checks, the import
  // policy (unless it matches prefixes) and the interning run once for all of them.
  // `each` (optional) hears every prefix's outcome; the result is the most urgent
  // max-prefix outcome (warning_threshold, limit_exceeded), else yes.
  Accepted announce(PeerId from, const std::vector<Prefix>& prefixes, bgp::PathAttributes attrs,
                    const std::function<void(const Prefix&, Accepted)>& each = nullptr);
  void withdraw(PeerId from, const Prefix& prefix);
  // The withdrawn prefixes of one UPDATE (a table's withdrawal comes a thousand at a time):
  // each prefix's index slot and then its entry are loaded a few prefixes ahead.
  void withdraw(PeerId from, const std::vector<Prefix>& prefixes);
  // Locally originated routes (VIPs, a gateway's VNet prefix). An unset next hop means
  // "self" toward every peer.
  void originate(const Prefix& prefix, bgp::PathAttributes attrs);
  void retract(const Prefix& prefix);

  // Everything peer `to` has not been sent yet, and records it as sent.
  Outbound take_outbound(PeerId to);
  bool outbound_pending(PeerId to) const;
  // Route refresh (RFC 2918): the peer's whole table is pending again.
  void refresh(PeerId to);
  // The export policy changed: the whole table is exported again under it, and what the
  // peer holds that it no longer exports is withdrawn. (The attributes last sent are not
  // kept, so unchanged routes are sent again, as BIRD and GoBGP do on a soft reset out.)
  void reexport(PeerId to);

  // Called whenever a prefix's best or multipath set changes (the FIB listens); best is
  // nullptr when the prefix is gone.
  std::function<void(const Prefix&, const Entry*)> on_change;

  // Valid until the RIB next changes: adding a prefix may move every entry.
  const Entry* find(const Prefix& p) const;
  const PrefixMap<Entry>& loc_rib() const { return loc_; }
  // Adj-RIB-Out: what peer `id` holds from us. Only the fact that a prefix was sent is
  // stored (a bit per Loc-RIB entry); its attributes are exported again when asked for.
  size_t advertised_count(PeerId id) const { return peers_.at(id).sent.size(); }
  std::vector<std::pair<Prefix, Exported>> advertised(PeerId id) const;
  size_t accepted_from(PeerId id) const { return peers_.at(id).received.size(); }
  // The routes peer `id` sent us that we keep, in table order; as many steps as routes.
  std::vector<std::pair<Prefix, const Path*>> received_from(PeerId id) const;
  const Neighbour& neighbour(PeerId id) const { return peers_.at(id).neighbour; }
  size_t peer_count() const { return peers_.size() - 1; }
  const AttrStore& attr_store() const { return store_; }
  const RibConfig& config() const { return cfg_; }

  // The attributes `to` would read for `prefix`, next hop included, or nothing (tests).
  std::optional<bgp::PathAttributes> export_for(PeerId to, const Prefix& prefix) const;

 private:
  struct PeerState {
    PeerSettings settings;
    Neighbour neighbour;
    bool up = false;
    bool v4 = false, v6 = false;
    std::optional<IpAddress> self_v4, self_v6;
    // Loc-RIB positions where this peer has a path (its post-policy Adj-RIB-In).
    PositionBits received;
    bool warned = false;
    bool full_export = false;
    uint64_t cursor = 0;  // position in the change log already exported
    // Adj-RIB-Out: the positions whose prefix the peer holds from us; and prefixes it holds
    // that left the Loc-RIB since its last export, to withdraw.
    PositionBits sent;
    std::vector<Prefix> gone;
    uint64_t created_seen = 0;  // created_ at the last export
    bool has(uint32_t pos) const { return sent.has(pos); }
    void mark(uint32_t pos, bool on) { sent.set(pos, on); }
    void forget_all() {
      sent.clear();
      std::vector<Prefix>().swap(gone);
    }
  };

  void put(PeerId from, const Prefix& prefix, Attrs attrs);
  // Why a received route is refused before its import policy runs, if it is.
  std::optional<Accepted> refused(const PeerState& p, const bgp::PathAttributes& attrs) const;
  Accepted limit_check(PeerState& p);
  bool remove(PeerId from, const Prefix& prefix);
  bool remove_at(PeerId from, PrefixMap<Entry>::iterator entry);
  // The best path and multipath set of an entry before a change, to tell whether the
  // change is visible to anyone.
  struct Before {
    PeerId peer = kLocal;
    Attrs attrs;
    std::vector<PeerId> multipath;
  };
  static Before snapshot(const Entry& e);
  void recompute(const Prefix& prefix, uint32_t pos, Entry& e, const Before& before);
  // `for_export`: the best path changed, so peers may need an UPDATE.
  void changed(const Prefix& prefix, uint32_t pos, const Entry* e, bool for_export);
  Exported export_path(const PeerState& to, PeerId to_id, const Prefix& prefix,
                       const Entry& e) const;
  void trim_log();

  RibConfig cfg_;
  // Received and exported attribute sets alike; export runs in const lookups too.
  mutable AttrStore store_;
  std::vector<PeerState> peers_;
  PrefixMap<Entry> loc_;
  uint64_t arrivals_ = 0;
  uint64_t created_ = 0;  // Loc-RIB entries ever created
  // Loc-RIB positions whose best changed, in order; each up peer exports from its cursor on.
  std::vector<uint32_t> log_;
  uint64_t log_base_ = 0;
  size_t peers_up_ = 0;
};

}  // namespace anycastd::rib
