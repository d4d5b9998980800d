#include "config/health_config.hpp"

#include <sstream>

#include "config/communities.hpp"
#include "health/dns_message.hpp"

namespace anycastd::config {
namespace {

using health::CheckConfig;
using health::CheckType;
using health::VipHealthConfig;

CheckConfig read_check(const YamlReader& r, const YAML::Node& n, const std::string& name,
                       const std::string& path) {
  r.require_map(n, path);
  r.only_keys(n, path,
              {"type",    "address", "port",       "source",        "interval", "timeout", "jitter",
               "rise",    "fall",    "watch",      "fast-interval", "path",     "host",    "status",
               "body",    "command", "name",       "query-type",    "rcode",    "answer",  "socket",
               "backend", "server",  "keep-alive", "send"});
  CheckConfig c;
  c.name = name;
  if (!n["type"])
    r.fail(n, path, "missing required key 'type' (tcp, http, dns, exec, haproxy or agent)");
  auto type = r.string(n["type"], path + ".type");
  if (type == "tcp")
    c.type = CheckType::tcp;
  else if (type == "http")
    c.type = CheckType::http;
  else if (type == "exec")
    c.type = CheckType::exec;
  else if (type == "dns")
    c.type = CheckType::dns;
  else if (type == "haproxy")
    c.type = CheckType::haproxy;
  else if (type == "agent")
    c.type = CheckType::agent;
  else
    r.fail(n["type"], path + ".type",
           "expected tcp, http, dns, exec, haproxy or agent, got '" + type + "'");
  if (c.type == CheckType::agent) {
    // HAProxy's agent-send: a line the agent may need to know which server it answers for.
    if (n["send"]) c.agent.send = r.string(n["send"], path + ".send");
  } else if (n["send"]) {
    r.fail(n["send"], path + ".send", "only agent checks take 'send'");
  }
  // Only tcp and http checks hold a connection that can be watched.
  if (c.type != CheckType::tcp && c.type != CheckType::http) c.watch = false;
  if (c.type == CheckType::haproxy) {
    for (const char* k : {"backend", "server"})
      if (!n[k]) r.fail(n, path, "missing required key '" + std::string(k) + "'");
    c.haproxy.backend = r.string(n["backend"], path + ".backend");
    c.haproxy.server = r.string(n["server"], path + ".server");
    if (n["socket"]) {
      c.haproxy.socket = r.string(n["socket"], path + ".socket");
      if (c.haproxy.socket.empty() || c.haproxy.socket[0] != '/')
        r.fail(n["socket"], path + ".socket", "expected an absolute path to the stats socket");
      if (n["address"] || n["port"])
        r.fail(n["address"] ? n["address"] : n["port"], path,
               "give either 'socket' (a Unix socket) or 'address' and 'port', not both");
    } else if (!n["address"] || !n["port"]) {
      r.fail(n, path,
             "a haproxy check needs 'socket' (the stats socket's path) or 'address' and "
             "'port' (a `stats socket ipv4@...`)");
    }
  } else {
    for (const char* k : {"socket", "backend", "server"})
      if (n[k]) r.fail(n[k], path + "." + k, "only haproxy checks take '" + std::string(k) + "'");
  }
  if (c.type == CheckType::dns) {
    if (!n["name"]) r.fail(n, path, "missing required key 'name' (the name to query)");
    c.dns.name = r.string(n["name"], path + ".name");
    if (health::dns::build_query(0, c.dns.name, 1).empty())
      r.fail(n["name"], path + ".name", "not a valid domain name");
    if (auto q = n["query-type"]) {
      auto t = health::dns::qtype_from_string(r.string(q, path + ".query-type"));
      if (!t)
        r.fail(q, path + ".query-type", "expected A, AAAA, TXT, CNAME, MX, NS, SOA, PTR or SRV");
      c.dns.qtype = *t;
    }
    if (auto q = n["rcode"]) {
      auto rc = health::dns::rcode_from_string(r.string(q, path + ".rcode"));
      if (!rc)
        r.fail(q, path + ".rcode",
               "expected NOERROR, NXDOMAIN, SERVFAIL, REFUSED, FORMERR or NOTIMP");
      c.dns.rcode = *rc;
    }
    if (n["answer"]) c.dns.answer = r.string(n["answer"], path + ".answer");
    if (!n["port"]) c.target.port = 53;
  } else {
    for (const char* k : {"name", "query-type", "rcode", "answer"})
      if (n[k]) r.fail(n[k], path + "." + k, "only dns checks take '" + std::string(k) + "'");
  }
  if (c.type == CheckType::exec) {
    if (!n["command"] || !n["command"].IsSequence() || n["command"].size() == 0)
      r.fail(n["command"] ? n["command"] : n, path + ".command",
             "an exec check needs 'command' as a list: program and arguments (no shell)");
    for (size_t i = 0; i < n["command"].size(); ++i)
      c.argv.push_back(r.string(n["command"][i], path + ".command[" + std::to_string(i) + "]"));
    c.watch = false;
  } else if (c.haproxy.socket.empty()) {
    if (!n["address"]) r.fail(n, path, "missing required key 'address'");
    if (!n["port"] && c.type != CheckType::dns) r.fail(n, path, "missing required key 'port'");
    c.target.address = r.address(n["address"], path + ".address");
    if (n["port"])
      c.target.port = static_cast<uint16_t>(r.integer(n["port"], path + ".port", 1, 65535));
    if (n["command"]) r.fail(n["command"], path + ".command", "only exec checks take 'command'");
  }
  if (n["source"]) c.source = r.address(n["source"], path + ".source");
  if (c.type == CheckType::http) {
    if (n["path"]) c.http.path = r.string(n["path"], path + ".path");
    if (c.http.path.empty() || c.http.path[0] != '/')
      r.fail(n["path"], path + ".path", "must start with '/'");
    if (n["host"]) c.http.host = r.string(n["host"], path + ".host");
    if (auto s = n["status"]) {
      c.http.statuses.clear();
      if (s.IsScalar()) {
        c.http.statuses.push_back(static_cast<int>(r.integer(s, path + ".status", 100, 599)));
      } else {
        for (size_t i = 0; i < s.size(); ++i)
          c.http.statuses.push_back(static_cast<int>(
              r.integer(s[i], path + ".status[" + std::to_string(i) + "]", 100, 599)));
      }
    }
    if (n["body"]) c.http.body = r.string(n["body"], path + ".body");
    if (n["keep-alive"]) c.http.keep_alive = r.boolean(n["keep-alive"], path + ".keep-alive");
  } else {
    for (const char* k : {"path", "host", "status", "body", "keep-alive"})
      if (n[k]) r.fail(n[k], path + "." + k, "only http checks take '" + std::string(k) + "'");
  }
  if (n["interval"]) c.interval = r.seconds(n["interval"], path + ".interval", 0.01, 3600);
  c.timeout = std::min(c.timeout, c.interval);
  if (n["timeout"]) {
    c.timeout = r.seconds(n["timeout"], path + ".timeout", 0.001, 3600);
    if (c.timeout > c.interval)
      r.fail(n["timeout"], path + ".timeout", "must not exceed the interval");
  }
  if (n["jitter"]) {
    c.jitter = r.seconds(n["jitter"], path + ".jitter", 0, 3600);
    if (c.jitter * 2 >= c.interval)
      r.fail(n["jitter"], path + ".jitter", "must be less than half the interval");
  }
  if (n["rise"]) c.rise = static_cast<uint32_t>(r.integer(n["rise"], path + ".rise", 1, 100));
  if (n["fall"]) c.fall = static_cast<uint32_t>(r.integer(n["fall"], path + ".fall", 1, 100));
  if (n["watch"]) {
    c.watch = r.boolean(n["watch"], path + ".watch");
    if (c.watch && c.type != CheckType::tcp && c.type != CheckType::http)
      r.fail(n["watch"], path + ".watch", type + " checks have no connection to watch");
  }
  if (n["fast-interval"])
    c.fast_interval = r.seconds(n["fast-interval"], path + ".fast-interval", 0.001, 60);
  return c;
}

}  // namespace

std::vector<CheckConfig> read_checks(const YamlReader& r, const YAML::Node& n) {
  r.require_map(n, "checks");
  std::vector<CheckConfig> out;
  for (auto it = n.begin(); it != n.end(); ++it) {
    auto name = it->first.as<std::string>();
    out.push_back(read_check(r, it->second, name, "checks." + name));
  }
  return out;
}

VipHealthConfig read_vip_health(const YamlReader& r, const YAML::Node& n, const std::string& path,
                                const std::vector<CheckConfig>& checks) {
  r.require_map(n, path);
  r.only_keys(n, path,
              {"checks", "rule", "action", "degrade", "damping", "drain-time", "drain-prepend"});
  VipHealthConfig v;
  if (!n["checks"] || !n["checks"].IsSequence() || n["checks"].size() == 0)
    r.fail(n["checks"] ? n["checks"] : n, path + ".checks", "expected a list of check names");
  for (size_t i = 0; i < n["checks"].size(); ++i) {
    auto p = path + ".checks[" + std::to_string(i) + "]";
    auto name = r.string(n["checks"][i], p);
    bool known = false;
    for (const auto& c : checks) known |= c.name == name;
    if (!known)
      r.fail(n["checks"][i], p, "no check named '" + name + "' (define it under 'checks')");
    v.checks.push_back(name);
  }
  if (auto rule = n["rule"]) {
    if (rule.IsScalar()) {
      auto s = r.string(rule, path + ".rule");
      if (s == "any")
        v.rule = VipHealthConfig::Rule::any;
      else if (s == "all")
        v.rule = VipHealthConfig::Rule::all;
      else
        r.fail(rule, path + ".rule", "expected any, all, {min: N} or {min-percent: P}");
    } else {
      r.require_map(rule, path + ".rule");
      r.only_keys(rule, path + ".rule", {"min", "min-percent"});
      if (rule["min"]) {
        v.rule = VipHealthConfig::Rule::min;
        v.min =
            static_cast<uint32_t>(r.integer(rule["min"], path + ".rule.min", 1, v.checks.size()));
      } else if (rule["min-percent"]) {
        v.rule = VipHealthConfig::Rule::min_percent;
        v.min = static_cast<uint32_t>(
            r.integer(rule["min-percent"], path + ".rule.min-percent", 1, 100));
      } else {
        r.fail(rule, path + ".rule", "expected {min: N} or {min-percent: P}");
      }
    }
  }
  if (n["action"]) {
    auto s = r.string(n["action"], path + ".action");
    if (s == "withdraw")
      v.action = VipHealthConfig::Action::withdraw;
    else if (s == "degrade")
      v.action = VipHealthConfig::Action::degrade;
    else
      r.fail(n["action"], path + ".action", "expected withdraw or degrade, got '" + s + "'");
  }
  if (auto d = n["degrade"]) {
    auto dp = path + ".degrade";
    r.require_map(d, dp);
    r.only_keys(d, dp, {"prepend", "communities", "med"});
    if (d["prepend"])
      v.degrade.prepend = static_cast<uint32_t>(r.integer(d["prepend"], dp + ".prepend", 0, 32));
    if (auto c = d["communities"]) {
      if (!c.IsSequence()) r.fail(c, dp + ".communities", "expected a list");
      for (size_t i = 0; i < c.size(); ++i)
        v.degrade.communities.push_back(
            community(r, c[i], dp + ".communities[" + std::to_string(i) + "]"));
    }
    if (d["med"])
      v.degrade.med = static_cast<uint32_t>(r.integer(d["med"], dp + ".med", 0, 4294967295ull));
  }
  if (auto d = n["damping"]) {
    auto dp = path + ".damping";
    r.require_map(d, dp);
    r.only_keys(d, dp, {"changes", "window", "hold", "max-hold"});
    if (!d["changes"]) r.fail(d, dp, "missing required key 'changes'");
    v.damping.changes = static_cast<uint32_t>(r.integer(d["changes"], dp + ".changes", 1, 1000));
    if (d["window"]) v.damping.window = r.seconds(d["window"], dp + ".window", 1, 86400);
    if (d["hold"]) v.damping.hold = r.seconds(d["hold"], dp + ".hold", 1, 86400);
    if (d["max-hold"]) v.damping.max_hold = r.seconds(d["max-hold"], dp + ".max-hold", 1, 86400);
    if (v.damping.max_hold < v.damping.hold)
      r.fail(d["max-hold"] ? d["max-hold"] : d, dp + ".max-hold", "must be at least 'hold'");
  }
  if (n["drain-time"]) v.drain_time = r.seconds(n["drain-time"], path + ".drain-time", 0, 3600);
  if (n["drain-prepend"])
    v.drain_prepend =
        static_cast<uint32_t>(r.integer(n["drain-prepend"], path + ".drain-prepend", 0, 32));
  return v;
}

namespace {

// A YAML double-quoted scalar that reads back as `s`: an agent's `send` usually ends in a
// line feed.
std::string yaml_quoted(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace

std::string print_checks(const std::vector<CheckConfig>& checks) {
  std::ostringstream o;
  o << "checks:" << (checks.empty() ? " {}" : "") << "\n";
  for (const auto& c : checks) {
    const char* types[] = {"tcp", "http", "exec", "dns", "haproxy", "agent"};
    o << "  " << c.name << ":\n    type: " << types[static_cast<int>(c.type)] << "\n";
    if (c.type == CheckType::exec) {
      o << "    command: [";
      for (size_t i = 0; i < c.argv.size(); ++i) o << (i ? ", " : "") << '"' << c.argv[i] << '"';
      o << "]\n";
    } else if (!c.haproxy.socket.empty()) {
      o << "    socket: \"" << c.haproxy.socket << "\"\n";
    } else {
      o << "    address: " << c.target.address.to_string() << "\n    port: " << c.target.port
        << "\n";
    }
    if (c.source) o << "    source: " << c.source->to_string() << "\n";
    if (c.type == CheckType::http) {
      o << "    path: \"" << c.http.path << "\"\n";
      if (!c.http.host.empty()) o << "    host: \"" << c.http.host << "\"\n";
      o << "    status: [";
      for (size_t i = 0; i < c.http.statuses.size(); ++i)
        o << (i ? ", " : "") << c.http.statuses[i];
      o << "]\n";
      if (!c.http.body.empty()) o << "    body: \"" << c.http.body << "\"\n";
      o << "    keep-alive: " << (c.http.keep_alive ? "true" : "false") << "\n";
    }
    if (c.type == CheckType::dns) {
      o << "    name: \"" << c.dns.name
        << "\"\n    query-type: " << health::dns::qtype_to_string(c.dns.qtype)
        << "\n    rcode: " << health::dns::rcode_to_string(c.dns.rcode) << "\n";
      if (!c.dns.answer.empty()) o << "    answer: \"" << c.dns.answer << "\"\n";
    }
    if (c.type == CheckType::agent && !c.agent.send.empty())
      o << "    send: " << yaml_quoted(c.agent.send) << "\n";
    if (c.type == CheckType::haproxy)
      o << "    backend: \"" << c.haproxy.backend << "\"\n    server: \"" << c.haproxy.server
        << "\"\n";
    o << "    interval: " << secs(c.interval) << "\n    timeout: " << secs(c.timeout)
      << "\n    jitter: " << secs(c.jitter) << "\n    rise: " << c.rise << "\n    fall: " << c.fall
      << "\n    watch: " << (c.watch ? "true" : "false")
      << "\n    fast-interval: " << secs(c.fast_interval) << "\n";
  }
  return o.str();
}

std::string print_vip_health(const VipHealthConfig& v, const std::string& in) {
  std::ostringstream o;
  o << in << "health:\n" << in << "  checks: [";
  for (size_t i = 0; i < v.checks.size(); ++i) o << (i ? ", " : "") << v.checks[i];
  o << "]\n" << in << "  rule: ";
  switch (v.rule) {
    case VipHealthConfig::Rule::any:
      o << "any";
      break;
    case VipHealthConfig::Rule::all:
      o << "all";
      break;
    case VipHealthConfig::Rule::min:
      o << "{min: " << v.min << "}";
      break;
    case VipHealthConfig::Rule::min_percent:
      o << "{min-percent: " << v.min << "}";
      break;
  }
  o << "\n"
    << in
    << "  action: " << (v.action == VipHealthConfig::Action::withdraw ? "withdraw" : "degrade")
    << "\n"
    << in << "  degrade:\n"
    << in << "    prepend: " << v.degrade.prepend << "\n"
    << in << "    communities: [";
  for (size_t i = 0; i < v.degrade.communities.size(); ++i)
    o << (i ? ", " : "") << '"' << bgp::community_to_string(v.degrade.communities[i]) << '"';
  o << "]\n";
  if (v.degrade.med) o << in << "    med: " << *v.degrade.med << "\n";
  if (v.damping.changes)
    o << in << "  damping:\n"
      << in << "    changes: " << v.damping.changes << "\n"
      << in << "    window: " << secs(v.damping.window) << "\n"
      << in << "    hold: " << secs(v.damping.hold) << "\n"
      << in << "    max-hold: " << secs(v.damping.max_hold) << "\n";
  o << in << "  drain-time: " << secs(v.drain_time) << "\n"
    << in << "  drain-prepend: " << v.drain_prepend << "\n";
  return o.str();
}

}  // namespace anycastd::config
