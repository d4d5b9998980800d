#pragma once
// One BGP connection: the pure FSM driven by a byte stream and the loop's timers. It
// frames and decodes what arrives, performs the FSM's actions, and reports up/down and
// routing messages to its observer.
#include <map>
#include <memory>

#include "bgp/fsm.hpp"
#include "bgp/peer_config.hpp"
#include "runtime/loop.hpp"
#include "runtime/transport.hpp"

namespace anycastd::bgp {

class Session;

class SessionObserver {
 public:
  virtual ~SessionObserver() = default;
  virtual void on_open_received(Session&) {}
  virtual void on_up(Session&) {}
  virtual void on_down(Session&, const std::string& reason) = 0;
  virtual void on_message(Session&, const Message&) {}
};

class Session : private Stream::Handler {
 public:
  Session(Loop& loop, Transport& transport, const PeerConfig& peer, FsmConfig fsm,
          SessionObserver& observer, uint64_t seed = 1);
  ~Session() override;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void start();
  void stop(uint8_t cease_subcode = err::kCeaseAdminShutdown, std::string reason = {});
  // Hands an inbound connection to this session. False if the FSM cannot take it now.
  bool accept(std::unique_ptr<Stream>& stream);  // takes it only on success
  // Sends an encoded UPDATE/ROUTE-REFRESH; only while Established.
  void send_encoded(Bytes message);

  State state() const { return fsm_.state; }
  const FsmState& fsm() const { return fsm_; }
  const FsmConfig& fsm_config() const { return cfg_; }
  const CodecOptions& codec() const { return codec_; }
  const PeerConfig& peer() const { return peer_; }
  bool locally_initiated() const { return outbound_; }
  std::optional<Endpoint> local_endpoint() const;
  const std::string& last_error() const { return last_error_; }
  // Why the connects since the last session have failed; empty once one got through.
  const std::string& connect_error() const { return connect_error_; }
  // While Idle after an error: when the session tries again (and accepts the peer again).
  std::optional<TimePoint> retry_at() const;

 private:
  void on_data(ByteView data) override;
  void on_closed(const std::string& reason) override;
  void handle(Event e);
  void perform(const Action& a);
  void connect();
  void note_unanswered();

 public:
  // The socket settings a peer's configuration asks for: TCP-MD5 key, TTL, GTSM.
  static TcpOptions tcp_options(const PeerConfig& p);

 private:
  Loop& loop_;
  Transport& transport_;
  PeerConfig peer_;
  FsmConfig cfg_;
  SessionObserver& observer_;
  FsmState fsm_;
  CodecOptions codec_;
  std::unique_ptr<Stream> stream_;
  std::shared_ptr<void> connecting_;
  bool outbound_ = false;
  Bytes inbuf_;
  std::map<Timer, TimerId> timers_;
  TimePoint idle_hold_due_{};  // meaningful while timers_ holds Timer::idle_hold
  std::string last_error_;
  std::string connect_error_;
  bool handling_ = false;
  std::vector<Event> pending_;
};

}  // namespace anycastd::bgp
