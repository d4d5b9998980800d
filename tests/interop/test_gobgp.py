"""anycastd against GoBGP: both directions, exact attributes, 4-octet ASN and large
community back, SIGTERM withdraw timing. GoBGP treats 127.x next hops as unusable, so
next hops here come from 198.18.0.0/15 (nothing is ever sent to them)."""
import json
import os

import harness
from harness import PEER_AS, Proc, sh, wait_until


class GoBgp:
    name, needs = "gobgp", ["gobgpd", "gobgp"]
    next_hop_v4 = "198.18.3.1"
    api_port = 30313  # below the ephemeral range (32768-60999), so no connect can hold it
    password = None  # TCP-MD5, for test_md5.py

    def start(self, work, addr, port, nva, nva_port, peer_passive):
        conf = os.path.join(work, "gobgpd.toml")
        with open(conf, "w") as f:
            f.write(f"""[global.config]
  as = {PEER_AS}
  router-id = "198.18.3.2"
  port = {port}
  local-address-list = ["{addr}"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "{nva}"
    peer-as = {harness.NVA_AS}
{f'    auth-password = "{self.password}"' if self.password else ""}
  [neighbors.timers.config]
    connect-retry = 1
  [neighbors.transport.config]
    passive-mode = {str(peer_passive).lower()}
    local-address = "{addr}"
    remote-port = {nva_port}
  [neighbors.ebgp-multihop.config]
    enabled = true
    multihop-ttl = 2
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
""")
        self.proc = Proc("gobgpd", ["gobgpd", "-f", conf, "--api-hosts", f"127.0.0.1:{self.api_port}",
                                    "--pprof-disable", "-p"], os.path.join(work, "gobgpd.log"))
        wait_until(lambda: "Peer" in sh(["gobgp", "-p", str(self.api_port), "neighbor"]), 20,
                   "gobgpd API up")
        sh(["gobgp", "-p", str(self.api_port), "global", "rib", "add", "-a", "ipv4",
            harness.PEER_ROUTE, "nexthop", "198.18.3.2", "aspath", "4200000001",
            "large-community", f"{PEER_AS}:7:8"])

    def stop(self):
        self.proc.stop()

    def expect_next_hop_v4(self, nva):
        return self.next_hop_v4

    def route(self, prefix):
        afi = "ipv6" if ":" in prefix else "ipv4"
        out = sh(["gobgp", "-p", str(self.api_port), "global", "rib", "-a", afi, prefix, "-j"])
        try:
            d = json.loads(out)
        except ValueError:
            return None
        paths = d.get(prefix) if isinstance(d, dict) else None
        if not paths:
            return None
        r = {"as_path": [], "next_hop": None, "med": None, "communities": [], "large_communities": []}
        for a in paths[0]["attrs"]:
            t = a["type"]
            if t == 2:
                r["as_path"] = [asn for seg in a["as_paths"] for asn in seg["asns"]]
            elif t == 3:
                r["next_hop"] = a["nexthop"]
            elif t == 4:
                r["med"] = a["metric"]
            elif t == 8:
                r["communities"] = [f"{c >> 16}:{c & 0xFFFF}" for c in a["communities"]]
            elif t == 14:
                r["next_hop"] = a["nexthop"]
            elif t == 32:
                r["large_communities"] = [f"{c['ASN']}:{c['LocalData1']}:{c['LocalData2']}"
                                          for c in a["value"]]
        return r


if __name__ == "__main__":
    harness.main(GoBgp(), 3)
