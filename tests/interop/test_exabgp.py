"""anycastd against ExaBGP 4: both directions, exact attributes read from ExaBGP's parsed
JSON updates, 4-octet ASN and large community back, SIGTERM withdraw timing."""
import json
import os
import sys

import harness
from harness import PEER_AS, Proc


class ExaBgp:
    name, needs = "exabgp", ["exabgp"]
    next_hop_v4 = "198.18.4.1"
    password = None  # TCP-MD5, for test_md5.py

    def start(self, work, addr, port, nva, nva_port, peer_passive):
        self.updates = os.path.join(work, "updates.jsonl")
        open(self.updates, "w").close()
        logger = os.path.join(os.path.dirname(os.path.abspath(__file__)), "exabgp_log.py")
        conf = os.path.join(work, "exabgp.conf")
        with open(conf, "w") as f:
            f.write(f"""process log {{ run {sys.executable} {logger} {self.updates}; encoder json; }}
neighbor {nva} {{
  router-id 198.18.4.2;
  local-address {addr};
  local-as {PEER_AS};
  peer-as {harness.NVA_AS};
  hold-time 9;
  {f'md5-password "{self.password}";' if self.password else ""}
  {"passive;" if peer_passive else f"connect {nva_port};"}
  family {{ ipv4 unicast; ipv6 unicast; }}
  api {{ processes [ log ]; receive {{ parsed; update; }} }}
  static {{ route {harness.PEER_ROUTE} next-hop 198.18.4.2 as-path [ {PEER_AS} 4200000001 ] large-community [ {PEER_AS}:7:8 ]; }}
}}
""")
        env = {"exabgp.daemon.user": "root", "exabgp.daemon.drop": "false", "exabgp.api.cli": "false",
               "exabgp.log.destination": os.path.join(work, "exabgp-daemon.log"),
               "exabgp.tcp.bind": addr if peer_passive else "", "exabgp.tcp.port": str(port)}
        self.proc = Proc("exabgp", ["exabgp", conf], os.path.join(work, "exabgp.log"), env=env)

    def stop(self):
        self.proc.stop()

    def expect_next_hop_v4(self, nva):
        return self.next_hop_v4

    def table(self):
        """Replays ExaBGP's received updates into the routes it holds now."""
        held = {}
        with open(self.updates) as f:
            for line in f:
                try:
                    m = json.loads(line)
                except ValueError:
                    continue
                if m.get("type") == "state" and m["neighbor"].get("state") == "down":
                    held.clear()
                u = m.get("neighbor", {}).get("message", {}).get("update")
                if not u:
                    continue
                for fam in u.get("withdraw", {}).values():
                    for n in fam:
                        held.pop(n["nlri"], None)
                a = u.get("attribute", {})
                for fam in u.get("announce", {}).values():
                    for nh, nlris in fam.items():
                        for n in nlris:
                            held[n["nlri"]] = {
                                "as_path": a.get("as-path", []),
                                "next_hop": nh,
                                "med": a.get("med"),
                                "communities": [f"{x}:{y}" for x, y in a.get("community", [])],
                                "large_communities": [":".join(map(str, c))
                                                      for c in a.get("large-community", [])],
                            }
        return held

    def route(self, prefix):
        return self.table().get(prefix)


if __name__ == "__main__":
    harness.main(ExaBgp(), 4)
