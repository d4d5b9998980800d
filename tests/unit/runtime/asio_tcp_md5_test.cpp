// TCP-MD5 on real loopback sockets: the kernel signs and checks, so a matching key gets
// through, and a wrong or missing key is met with silence (the SYN is dropped), never a
// refusal, which is why a BGP session with a bad key shows up as "no answer".
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "runtime/asio/asio_loop.hpp"
#include "runtime/asio/asio_transport.hpp"

using namespace anycastd;
using namespace std::chrono_literals;

namespace {

const IpAddress kLo = IpAddress::v4(0x7f000001);

struct Outcome {
  bool connected = false, accepted = false;
  std::optional<std::string> error;
};

// Connects with `key` to a listener that holds `listener_key` for 127.0.0.1, for at most
// 1.5 s: time enough on loopback, well under the kernel's SYN retries.
Outcome attempt(const std::string& listener_key, const std::string& key) {
  rt::AsioLoop loop;
  rt::AsioTransport t(loop);
  Outcome o;
  std::unique_ptr<Stream> in;
  auto l = t.listen({kLo, 0}, [&](std::unique_ptr<Stream> s) {
    o.accepted = true;
    in = std::move(s);
  });
  EXPECT_TRUE(l.ok());
  if (!l.ok()) return o;
  if (!listener_key.empty()) {
    EXPECT_EQ((*l)->set_md5_key(kLo, listener_key), "");
  }
  std::unique_ptr<Stream> out;
  auto token = t.connect(std::nullopt, (*l)->local(), TcpOptions{key, 0}, [&](auto r) {
    if (r) {
      o.connected = true;
      out = std::move(r).value();
    } else {
      o.error = r.error();
    }
  });
  TimerId stop = loop.schedule(1500ms, [&] { loop.stop(); });
  TimerId poll = 0;
  std::function<void()> check = [&] {
    if ((o.connected && o.accepted) || o.error) return loop.stop();
    poll = loop.schedule(10ms, check);
  };
  poll = loop.schedule(10ms, check);
  loop.run();
  loop.cancel(stop);
  loop.cancel(poll);
  return o;
}

}  // namespace

TEST(TcpMd5, MatchingKeysConnect) {
  auto o = attempt("s3cret", "s3cret");
  EXPECT_TRUE(o.connected && o.accepted) << o.error.value_or("no answer");
}

TEST(TcpMd5, AWrongKeyIsSilentNotRefused) {
  auto o = attempt("s3cret", "other");
  EXPECT_FALSE(o.accepted);
  EXPECT_FALSE(o.connected);
  EXPECT_FALSE(o.error) << "a mismatch must look like silence, got: " << *o.error;
}

TEST(TcpMd5, UnsignedToASignedListenerAndSignedToAPlainOneStayDown) {
  auto unsigned_in = attempt("s3cret", "");
  EXPECT_FALSE(unsigned_in.accepted || unsigned_in.connected);
  auto signed_out = attempt("", "s3cret");
  EXPECT_FALSE(signed_out.accepted && signed_out.connected);
}

TEST(TcpMd5, AKeyCanBeRemovedFromTheListener) {
  rt::AsioLoop loop;
  rt::AsioTransport t(loop);
  auto l = t.listen({kLo, 0}, [](std::unique_ptr<Stream>) {});
  ASSERT_TRUE(l.ok());
  EXPECT_EQ((*l)->set_md5_key(kLo, "k"), "");
  EXPECT_EQ((*l)->set_md5_key(kLo, ""), "");
  EXPECT_EQ((*l)->set_md5_key(kLo, ""), "") << "removing an absent key is not an error";
  EXPECT_NE((*l)->set_md5_key(kLo, std::string(81, 'x')), "");
}
