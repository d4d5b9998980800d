#include "bgp/fsm.hpp"

#include <gtest/gtest.h>

using namespace anycastd;
using namespace anycastd::bgp;
using namespace std::chrono_literals;

namespace {

FsmConfig config(bool passive = false) {
  FsmConfig c;
  c.local_as = 65010;
  c.bgp_id = 0xC6120001;
  c.peer_as = 65515;
  c.hold_time = 9;
  c.passive = passive;
  return c;
}

Open peer_open(uint16_t hold = 90, uint32_t asn = 65515, uint32_t id = 0xC6120002) {
  Open o;
  o.my_as = static_cast<uint16_t>(asn > 0xFFFF ? kAsTrans : asn);
  o.caps.four_octet_as = asn;
  o.hold_time = hold;
  o.bgp_id = id;
  return o;
}

template <typename T>
const T* find(const std::vector<Action>& actions) {
  for (const auto& a : actions)
    if (auto* x = std::get_if<T>(&a)) return x;
  return nullptr;
}

const act::ArmTimer* armed(const std::vector<Action>& actions, Timer t) {
  for (const auto& a : actions)
    if (auto* x = std::get_if<act::ArmTimer>(&a); x && x->timer == t) return x;
  return nullptr;
}

const Notification* sent_notification(const std::vector<Action>& actions) {
  for (const auto& a : actions)
    if (auto* s = std::get_if<act::Send>(&a))
      if (auto* n = std::get_if<Notification>(&s->message)) return n;
  return nullptr;
}

struct Driver {
  explicit Driver(FsmConfig c) : cfg(std::move(c)) {}
  FsmConfig cfg;
  FsmState s;
  std::vector<Action> last;
  TimePoint now{};
  Driver& operator()(const Event& e) {
    auto t = step(s, cfg, e, now);
    s = t.next;
    last = t.actions;
    return *this;
  }
  void establish(const Open& o = peer_open()) {
    (*this)(ev::ManualStart{});
    (*this)(ev::TcpConnected{});
    (*this)(ev::Received{o});
    (*this)(ev::Received{Keepalive{}});
  }
};

}  // namespace

TEST(Fsm, ActiveStartConnectsAndArmsConnectRetryWithJitter) {
  Driver d{config()};
  d(ev::ManualStart{});
  EXPECT_EQ(d.s.state, State::connect);
  EXPECT_TRUE(find<act::Connect>(d.last));
  auto* t = armed(d.last, Timer::connect_retry);
  ASSERT_TRUE(t);
  EXPECT_GE(t->after, 5s * 3 / 4);
  EXPECT_LE(t->after, 5s);
}

TEST(Fsm, PassiveStartWaitsInActiveWithoutConnecting) {
  Driver d{config(true)};
  d(ev::ManualStart{});
  EXPECT_EQ(d.s.state, State::active);
  EXPECT_FALSE(find<act::Connect>(d.last));
}

TEST(Fsm, FullHandshakeToEstablished) {
  Driver d{config()};
  d(ev::ManualStart{})(ev::TcpConnected{});
  EXPECT_EQ(d.s.state, State::open_sent);
  auto* s = find<act::Send>(d.last);
  ASSERT_TRUE(s);
  const auto& o = std::get<Open>(s->message);
  EXPECT_EQ(o.my_as, 65010);
  EXPECT_EQ(o.hold_time, 9);
  EXPECT_EQ(o.caps.four_octet_as, 65010u);
  EXPECT_EQ(armed(d.last, Timer::hold)->after, 240s);

  d(ev::Received{peer_open(90)});
  EXPECT_EQ(d.s.state, State::open_confirm);
  EXPECT_EQ(d.s.hold_time, 9);  // the smaller of 9 and 90
  EXPECT_EQ(armed(d.last, Timer::keepalive)->after, 3s);
  EXPECT_EQ(armed(d.last, Timer::hold)->after, 9s);

  d(ev::Received{Keepalive{}});
  EXPECT_EQ(d.s.state, State::established);
  EXPECT_TRUE(find<act::SessionUp>(d.last));
}

TEST(Fsm, ZeroHoldTimeMeansNoKeepalivesAndNoHoldTimer) {
  Driver d{config()};
  d.establish(peer_open(0));
  EXPECT_EQ(d.s.hold_time, 0);
  d(ev::Received{Keepalive{}});
  EXPECT_FALSE(armed(d.last, Timer::hold));
  d(ev::TimerExpired{Timer::keepalive});
  EXPECT_FALSE(find<act::Send>(d.last));
}

TEST(Fsm, KeepaliveTimerSendsKeepaliveAndRearms) {
  Driver d{config()};
  d.establish();
  d(ev::TimerExpired{Timer::keepalive});
  auto* s = find<act::Send>(d.last);
  ASSERT_TRUE(s);
  EXPECT_TRUE(std::holds_alternative<Keepalive>(s->message));
  EXPECT_EQ(armed(d.last, Timer::keepalive)->after, 3s);
}

TEST(Fsm, UpdateRestartsHoldTimerAndIsDelivered) {
  Driver d{config()};
  d.establish();
  d(ev::Received{Update{}});
  EXPECT_TRUE(find<act::Deliver>(d.last));
  EXPECT_EQ(armed(d.last, Timer::hold)->after, 9s);
}

TEST(Fsm, HoldTimerExpirySendsNotificationAndGoesIdleWithRestart) {
  Driver d{config()};
  d.establish();
  d(ev::TimerExpired{Timer::hold});
  EXPECT_EQ(d.s.state, State::idle);
  ASSERT_TRUE(sent_notification(d.last));
  EXPECT_EQ(sent_notification(d.last)->code, err::kHoldTimerExpired);
  EXPECT_TRUE(find<act::SessionDown>(d.last));
  EXPECT_TRUE(armed(d.last, Timer::idle_hold));
}

struct OpenCase {
  const char* name;
  Open open;
  uint8_t subcode;
};

// The case's name in test listings, not its bytes (which hold pointers).
void PrintTo(const OpenCase& c, std::ostream* os) {
  *os << c.name;
}

class OpenRejected : public ::testing::TestWithParam<OpenCase> {};

TEST_P(OpenRejected, WithTheRfcSubcode) {
  Driver d{config()};
  d(ev::ManualStart{})(ev::TcpConnected{})(ev::Received{GetParam().open});
  EXPECT_EQ(d.s.state, State::idle);
  auto* n = sent_notification(d.last);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->code, err::kOpen);
  EXPECT_EQ(n->subcode, GetParam().subcode);
}

INSTANTIATE_TEST_SUITE_P(
    Rfc4271, OpenRejected,
    ::testing::Values(OpenCase{"wrong_peer_as", peer_open(90, 65020), err::kBadPeerAs},
                      OpenCase{"hold_time_1", peer_open(1), err::kUnacceptableHoldTime},
                      OpenCase{"hold_time_2", peer_open(2), err::kUnacceptableHoldTime},
                      OpenCase{"zero_bgp_id", peer_open(90, 65515, 0), err::kBadBgpId}),
    [](const auto& info) { return std::string(info.param.name); });

// RFC 7607 §2: My AS 0 is refused even by a configuration that names AS 0.
TEST(Fsm, PeerAsZeroIsBadPeerAs) {
  Driver d{config()};
  d.cfg.peer_as = 0;
  d(ev::ManualStart{})(ev::TcpConnected{})(ev::Received{peer_open(90, 0)});
  EXPECT_EQ(d.s.state, State::idle);
  auto* n = sent_notification(d.last);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->code, err::kOpen);
  EXPECT_EQ(n->subcode, err::kBadPeerAs);
}

// RFC 5492 §5: a required capability the peer does not offer is an OPEN error naming it.
TEST(Fsm, RequiredRouteRefreshMissingIsUnsupportedCapability) {
  Driver d{config()};
  d.cfg.require_route_refresh = true;
  d(ev::ManualStart{})(ev::TcpConnected{})(ev::Received{peer_open()});
  EXPECT_EQ(d.s.state, State::idle);
  auto* n = sent_notification(d.last);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->code, err::kOpen);
  EXPECT_EQ(n->subcode, err::kUnsupportedCapability);
  EXPECT_EQ(n->data, (Bytes{std::byte{2}, std::byte{0}}));
  Driver ok{config()};
  ok.cfg.require_route_refresh = true;
  auto o = peer_open();
  o.caps.route_refresh = true;
  ok(ev::ManualStart{})(ev::TcpConnected{})(ev::Received{o});
  EXPECT_EQ(ok.s.state, State::open_confirm);
}

TEST(Fsm, FourOctetPeerAsIsMatchedThroughTheCapability) {
  Driver d{config()};
  d.cfg.peer_as = 4200000001u;
  d(ev::ManualStart{})(ev::TcpConnected{})(ev::Received{peer_open(90, 4200000001u)});
  EXPECT_EQ(d.s.state, State::open_confirm);
}

TEST(Fsm, UnexpectedMessageInOpenSentIsFsmError) {
  Driver d{config()};
  d(ev::ManualStart{})(ev::TcpConnected{})(ev::Received{Update{}});
  ASSERT_TRUE(sent_notification(d.last));
  EXPECT_EQ(sent_notification(d.last)->code, err::kFsm);
  EXPECT_EQ(sent_notification(d.last)->subcode, 1);
}

TEST(Fsm, ManualStopWhenEstablishedSendsCeaseAndDoesNotRestart) {
  Driver d{config()};
  d.establish();
  d(ev::ManualStop{});
  EXPECT_EQ(d.s.state, State::idle);
  EXPECT_EQ(sent_notification(d.last)->code, err::kCease);
  EXPECT_EQ(sent_notification(d.last)->subcode, err::kCeaseAdminShutdown);
  EXPECT_FALSE(armed(d.last, Timer::idle_hold));
  EXPECT_FALSE(d.s.started);
}

TEST(Fsm, RestartDelayGrowsExponentiallyWithJitterUpToTheMaximum) {
  Driver d{config()};
  d(ev::ManualStart{});
  std::vector<Duration> delays;
  for (int i = 0; i < 10; ++i) {
    d(ev::TcpConnected{})(ev::Received{peer_open(90, 65020)});  // rejected: wrong AS
    auto* t = armed(d.last, Timer::idle_hold);
    ASSERT_TRUE(t);
    delays.push_back(t->after);
    d(ev::TimerExpired{Timer::idle_hold});
    ASSERT_EQ(d.s.state, State::connect);
  }
  // 1s, 2s, 4s ... each jittered into [0.75, 1.0] of its base, capped at 120 s.
  for (size_t i = 0; i < delays.size(); ++i) {
    Duration base = std::min<Duration>(1s * (1 << i), 120s);
    EXPECT_GE(delays[i], base * 3 / 4) << i;
    EXPECT_LE(delays[i], base) << i;
  }
  // A session that dies right after coming up keeps backing off (found against FRR, which
  // resets the session on the first UPDATE it dislikes)...
  d(ev::TcpConnected{})(ev::Received{peer_open()})(ev::Received{Keepalive{}});
  d(ev::Received{Notification{err::kUpdate, err::kInvalidNextHop, {}}});
  EXPECT_EQ(armed(d.last, Timer::idle_hold)->after > 90s, true);
  // ...while one that stayed up past stable_after starts again from the base delay.
  d(ev::TimerExpired{Timer::idle_hold});
  d(ev::TcpConnected{})(ev::Received{peer_open()})(ev::Received{Keepalive{}});
  d.now += 61s;
  d(ev::Received{Notification{err::kCease, err::kCeaseAdminReset, {}}});
  EXPECT_LE(armed(d.last, Timer::idle_hold)->after, 1s);
}

TEST(Fsm, ConnectFailureWaitsInActiveThenRetries) {
  Driver d{config()};
  d(ev::ManualStart{})(ev::TcpFailed{"refused"});
  EXPECT_EQ(d.s.state, State::active);
  d(ev::TimerExpired{Timer::connect_retry});
  EXPECT_EQ(d.s.state, State::connect);
  EXPECT_TRUE(find<act::Connect>(d.last));
}

TEST(Fsm, PeerNotificationInEstablishedGoesIdle) {
  Driver d{config()};
  d.establish();
  d(ev::Received{Notification{err::kCease, err::kCeaseAdminReset, {}}});
  EXPECT_EQ(d.s.state, State::idle);
  EXPECT_FALSE(sent_notification(d.last));  // never answer a NOTIFICATION with one
  EXPECT_TRUE(find<act::SessionDown>(d.last));
}

TEST(Fsm, DecodeErrorSendsItsNotification) {
  Driver d{config()};
  d.establish();
  d(ev::DecodeFailed{WireError{err::kUpdate, err::kMalformedAttributeList, {}, "bad"}});
  EXPECT_EQ(sent_notification(d.last)->code, err::kUpdate);
  EXPECT_EQ(sent_notification(d.last)->subcode, err::kMalformedAttributeList);
}

TEST(Collision, HigherBgpIdKeepsItsOwnConnection) {
  EXPECT_EQ(resolve_collision(2, 1), Keep::locally_initiated);
  EXPECT_EQ(resolve_collision(1, 2), Keep::remotely_initiated);
}

TEST(Negotiation, FourOctetAndExtendedNeedBothSides) {
  FsmConfig c = config();
  c.caps.extended_message = true;
  Open o = peer_open();
  EXPECT_TRUE(negotiated_options(c, o).four_octet_as);
  EXPECT_FALSE(negotiated_options(c, o).extended_message);
  o.caps.extended_message = true;
  EXPECT_TRUE(negotiated_options(c, o).extended_message);
  o.caps.four_octet_as.reset();
  EXPECT_FALSE(negotiated_options(c, o).four_octet_as);
}
