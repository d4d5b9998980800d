// libFuzzer target: the bytes a client sends on the control socket, through the socket's
// own line handler. Any input gets one line of JSON with "ok" (and "error" when not ok),
// never a crash, an exception or an internal error, against a daemon with a peer, a VIP,
// checks and a route. control.dict lists every command, field and a value of every JSON
// type, so that mutations reach each field with each wrong type.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "api/control.hpp"
#include "api/control_socket.hpp"
#include "core/internal_error.hpp"
#include "runtime/sim/sim_network.hpp"

using namespace anycastd;
using namespace std::chrono_literals;

namespace {

struct World {
  sim::SimLoop loop;
  sim::SimNetwork net{loop, 1ms};
  std::unique_ptr<Transport> t = net.host(IpAddress::v4(0xC6120001));
  std::unique_ptr<bgp::Speaker> speaker;
  std::unique_ptr<health::Monitor> monitor;
  World() {
    bgp::SpeakerConfig c;
    c.local_as = 65010;
    c.router_id = 0xC6120001;
    c.listen_address = IpAddress::v4(0xC6120001);
    bgp::PeerConfig p;
    p.address = IpAddress::v4(0xC6120002);
    p.remote_as = 65515;
    c.peers = {p};
    bgp::VipConfig v;
    v.prefix = Prefix(IpAddress::v4(0x09090909), 32);
    v.start_announced = false;
    c.vips = {v};
    speaker = std::make_unique<bgp::Speaker>(loop, *t, c);
    (void)speaker->start();
    health::HealthConfig h;
    health::CheckConfig ch;
    ch.name = "web";
    ch.type = health::CheckType::tcp;
    ch.target = {IpAddress::v4(0xC612000A), 80};
    h.checks = {ch};
    health::VipHealthConfig vh;
    vh.checks = {"web"};
    h.vips[v.prefix] = vh;
    monitor = std::make_unique<health::Monitor>(
        loop, h,
        [this](const health::CheckConfig& cc) { return health::make_network_probe(loop, *t, cc); },
        t.get());
    monitor->on_announce = [this](const Prefix& p, const VipAnnouncement& a,
                                  const health::VipHealth&) { speaker->set_vip(p, a); };
    monitor->start();
    loop.run_until(loop.now() + 2s);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World w;
  api::Parts parts{&w.loop, w.speaker.get(), w.monitor.get(), nullptr, nullptr, nullptr};
  // The handler the daemon installs, and the function its socket calls for the bytes a
  // client sent: framing, JSON parse and dispatch. Nothing here catches: an exception that
  // escaped would end the fuzzer as it would end the daemon, and one the socket's last
  // resort caught is counted, and fails the run below.
  const api::ControlSocket::Handler handler = [&](const nlohmann::json& req) {
    return api::handle(req, parts);
  };
  const uint64_t errors_before = internal_errors();
  std::string answer = api::ControlSocket::answer_line(
      handler, std::string_view(reinterpret_cast<const char*>(data), size));
  if (internal_errors() != errors_before) abort();  // a bug the last resort had to catch
  if (answer.empty() || answer.back() != '\n') abort();
  auto a = nlohmann::json::parse(answer, nullptr, false);
  if (!a.is_object() || !a.contains("ok") || !a["ok"].is_boolean()) abort();
  if (!a["ok"].get<bool>() && !(a.contains("error") && a["error"].is_string())) abort();
  return 0;
}
