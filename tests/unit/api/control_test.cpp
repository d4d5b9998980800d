// The control socket's line handler against a daemon's parts: every field of every command
// given a value of each wrong JSON type gets an answer naming the field and the type, and
// nothing reaches the last-resort catch (an internal error would be counted).
#include "api/control.hpp"

#include <gtest/gtest.h>

#include "api/control_socket.hpp"
#include "core/internal_error.hpp"
#include "lab/sim_forwarder.hpp"
#include "runtime/sim/sim_network.hpp"

using namespace anycastd;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct ControlApi : ::testing::Test {
  sim::SimLoop loop;
  sim::SimNetwork net{loop, 1ms};
  std::unique_ptr<Transport> t = net.host(IpAddress::v4(0xC6120001));
  std::unique_ptr<bgp::Speaker> speaker;
  api::ControlSocket::Handler handler = [this](const json& req) {
    return api::handle(req, {&loop, speaker.get(), nullptr, nullptr, nullptr, nullptr});
  };

  void SetUp() override {
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
    c.vips = {v};
    speaker = std::make_unique<bgp::Speaker>(loop, *t, c);
    ASSERT_TRUE(speaker->start());
  }
  json ask(const std::string& line) {
    auto out = api::ControlSocket::answer_line(handler, line + "\n");
    EXPECT_EQ(out.back(), '\n');
    return json::parse(out);
  }
};

}  // namespace

// The request from the issue: a number where a string belongs aborted the daemon.
TEST_F(ControlApi, ANumberForViewIsAnErrorNamingIt) {
  const auto before = internal_errors();
  auto a = ask(R"({"command":"show routes","view":1})");
  EXPECT_EQ(a["ok"], false);
  EXPECT_EQ(a["error"], "\"view\" must be a string, got a number");
  EXPECT_EQ(internal_errors(), before);
  EXPECT_EQ(ask(R"({"command":"show routes"})")["ok"], true) << "and it answers on";
}

TEST_F(ControlApi, EveryFieldOfEveryCommandRefusesEveryWrongType) {
  const std::map<std::string, std::vector<std::string>> fields = {
      {"show peers", {}}, {"show bfd", {}},
      {"show vips", {}},  {"show health", {}},
      {"show proxy", {}}, {"show routes", {"prefix", "peer", "view"}},
      {"drain", {"vip"}}, {"undrain", {"vip"}},
      {"reload", {}},     {"backend", {"service", "backend", "state"}}};
  const std::vector<std::pair<json, std::string>> wrong = {
      {json(1), "a number"},          {json(-2.5), "a number"},
      {json(true), "true or false"},  {json(nullptr), "null"},
      {json::array({1}), "an array"}, {json::object({{"a", 1}}), "an object"}};
  const auto before = internal_errors();
  int asked = 0;
  for (const auto& [command, names] : fields) {
    for (const auto& [value, type] : wrong) {
      // The command itself.
      auto a = ask(json{{"command", value}}.dump());
      EXPECT_EQ(a["ok"], false);
      EXPECT_EQ(a["error"], "\"command\" must be a string, got " + type);
      for (const auto& f : names) {
        json req = {{"command", command}, {f, value}};
        if ((command == "drain" || command == "undrain") && f != "vip") req["vip"] = "9.9.9.9/32";
        if (command == "backend")
          for (const char* g : {"service", "backend", "state"})
            if (f != g) req[g] = "x";
        auto r = ask(req.dump());
        ++asked;
        EXPECT_EQ(r["ok"], false) << req.dump();
        EXPECT_EQ(r["error"], "\"" + f + "\" must be a string, got " + type) << req.dump();
      }
      // A field the command does not take is named, with those it does.
      auto u = ask(json{{"command", command}, {"bogus", value}}.dump());
      EXPECT_EQ(u["ok"], false);
      EXPECT_NE(u["error"].get<std::string>().find("takes no field \"bogus\""), std::string::npos)
          << u.dump();
    }
  }
  EXPECT_EQ(asked, 8 * 6);  // prefix, peer, view; drain's and undrain's vip; backend's three
  EXPECT_EQ(internal_errors(), before);
}

TEST_F(ControlApi, BadValuesOfTheRightTypeAreNamedToo) {
  EXPECT_EQ(ask(R"({"command":"show routes","view":"all"})")["error"],
            "\"view\" is loc-rib, received or advertised, not 'all'");
  EXPECT_EQ(ask(R"({"command":"show routes","prefix":"nine"})")["error"],
            "\"prefix\": 'nine' is not a prefix or an address");
  EXPECT_EQ(ask(R"({"command":"show routes","peer":"x"})")["error"],
            "\"peer\": 'x' is not an address");
  EXPECT_EQ(ask(R"({"command":"show routes","peer":"198.18.0.9"})")["error"],
            "no peer 198.18.0.9 in the configuration");
  EXPECT_EQ(ask(R"({"command":"drain"})")["error"], "missing \"vip\" (a string)");
  EXPECT_EQ(ask(R"({"command":"drain","vip":"1.2.3.4"})")["error"],
            "no VIP 1.2.3.4/32 in the configuration");
  EXPECT_EQ(ask(R"(["show peers"])")["error"], "a request is a JSON object with a \"command\"");
  EXPECT_EQ(ask("{not json")["error"], "the request is not JSON");
}

// Only the first line is the request (the socket reads up to a newline); what follows is
// not parsed into it.
TEST_F(ControlApi, TheFirstLineIsTheRequest) {
  auto out = api::ControlSocket::answer_line(handler, "{\"command\":\"show vips\"}\n{junk\n");
  EXPECT_EQ(json::parse(out)["ok"], true);
}

// The last resort: a handler that throws costs that request an error answer, is counted,
// and the next request is served.
TEST_F(ControlApi, AHandlerThatThrowsIsAnsweredAndCounted) {
  const auto before = internal_errors();
  api::ControlSocket::Handler bad = [](const json& req) -> json {
    return req.at("missing").get<std::string>();
  };
  auto a = json::parse(api::ControlSocket::answer_line(bad, "{\"command\":\"x\"}\n"));
  EXPECT_EQ(a["ok"], false);
  EXPECT_NE(a["error"].get<std::string>().find("internal error"), std::string::npos);
  EXPECT_EQ(internal_errors(), before + 1);
  EXPECT_EQ(ask(R"({"command":"show peers"})")["ok"], true);
}

namespace {

proxy::ProxyConfig two_services() {
  proxy::ProxyConfig c;
  proxy::ServiceConfig web;
  web.name = "web";
  web.listen = {IpAddress::v4(0x09090909), 80};
  web.backends = {{{IpAddress::v4(0xC612000A), 80}, 1, {}},
                  {{IpAddress::v4(0xC612000A), 81}, 2, {}},
                  {{IpAddress::v4(0xC612000B), 80}, 1, {}}};
  proxy::ServiceConfig dns = web;
  dns.name = "dns";
  dns.protocol = proxy::Protocol::udp;
  dns.listen.port = 53;
  c.services = {web, dns};
  return c;
}

}  // namespace

// The operator's runtime commands: state and weight, named by address:port or by a unique
// address; each refusal names what there is.
TEST_F(ControlApi, BackendStateAndWeightAtRunTime) {
  lab::SimForwarder f(two_services());
  handler = [&](const json& req) {
    return api::handle(req, {&loop, speaker.get(), nullptr, &f, nullptr, nullptr});
  };
  auto a = ask(R"({"command":"backend","service":"web","backend":"198.18.0.11","state":"drain"})");
  ASSERT_EQ(a["ok"], true) << a.dump();
  EXPECT_EQ(a["backend"], "198.18.0.11:80");
  EXPECT_EQ(a["state"], "drain");
  EXPECT_EQ(f.stats(0).backends[2].admin, proxy::AdminState::drain);
  EXPECT_EQ(f.stats(1).backends[2].admin, proxy::AdminState::ready) << "the other service's";
  a = ask(R"({"command":"backend","service":"web","backend":"198.18.0.10:81","weight":0})");
  ASSERT_EQ(a["ok"], true) << a.dump();
  EXPECT_EQ(a["weight"], 0);
  EXPECT_EQ(f.stats(0).backends[1].weight, 0u);
  // With one backend drained and one at weight 0, every new connection goes to the third.
  for (uint16_t k = 0; k < 10; ++k) {
    proxy::FlowKey key;
    key.src = IpAddress::v4(0xC6120064);
    key.src_port = static_cast<uint16_t>(40000 + k);
    EXPECT_EQ(f.open(0, key), 0u);
  }
  auto shown = ask(R"({"command":"show proxy"})")["services"][0]["backends"];
  EXPECT_EQ(shown[1]["weight"], 0);
  EXPECT_EQ(shown[1]["configured_weight"], 2);
  EXPECT_EQ(shown[2]["admin_state"], "drain");

  EXPECT_EQ(ask(R"({"command":"backend","service":"mail","backend":"x","state":"ready"})")["error"],
            "no service 'mail' (there are: web, dns)");
  EXPECT_EQ(
      ask(R"({"command":"backend","service":"web","backend":"1.2.3.4","state":"ready"})")["error"],
      "service web has no backend '1.2.3.4' (it has: 198.18.0.10:80, 198.18.0.10:81, "
      "198.18.0.11:80)");
  EXPECT_EQ(ask(R"({"command":"backend","service":"web","backend":"198.18.0.10","state":"ready"})")
                ["error"],
            "'198.18.0.10' is more than one backend of web: name it with its port "
            "(198.18.0.10:80, 198.18.0.10:81)");
  EXPECT_EQ(
      ask(R"({"command":"backend","service":"web","backend":"198.18.0.11","weight":257})")["error"],
      "\"weight\" must be 0 to 256, not 257");
  EXPECT_EQ(
      ask(R"({"command":"backend","service":"web","backend":"198.18.0.11","weight":-1})")["error"],
      "\"weight\" must be 0 to 256, not -1");
  EXPECT_EQ(
      ask(R"({"command":"backend","service":"web","backend":"198.18.0.11","weight":1.5})")["error"],
      "\"weight\" must be a whole number, got a fraction");
  EXPECT_EQ(
      ask(R"({"command":"backend","service":"web","backend":"198.18.0.11","weight":"9"})")["error"],
      "\"weight\" must be a whole number, got a string");
  EXPECT_EQ(ask(R"({"command":"backend","service":"web","backend":"198.18.0.11","state":"down"})")
                ["error"],
            "\"state\" is ready, drain or maint, not 'down'");
  EXPECT_EQ(
      ask(R"({"command":"backend","service":"web","backend":"198.18.0.11","state":"drain","close":true})")
          ["error"],
      "\"close\" goes with state maint only (HAProxy's shutdown sessions)");
  EXPECT_EQ(
      ask(R"({"command":"backend","service":"web","backend":"198.18.0.11","state":"maint","close":1})")
          ["error"],
      "\"close\" must be true or false, got a number");
  a = ask(
      R"({"command":"backend","service":"web","backend":"198.18.0.11","state":"maint","close":true})");
  EXPECT_EQ(a["closed"], true) << a.dump();
  EXPECT_EQ(a["state"], "maint");
  EXPECT_EQ(ask(R"({"command":"backend","service":"web","backend":"198.18.0.11"})")["error"],
            "give one of \"state\" (ready, drain or maint) and \"weight\" (0 to 256)");
  handler = [&](const json& req) {
    return api::handle(req, {&loop, speaker.get(), nullptr, nullptr, nullptr, nullptr});
  };
  EXPECT_EQ(ask(R"({"command":"backend","service":"web","backend":"198.18.0.11","state":"ready"})")
                ["error"],
            "no services are configured");
}
