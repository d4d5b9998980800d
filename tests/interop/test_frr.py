"""anycastd against FRR bgpd (no zebra): both directions, exact attributes, 4-octet ASN
and large community back, SIGTERM withdraw timing. FRR resets a session whose UPDATE
carries a 127.x next hop, so anycastd announces a 198.18.0.0/15 one here."""
import json
import os

import harness
from harness import PEER_AS, Proc, sh


class Frr:
    name, needs = "frr", ["/usr/lib/frr/bgpd", "vtysh"]
    next_hop_v4 = "198.18.2.1"
    password = None  # TCP-MD5, for test_md5.py
    ttl_security = False  # GTSM, for test_gtsm.py

    def start(self, work, addr, port, nva, nva_port, peer_passive):
        self.vty = os.path.join(work, "vty")
        os.makedirs(self.vty, exist_ok=True)
        conf = os.path.join(work, "frr.conf")
        n = f" neighbor {nva}"
        with open(conf, "w") as f:
            f.write(f"""frr defaults traditional
hostname peer
log file {work}/frr-daemon.log
router bgp {PEER_AS}
 bgp router-id 198.18.2.2
 no bgp ebgp-requires-policy
 no bgp network import-check
{n} remote-as {harness.NVA_AS}
{n} port {nva_port}
{n} update-source {addr}
{n} disable-connected-check
{n} timers connect 1
{n + " passive" if peer_passive else ""}
{f"{n} password {self.password}" if self.password else ""}
{f"{n} ttl-security hops 1" if self.ttl_security else ""}
 address-family ipv4 unicast
  network {harness.PEER_ROUTE} route-map SET
 exit-address-family
 address-family ipv6 unicast
 {n} activate
 exit-address-family
route-map SET permit 10
 set as-path prepend 4200000001
 set large-community {PEER_AS}:7:8
""")
        self.proc = Proc("bgpd", ["/usr/lib/frr/bgpd", "-Z", "-S", "-n", "-l", addr, "-p", str(port),
                                  "-f", conf, "--vty_socket", self.vty, "-P", "0",
                                  "-i", os.path.join(work, "bgpd.pid")],
                         os.path.join(work, "frr.log"))

    def stop(self):
        self.proc.stop()

    def expect_next_hop_v4(self, nva):
        return self.next_hop_v4

    def route(self, prefix):
        afi = "ipv6" if ":" in prefix else "ipv4"
        out = sh(["vtysh", "--vty_socket", self.vty, "-c", f"show bgp {afi} unicast {prefix} json"])
        try:
            d = json.loads(out)
        except ValueError:
            return None
        paths = d.get("paths") or []
        if not paths:
            return None
        p = paths[0]
        return {
            "as_path": [int(x) for x in p["aspath"]["string"].split()],
            "next_hop": p["nexthops"][0]["ip"],
            "med": p.get("metric"),
            "communities": p.get("community", {}).get("string", "").split(),
            "large_communities": p.get("largeCommunity", {}).get("string", "").split(),
        }


if __name__ == "__main__":
    harness.main(Frr(), 2)
