"""anycastd against BIRD 2: both directions, exact attributes, 4-octet ASN and large
community back, SIGTERM withdraw timing."""
import os
import re

import harness
from harness import PEER_AS, Proc, sh


class Bird:
    name, needs = "bird", ["bird", "birdc"]
    password = None  # TCP-MD5, for test_md5.py
    ttl_security = False  # GTSM, for test_gtsm.py
    bfd = False  # for test_bfd.py: 300 ms x 3, as anycastd's default

    def start(self, work, addr, port, nva, nva_port, peer_passive):
        self.sock = os.path.join(work, "bird.ctl")
        conf = os.path.join(work, "bird.conf")
        with open(conf, "w") as f:
            f.write(f"""router id 198.18.1.2;
protocol device {{}}
{"protocol bfd { multihop { min rx interval 300 ms; min tx interval 300 ms; multiplier 3; }; }" if self.bfd else ""}
ipv4 table t4; ipv6 table t6;
protocol static s4 {{ ipv4 {{ table t4; }}; route {harness.PEER_ROUTE} blackhole; }}
protocol bgp nva {{
  local {addr} port {port} as {PEER_AS};
  neighbor {nva} port {nva_port} as {harness.NVA_AS};
  strict bind on; {"multihop 1; ttl security on;" if self.ttl_security else "multihop;"}
  error wait time 1,2; connect retry time 1;
  {"passive on;" if peer_passive else ""}
  {f'password "{self.password}";' if self.password else ""}
  {"bfd on;" if self.bfd else ""}
  ipv4 {{ table t4; import all; export filter {{
    if net = {harness.PEER_ROUTE} then {{
      bgp_path.prepend(4200000001); bgp_large_community.add(({PEER_AS}, 7, 8)); accept; }}
    reject; }}; }};
  ipv6 {{ table t6; import all; export none; }};
}}
""")
        self.proc = Proc("bird", ["bird", "-f", "-c", conf, "-s", self.sock], os.path.join(work, "bird.log"))

    def stop(self):
        self.proc.stop()

    def expect_next_hop_v4(self, nva):
        return nva

    def route(self, prefix):
        table = "t6" if ":" in prefix else "t4"
        out = sh(["birdc", "-s", self.sock, "show", "route", prefix, "table", table, "all"])
        if "BGP.as_path" not in out:
            return None
        get = lambda k: (re.search(rf"BGP\.{k}: (.*)", out) or [None, ""])[1].strip()
        return {
            "as_path": [int(x) for x in get("as_path").split()],
            "next_hop": get("next_hop").split()[0],
            "med": int(get("med")) if get("med") else None,
            "communities": [c.strip("()").replace(",", ":") for c in get("community").split()],
            "large_communities": [re.sub(r"[() ]", "", c).replace(",", ":")
                                  for c in re.findall(r"\([^)]*\)", get("large_community"))],
        }


if __name__ == "__main__":
    harness.main(Bird(), 1)
