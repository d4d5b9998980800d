#include "config/policy_config.hpp"

#include <sstream>

#include "config/communities.hpp"

namespace anycastd::config {

namespace {

// "10.0.0.0/8", "10.0.0.0/8 le 24", "10.0.0.0/8 ge 16 le 24" (BIRD's and FRR's words).
policy::PrefixMatch prefix_match(const YamlReader& r, const YAML::Node& n,
                                 const std::string& path) {
  std::istringstream in(r.string(n, path));
  std::string word;
  in >> word;
  auto p = Prefix::parse(word);
  if (!p) r.fail(n, path, "'" + word + "' is not a prefix");
  const int max = p->family() == Family::v4 ? 32 : 128;
  policy::PrefixMatch m = policy::PrefixMatch::exact(*p);
  bool range = false;
  while (in >> word) {
    int v = -1;
    std::string num;
    if ((word != "ge" && word != "le") || !(in >> num))
      r.fail(n, path, "expected 'ge N' or 'le N'");
    try {
      v = std::stoi(num);
    } catch (...) {
    }
    if (v < p->length() || v > max)
      r.fail(n, path,
             "'" + word + " " + num + "' must be between " + std::to_string(p->length()) + " and " +
                 std::to_string(max));
    if (!range) m.le = static_cast<uint8_t>(max);
    range = true;
    (word == "ge" ? m.ge : m.le) = static_cast<uint8_t>(v);
  }
  if (m.ge > m.le) r.fail(n, path, "'ge' is larger than 'le'");
  return m;
}

std::vector<uint32_t> asns(const YamlReader& r, const YAML::Node& n, const std::string& path) {
  std::vector<uint32_t> out;
  if (!n.IsSequence()) return {r.asn(n, path)};
  for (size_t i = 0; i < n.size(); ++i)
    out.push_back(r.asn(n[i], path + "[" + std::to_string(i) + "]"));
  return out;
}

template <typename T, typename F>
std::vector<T> list(const YAML::Node& n, const std::string& path, F item) {
  std::vector<T> out;
  if (!n.IsSequence()) return {item(n, path)};
  for (size_t i = 0; i < n.size(); ++i)
    out.push_back(item(n[i], path + "[" + std::to_string(i) + "]"));
  return out;
}

policy::Match read_match(const YamlReader& r, const YAML::Node& n, const std::string& path) {
  r.require_map(n, path);
  r.only_keys(n, path,
              {"prefix", "as-path-contains", "origin-as", "neighbour-as", "as-path-length",
               "community", "large-community", "next-hop", "peer"});
  policy::Match m;
  if (auto x = n["prefix"])
    m.prefixes = list<policy::PrefixMatch>(x, path + ".prefix",
                                           [&](auto& y, auto p) { return prefix_match(r, y, p); });
  if (auto x = n["as-path-contains"]) m.as_path_contains = asns(r, x, path + ".as-path-contains");
  if (auto x = n["origin-as"]) m.origin_as = r.asn(x, path + ".origin-as");
  if (auto x = n["neighbour-as"]) m.neighbour_as = r.asn(x, path + ".neighbour-as");
  if (auto x = n["as-path-length"]) {
    std::string p = path + ".as-path-length";
    r.require_map(x, p);
    r.only_keys(x, p, {"min", "max"});
    if (x["min"]) m.as_path_length_min = r.integer(x["min"], p + ".min", 0, 255);
    if (x["max"]) m.as_path_length_max = r.integer(x["max"], p + ".max", 0, 255);
  }
  if (auto x = n["community"]) m.communities = communities(r, x, path + ".community");
  if (auto x = n["large-community"])
    m.large_communities = large_communities(r, x, path + ".large-community");
  if (auto x = n["next-hop"])
    m.next_hops = list<Prefix>(x, path + ".next-hop", [&](auto& y, auto p) {
      auto s = r.string(y, p);
      if (s.find('/') == std::string::npos) {
        auto a = r.address(y, p);
        return Prefix(a, static_cast<uint8_t>(a.byte_size() * 8));
      }
      return r.prefix(y, p);
    });
  if (auto x = n["peer"])
    m.peers = list<IpAddress>(x, path + ".peer", [&](auto& y, auto p) { return r.address(y, p); });
  return m;
}

policy::Actions read_actions(const YamlReader& r, const YAML::Node& n, const std::string& path) {
  policy::Actions a;
  if (n.IsScalar()) {  // "then: accept"
    auto s = r.string(n, path);
    if (s != "accept" && s != "reject")
      r.fail(n, path, "expected 'accept', 'reject' or a map of actions");
    a.verdict = s == "accept" ? policy::Actions::Verdict::accept : policy::Actions::Verdict::reject;
    return a;
  }
  r.require_map(n, path);
  r.only_keys(
      n, path,
      {"action", "prepend", "prepend-as", "remove-as", "replace-as", "remove-private-as",
       "set-communities", "add-communities", "remove-communities", "set-large-communities",
       "add-large-communities", "remove-large-communities", "med", "local-pref", "next-hop"});
  if (auto x = n["action"]) {
    auto s = r.string(x, path + ".action");
    if (s != "accept" && s != "reject")
      r.fail(x, path + ".action", "expected 'accept' or 'reject'");
    a.verdict = s == "accept" ? policy::Actions::Verdict::accept : policy::Actions::Verdict::reject;
  }
  if (auto x = n["prepend"])
    a.prepend.push_back({0, static_cast<uint32_t>(r.integer(x, path + ".prepend", 1, 32))});
  if (auto x = n["prepend-as"]) {
    std::string p = path + ".prepend-as";
    r.require_map(x, p);
    r.only_keys(x, p, {"asn", "count"});
    if (!x["asn"]) r.fail(x, p, "missing required key 'asn'");
    uint32_t count =
        x["count"] ? static_cast<uint32_t>(r.integer(x["count"], p + ".count", 1, 32)) : 1;
    a.prepend.push_back({r.asn(x["asn"], p + ".asn"), count});
  }
  if (auto x = n["remove-as"]) a.remove_asns = asns(r, x, path + ".remove-as");
  if (auto x = n["replace-as"]) a.replace_asns = asns(r, x, path + ".replace-as");
  if (auto x = n["remove-private-as"])
    a.remove_private_asns = r.boolean(x, path + ".remove-private-as");
  if (auto x = n["set-communities"])
    a.set_communities = communities(r, x, path + ".set-communities");
  if (auto x = n["add-communities"])
    a.add_communities = communities(r, x, path + ".add-communities");
  if (auto x = n["remove-communities"])
    a.remove_communities = communities(r, x, path + ".remove-communities");
  if (auto x = n["set-large-communities"])
    a.set_large_communities = large_communities(r, x, path + ".set-large-communities");
  if (auto x = n["add-large-communities"])
    a.add_large_communities = large_communities(r, x, path + ".add-large-communities");
  if (auto x = n["remove-large-communities"])
    a.remove_large_communities = large_communities(r, x, path + ".remove-large-communities");
  if (auto x = n["med"])
    a.med = static_cast<uint32_t>(r.integer(x, path + ".med", 0, 4294967295ull));
  if (auto x = n["local-pref"])
    a.local_pref = static_cast<uint32_t>(r.integer(x, path + ".local-pref", 0, 4294967295ull));
  if (auto x = n["next-hop"]) {
    if (r.string(x, path + ".next-hop") == "self") {
      a.next_hop_self = true;
    } else {
      a.next_hop = r.address(x, path + ".next-hop");
    }
  }
  return a;
}

std::string join(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out + "]";
}

template <typename T, typename F>
std::vector<std::string> strs(const std::vector<T>& v, F f) {
  std::vector<std::string> out;
  for (const auto& x : v) out.push_back(f(x));
  return out;
}

std::string quoted(const std::string& s) {
  return '"' + s + '"';
}

// The `then` block of one term, one key per line; empty when the term only matches.
std::string print_actions(const policy::Actions& a) {
  std::ostringstream o;
  auto comm = [](uint32_t c) { return quoted(bgp::community_to_string(c)); };
  auto large = [](const bgp::LargeCommunity& c) {
    return quoted(bgp::large_community_to_string(c));
  };
  auto num = [](uint32_t v) { return std::to_string(v); };
  if (a.verdict != policy::Actions::Verdict::none)
    o << "        action: " << (a.verdict == policy::Actions::Verdict::accept ? "accept" : "reject")
      << "\n";
  for (const auto& pp : a.prepend) {
    if (pp.asn == 0) {
      o << "        prepend: " << pp.count << "\n";
    } else {
      o << "        prepend-as: {asn: " << pp.asn << ", count: " << pp.count << "}\n";
    }
  }
  if (!a.remove_asns.empty()) o << "        remove-as: " << join(strs(a.remove_asns, num)) << "\n";
  if (!a.replace_asns.empty())
    o << "        replace-as: " << join(strs(a.replace_asns, num)) << "\n";
  if (a.remove_private_asns) o << "        remove-private-as: true\n";
  if (a.set_communities)
    o << "        set-communities: " << join(strs(*a.set_communities, comm)) << "\n";
  if (!a.add_communities.empty())
    o << "        add-communities: " << join(strs(a.add_communities, comm)) << "\n";
  if (!a.remove_communities.empty())
    o << "        remove-communities: " << join(strs(a.remove_communities, comm)) << "\n";
  if (a.set_large_communities)
    o << "        set-large-communities: " << join(strs(*a.set_large_communities, large)) << "\n";
  if (!a.add_large_communities.empty())
    o << "        add-large-communities: " << join(strs(a.add_large_communities, large)) << "\n";
  if (!a.remove_large_communities.empty())
    o << "        remove-large-communities: " << join(strs(a.remove_large_communities, large))
      << "\n";
  if (a.med) o << "        med: " << *a.med << "\n";
  if (a.local_pref) o << "        local-pref: " << *a.local_pref << "\n";
  if (a.next_hop_self) o << "        next-hop: self\n";
  if (a.next_hop) o << "        next-hop: " << a.next_hop->to_string() << "\n";
  return o.str();
}

}  // namespace

std::map<std::string, policy::Policy> read_policies(const YamlReader& r, const YAML::Node& n) {
  std::map<std::string, policy::Policy> out;
  if (!n.IsMap()) r.fail(n, "policies", "expected a map from policy name to a list of terms");
  for (auto it = n.begin(); it != n.end(); ++it) {
    std::string name = r.string(it->first, "policies");
    std::string path = "policies." + name;
    if (name == kAcceptPolicy || name == kRejectPolicy)
      r.fail(it->first, path, "'" + name + "' is built in and cannot be redefined");
    if (!it->second.IsSequence()) r.fail(it->second, path, "expected a list of terms");
    policy::Policy p{name, {}, false};
    for (size_t i = 0; i < it->second.size(); ++i) {
      const YAML::Node& t = it->second[i];
      std::string tp = path + "[" + std::to_string(i) + "]";
      r.require_map(t, tp);
      r.only_keys(t, tp, {"name", "match", "then"});
      policy::Term term;
      term.name = t["name"] ? r.string(t["name"], tp + ".name") : "term-" + std::to_string(i + 1);
      if (t["match"]) term.match = read_match(r, t["match"], tp + ".match");
      if (!t["then"]) r.fail(t, tp, "missing required key 'then'");
      term.actions = read_actions(r, t["then"], tp + ".then");
      p.terms.push_back(std::move(term));
    }
    out.emplace(name, std::move(p));
  }
  return out;
}

rib::DecisionConfig read_decision(const YamlReader& r, const YAML::Node& n) {
  r.require_map(n, "decision");
  r.only_keys(n, "decision", {"always-compare-med", "ignore-med", "tie-break", "multipath"});
  rib::DecisionConfig d;
  if (n["always-compare-med"])
    d.always_compare_med = r.boolean(n["always-compare-med"], "decision.always-compare-med");
  if (n["ignore-med"]) d.ignore_med = r.boolean(n["ignore-med"], "decision.ignore-med");
  if (n["multipath"]) d.multipath = r.integer(n["multipath"], "decision.multipath", 1, 64);
  if (auto t = n["tie-break"]) {
    if (!t.IsSequence()) r.fail(t, "decision.tie-break", "expected a list");
    d.tie_breaks.clear();
    for (size_t i = 0; i < t.size(); ++i) {
      std::string p = "decision.tie-break[" + std::to_string(i) + "]";
      auto tb = rib::parse_tie_break(r.string(t[i], p));
      if (!tb) r.fail(t[i], p, "expected one of oldest, router-id, lowest-next-hop, peer-address");
      d.tie_breaks.push_back(*tb);
    }
  }
  return d;
}

std::string print_decision(const rib::DecisionConfig& d) {
  std::ostringstream o;
  o << "decision:\n  always-compare-med: " << (d.always_compare_med ? "true" : "false")
    << "\n  ignore-med: " << (d.ignore_med ? "true" : "false") << "\n  multipath: " << d.multipath
    << "\n  tie-break: "
    << join(strs(d.tie_breaks, [](rib::TieBreak t) { return std::string(rib::to_string(t)); }))
    << "\n";
  return o.str();
}

std::string print_policies(const std::map<std::string, policy::Policy>& policies) {
  std::ostringstream o;
  size_t own = 0;
  for (const auto& [name, p] : policies) own += name != kAcceptPolicy && name != kRejectPolicy;
  o << "policies:" << (own ? "" : " {}") << "\n";
  auto comm = [](uint32_t c) { return quoted(bgp::community_to_string(c)); };
  auto large = [](const bgp::LargeCommunity& c) {
    return quoted(bgp::large_community_to_string(c));
  };
  auto num = [](uint32_t v) { return std::to_string(v); };
  for (const auto& [name, p] : policies) {
    if (name == kAcceptPolicy || name == kRejectPolicy) continue;
    o << "  " << name << ":\n";
    for (const auto& t : p.terms) {
      const auto& m = t.match;
      o << "    - name: " << quoted(t.name) << "\n";
      if (!m.empty()) {
        o << "      match:\n";
        if (!m.prefixes.empty())
          o << "        prefix: "
            << join(strs(m.prefixes,
                         [](const policy::PrefixMatch& pm) {
                           return quoted(pm.prefix.to_string() + " ge " + std::to_string(pm.ge) +
                                         " le " + std::to_string(pm.le));
                         }))
            << "\n";
        if (!m.as_path_contains.empty())
          o << "        as-path-contains: " << join(strs(m.as_path_contains, num)) << "\n";
        if (m.origin_as) o << "        origin-as: " << *m.origin_as << "\n";
        if (m.neighbour_as) o << "        neighbour-as: " << *m.neighbour_as << "\n";
        if (m.as_path_length_min || m.as_path_length_max) {
          o << "        as-path-length: {";
          if (m.as_path_length_min) o << "min: " << *m.as_path_length_min;
          if (m.as_path_length_min && m.as_path_length_max) o << ", ";
          if (m.as_path_length_max) o << "max: " << *m.as_path_length_max;
          o << "}\n";
        }
        if (!m.communities.empty())
          o << "        community: " << join(strs(m.communities, comm)) << "\n";
        if (!m.large_communities.empty())
          o << "        large-community: " << join(strs(m.large_communities, large)) << "\n";
        if (!m.next_hops.empty())
          o << "        next-hop: "
            << join(strs(m.next_hops, [](const Prefix& x) { return quoted(x.to_string()); }))
            << "\n";
        if (!m.peers.empty())
          o << "        peer: "
            << join(strs(m.peers, [](const IpAddress& x) { return quoted(x.to_string()); }))
            << "\n";
      }
      std::string then = print_actions(t.actions);
      o << "      then:" << (then.empty() ? " {}\n" : "\n" + then);
    }
  }
  return o.str();
}

}  // namespace anycastd::config
