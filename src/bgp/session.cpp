#include "bgp/session.hpp"

#include "bgp/log.hpp"

namespace anycastd::bgp {

Session::Session(Loop& loop, Transport& transport, const PeerConfig& peer, FsmConfig fsm,
                 SessionObserver& observer, uint64_t seed)
    : loop_(loop), transport_(transport), peer_(peer), cfg_(std::move(fsm)), observer_(observer) {
  fsm_.rng ^= seed * 0x2545F4914F6CDD1Dull + peer.address.v4_value();
  if (fsm_.rng == 0) fsm_.rng = 1;
}

Session::~Session() {
  for (auto& [t, id] : timers_) loop_.cancel(id);
  if (stream_) stream_->close();
}

void Session::start() {
  handle(ev::ManualStart{});
}
void Session::stop(uint8_t subcode, std::string reason) {
  handle(ev::ManualStop{subcode, std::move(reason)});
}

bool Session::accept(std::unique_ptr<Stream>& stream) {
  if (!fsm_.started || (fsm_.state != State::connect && fsm_.state != State::active)) return false;
  connecting_.reset();  // an inbound connection supersedes our own attempt
  if (stream_) stream_->close();
  stream_ = std::move(stream);
  outbound_ = false;
  inbuf_.clear();
  stream_->start(this);
  handle(ev::TcpConnected{});
  return true;
}

void Session::send_encoded(Bytes message) {
  if (stream_ && fsm_.state == State::established) stream_->write(std::move(message));
}

std::optional<Endpoint> Session::local_endpoint() const {
  if (!stream_) return std::nullopt;
  return stream_->local();
}

void Session::handle(Event e) {
  // Actions can raise events (a failed write, a decode error); queue them so one
  // transition finishes before the next starts.
  pending_.push_back(std::move(e));
  if (handling_) return;
  handling_ = true;
  while (!pending_.empty()) {
    Event next = std::move(pending_.front());
    pending_.erase(pending_.begin());
    State before = fsm_.state;
    auto t = step(std::move(fsm_), cfg_, std::move(next), loop_.now());
    fsm_ = std::move(t.next);
    if (fsm_.peer_open && before == State::open_sent)
      codec_ = negotiated_options(cfg_, *fsm_.peer_open);
    for (const auto& a : t.actions) perform(a);
    if (before != fsm_.state) {
      log().debug("peer {}: {} -> {}", peer_.name(), to_string(before), to_string(fsm_.state));
      if (fsm_.state == State::open_confirm) observer_.on_open_received(*this);
    }
  }
  handling_ = false;
}

void Session::perform(const Action& a) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, act::Connect>) {
          connect();
        } else if constexpr (std::is_same_v<T, act::Send>) {
          if (stream_) stream_->write(encode(x.message, codec_));
          if (auto* n = std::get_if<Notification>(&x.message))
            log().warn("peer {}: sent NOTIFICATION {}", peer_.name(), n->to_string());
        } else if constexpr (std::is_same_v<T, act::ArmTimer>) {
          if (auto it = timers_.find(x.timer); it != timers_.end()) loop_.cancel(it->second);
          Timer which = x.timer;
          if (which == Timer::idle_hold) idle_hold_due_ = loop_.now() + x.after;
          timers_[which] = loop_.schedule(x.after, [this, which] {
            timers_.erase(which);
            handle(ev::TimerExpired{which});
          });
        } else if constexpr (std::is_same_v<T, act::CancelTimer>) {
          if (auto it = timers_.find(x.timer); it != timers_.end()) {
            loop_.cancel(it->second);
            timers_.erase(it);
          }
        } else if constexpr (std::is_same_v<T, act::CloseConnection>) {
          // A connect still pending when the retry timer fires had no answer at all: with
          // TCP-MD5 that is what a key mismatch looks like, as the peer's kernel drops
          // the SYN silently; with GTSM, a peer too many hops away.
          if (connecting_) note_unanswered();
          connecting_.reset();
          if (stream_) stream_->close();
          stream_.reset();
          inbuf_.clear();
          codec_ = CodecOptions{};
        } else if constexpr (std::is_same_v<T, act::SessionUp>) {
          connect_error_.clear();
          log().info("peer {}: session established (hold time {}s, {})", peer_.name(),
                     fsm_.hold_time, outbound_ ? "outbound" : "inbound");
          observer_.on_up(*this);
        } else if constexpr (std::is_same_v<T, act::SessionDown>) {
          last_error_ = x.reason;
          log().warn("peer {}: session down: {}", peer_.name(), x.reason);
          observer_.on_down(*this, x.reason);
        } else if constexpr (std::is_same_v<T, act::Deliver>) {
          observer_.on_message(*this, x.message);
        }
      },
      a);
}

std::optional<TimePoint> Session::retry_at() const {
  if (!timers_.count(Timer::idle_hold)) return std::nullopt;
  return idle_hold_due_;
}

TcpOptions Session::tcp_options(const PeerConfig& p) {
  TcpOptions o;
  o.md5_key = p.password;
  if (p.ttl_security) {
    o.ttl = 255;
    o.min_ttl = 254;
  } else if (p.multihop) {
    o.ttl = p.multihop;
  }
  return o;
}

void Session::note_unanswered() {
  // GTSM drops the same way: a SYN or SYN-ACK that crossed a router arrives below 254.
  std::string why = "connect: no answer";
  if (!peer_.password.empty()) why = "no answer: check TCP-MD5 passwords on both sides";
  if (peer_.ttl_security)
    why = "no answer: with ttl-security the peer must be directly connected and use GTSM too";
  if (!peer_.password.empty() && peer_.ttl_security)
    why =
        "no answer: check TCP-MD5 passwords, and that the peer is directly connected and uses "
        "GTSM too (ttl-security)";
  if (why != last_error_) log().warn("peer {}: {}", peer_.name(), why);
  last_error_ = connect_error_ = why;
}

void Session::connect() {
  outbound_ = true;
  Endpoint remote{peer_.address, peer_.port};
  connecting_ =
      transport_.connect(peer_.local_address, remote, tcp_options(peer_),
                         [this](Result<std::unique_ptr<Stream>, std::string> r) {
                           connecting_.reset();
                           if (!r) {
                             last_error_ = connect_error_ = "connect: " + r.error();
                             log().debug("peer {}: connect failed: {}", peer_.name(), r.error());
                             handle(ev::TcpFailed{r.error()});
                             return;
                           }
                           connect_error_.clear();
                           if (stream_) stream_->close();
                           stream_ = std::move(r).value();
                           outbound_ = true;
                           inbuf_.clear();
                           stream_->start(this);
                           handle(ev::TcpConnected{});
                         });
}

void Session::on_data(ByteView data) {
  inbuf_.insert(inbuf_.end(), data.begin(), data.end());
  size_t off = 0;
  while (stream_) {
    ByteView rest(inbuf_.data() + off, inbuf_.size() - off);
    auto len = frame_length(rest, codec_);
    if (!len) {
      handle(ev::DecodeFailed{len.error()});
      return;
    }
    if (!*len || rest.size() < **len) break;
    auto msg = decode(rest.first(**len), codec_);
    off += **len;
    if (!msg) {
      log().warn("peer {}: malformed message: {}", peer_.name(), msg.error().reason);
      handle(ev::DecodeFailed{msg.error()});
      return;
    }
    handle(ev::Received{std::move(msg).value()});
  }
  if (stream_) inbuf_.erase(inbuf_.begin(), inbuf_.begin() + static_cast<ptrdiff_t>(off));
}

void Session::on_closed(const std::string& reason) {
  stream_.reset();
  inbuf_.clear();
  handle(ev::TcpFailed{reason});
}

}  // namespace anycastd::bgp
