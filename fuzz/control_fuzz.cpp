// libFuzzer target: a line on the control socket. The socket parses it as JSON and hands
// it to the API; any line gets an answer with "ok" (and "error" when not ok), never a
// crash or an exception, against a daemon with a peer, a VIP, checks and a route.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "api/control.hpp"
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
  std::string line(reinterpret_cast<const char*>(data), size);
  // As the socket does: a line that is not JSON is answered without reaching the API.
  auto req = nlohmann::json::parse(line, nullptr, false);
  if (req.is_discarded()) return 0;
  api::Parts parts{&w.loop, w.speaker.get(), w.monitor.get(), nullptr, nullptr};
  nlohmann::json answer;
  try {
    answer = api::handle(req, parts);
  } catch (const std::exception&) {
    abort();  // the socket would answer nothing: an exception is a bug
  }
  if (!answer.is_object() || !answer.contains("ok") || !answer["ok"].is_boolean()) abort();
  if (!answer["ok"].get<bool>() && !answer.contains("error")) abort();
  (void)answer.dump();
  return 0;
}
