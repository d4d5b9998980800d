#pragma once
// The BGP speaker: owns one session per configured peer (two while a connection
// collision is being resolved) and the RIB. VIPs that are up are locally originated
// routes; received routes pass import policy into the RIB; each peer is sent what the
// RIB's export says changed.
#include <functional>
#include <map>
#include <memory>
#include <set>

#include "bfd/service.hpp"
#include "bgp/session.hpp"
#include "bgp/vip_routes.hpp"
#include "core/memory.hpp"
#include "rib/rib.hpp"
#include "runtime/scoped_posts.hpp"
#include "runtime/scoped_timer.hpp"

namespace anycastd::bgp {

// A route as one side of a session holds it: the attributes (NEXT_HOP unset) and the
// next hop beside them, whatever the family.
struct HeldRoute {
  PathAttributes attrs;
  IpAddress next_hop;
};

class Speaker : private SessionObserver {
 public:
  Speaker(Loop& loop, Transport& transport, SpeakerConfig cfg, uint64_t seed = 1);
  ~Speaker() override;

  // Opens the listener (if configured) and starts every session.
  Status<> start();
  // Withdraws every VIP from every established peer, closes each session with
  // Cease/Administrative Shutdown, and calls done once the messages are queued.
  void shutdown(std::function<void()> done);

  // Announces or withdraws one configured VIP everywhere (health checks drive this).
  void set_vip_up(const Prefix& vip, bool up) {
    set_vip(vip, up ? VipAnnouncement::plain() : VipAnnouncement::withdraw());
  }
  // Announces a VIP with health's additions (degraded, draining), or withdraws it.
  void set_vip(const Prefix& vip, const VipAnnouncement& a);
  bool vip_up(const Prefix& vip) const { return up_vips_.count(vip) > 0; }

  // Reload: the new peers and VIPs. A peer whose settings are unchanged keeps its session
  // untouched; a removed one is closed with Cease/Peer De-configured; a changed one is
  // closed that way and started again; a new one starts. VIPs are re-announced only where
  // their attributes changed. Policies and everything else stay as they are.
  struct Reconfigured {
    std::vector<std::string> added, removed, restarted, vips_changed;
  };
  Reconfigured reconfigure(const std::vector<PeerConfig>& peers,
                           const std::vector<VipConfig>& vips);

  // Reload of policy contents (the names peers refer to stay). A peer whose import policy
  // changed is asked to send its routes again (ROUTE-REFRESH, RFC 2918; a peer without
  // it has its session restarted, as nothing learned before the old policy is kept); one
  // whose export policy changed is sent the difference. Returns the peers affected.
  std::vector<std::string> update_policies(const std::map<std::string, policy::Policy>& next);

  State peer_state(size_t i) const;
  // What `anycastctl show peers` prints: since when the state holds, why it last went down.
  struct PeerInfo {
    State state = State::idle;
    TimePoint since{};  // of the last Established, or of the last drop
    std::string last_error;
    size_t accepted = 0;    // routes received that passed import policy
    size_t advertised = 0;  // routes in its Adj-RIB-Out
    uint64_t updates_in = 0, updates_out = 0, established_count = 0;
    // Idle after errors: when it tries again; the neighbour is refused until then.
    std::optional<TimePoint> retry_at;
    uint32_t failures = 0;              // consecutive session errors, which set the wait
    const bfd::Session* bfd = nullptr;  // with `bfd:`, while its socket is open
    std::string bfd_error;
    // Once the peer's OPEN is in: the hold time it offered, and the one in force (the smaller
    // of both; keepalives every third of it). Azure Route Server's answer shows here.
    std::optional<uint16_t> peer_hold_time, hold_time;
  };
  PeerInfo peer_info(size_t i) const;
  // Routes from peer i that passed its import policy (its post-policy Adj-RIB-In).
  std::map<Prefix, HeldRoute> received(size_t i) const;
  // What peer i has been sent and not withdrawn (its Adj-RIB-Out); empty while it is down.
  std::map<Prefix, HeldRoute> advertised(size_t i) const;
  const rib::Rib& rib() const { return rib_; }
  // Told of every Loc-RIB change (the kernel FIB listens here).
  void on_route_change(std::function<void(const Prefix&, const rib::Entry*)> f) {
    rib_.on_change = std::move(f);
  }
  size_t peer_count() const { return peers_.size(); }
  const SpeakerConfig& config() const { return cfg_; }

  // Called after a peer's UPDATE is applied; tests and the control API listen here.
  std::function<void(size_t peer, const Update&)> on_update;
  std::function<void(size_t peer, State)> on_peer_state;
  // Run once bulk work has gone quiet (see note_bulk); replaceable so tests can count it.
  std::function<void()> release_memory = release_free_memory;

 private:
  struct Peer {
    explicit Peer(Loop& loop) : mrai(loop), max_prefix_restart(loop) {}
    PeerConfig cfg;
    std::unique_ptr<Session> session;
    std::unique_ptr<Session> candidate;  // inbound connection racing `session` (RFC 4271 §6.8)
    rib::PeerId id = 0;
    TimePoint last_flush{};
    // Both die with the peer: a reload that drops it cannot leave them to run on it.
    ScopedTimer mrai;                // a batch waiting for the MRAI
    ScopedTimer max_prefix_restart;  // the session's restart after a max-prefix teardown
    TimePoint since{};
    std::string last_error;
    std::string stop_reason;  // why we closed it, when the session would only say "stopped"
    uint64_t updates_in = 0, updates_out = 0, established_count = 0;
    bool local_pref_noted = false;              // this session's ignored LOCAL_PREF was logged
    std::unique_ptr<bfd::Service::Handle> bfd;  // with `bfd:`; dies with the peer
    std::string bfd_error;                      // why it could not start
  };

  void on_open_received(Session& s) override;
  void on_up(Session& s) override;
  void on_down(Session& s, const std::string& reason) override;
  void on_message(Session& s, const Message& m) override;

  void accept(std::unique_ptr<Stream> stream);
  Peer* find(const Session& s);
  std::optional<size_t> index_of(const Peer& p) const;
  // Sends peer p what the RIB has for it, now or after its MRAI.
  void flush(Peer& p);
  void flush_now(Peer& p);
  void flush_all();
  // After every message already read has been handled: one export for a burst of UPDATEs
  // rather than one per UPDATE.
  void flush_soon();
  // Bulk work (routes received, sent or dropped) frees much in small pieces; once it has
  // been quiet for a second, the free pages go back to the system.
  void note_bulk(size_t routes);
  void trim_when_quiet(Duration after);
  void on_limit(Peer& p, rib::Accepted a);
  bool is_vip(const Prefix& p) const;
  std::unique_ptr<Session> make_session(const PeerConfig& pc);
  std::unique_ptr<Peer> make_peer(const PeerConfig& pc);
  void drop_peer(Peer& p);
  void start_bfd(Peer& p);
  void on_bfd(Peer& p, const bfd::Transition& t);
  void bury(std::unique_ptr<Session> s);

  Loop& loop_;
  Transport& transport_;
  SpeakerConfig cfg_;
  uint64_t seed_;
  FsmConfig base_fsm_;
  rib::Rib rib_;
  // Before peers_: the peers' BFD handles refer to it and die first.
  std::unique_ptr<bfd::Service> bfd_;
  std::vector<std::unique_ptr<Peer>> peers_;
  std::unique_ptr<Listener> listener_;
  // The TCP-MD5 keys installed on the listener, by peer address: what a reload must change.
  std::map<IpAddress, std::string> listener_keys_;
  bool listener_gtsm_ = false;  // the listener answers with TTL 255
  void sync_listener();         // keys and TTL, to the current peers
  std::map<Prefix, VipAnnouncement> up_vips_;
  std::vector<std::unique_ptr<Session>> graveyard_;
  bool shutting_down_ = false;
  size_t bulk_routes_ = 0;
  TimePoint last_bulk_{}, bulk_since_{};
  // Declared last: destroyed first, before anything their callbacks touch.
  ScopedTimer flush_soon_{loop_};
  ScopedTimer trim_{loop_};
  ScopedTimer graveyard_timer_{loop_};
  ScopedPosts posts_{loop_};  // shutdown's done: never called once the speaker is gone
};

}  // namespace anycastd::bgp
