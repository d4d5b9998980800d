"""Seed 003 with real route servers: BIRD plays the two regions' Azure Route Servers
(AS 65515). NVA 1 (anycastd, AS 65001) learns a spoke prefix from route server 1 and
passes it to NVA 2 (anycastd, AS 65002), which offers it to route server 2. Route server 2
must drop it as an AS-path loop while NVA 1 keeps 65515 in the path, and install it with
path 65002 65001 once NVA 1's export policy removes 65515."""
import os
import re
import sys
import time

import harness
from harness import Proc, check, sh, wait_until

NET = 6
RS1, RS2, NVA1, NVA2 = (f"127.0.{NET}.{i}" for i in (4, 5, 1, 2))
RS_PORT, NVA_PORT = 18000 + NET, 17900 + NET
SPOKE = "198.18.64.0/24"


def bird_conf(work):
    conf = os.path.join(work, "bird.conf")
    with open(conf, "w") as f:
        f.write(f"""router id 198.18.6.4;
protocol device {{}}
ipv4 table t1; ipv4 table t2;
protocol static spoke {{ ipv4 {{ table t1; }}; route {SPOKE} blackhole; }}
protocol bgp rs1 {{
  local {RS1} port {RS_PORT} as 65515; neighbor {NVA1} port {NVA_PORT} as 65001;
  strict bind on; multihop; passive on; error wait time 1,2;
  ipv4 {{ table t1; import all; export where net = {SPOKE}; next hop self; }};
}}
protocol bgp rs2 {{
  local {RS2} port {RS_PORT} as 65515; neighbor {NVA2} port {NVA_PORT} as 65002;
  strict bind on; multihop; passive on; error wait time 1,2;
  ipv4 {{ table t2; import all; export none; }};
}}
""")
    return conf


def nva_conf(work, name, asn, addr, peers, policies=""):
    path = os.path.join(work, f"{name}.yaml")
    with open(path, "w") as f:
        f.write(f"router-id: {addr}\nlocal-as: {asn}\n"
                f"listen: {{address: {addr}, port: {NVA_PORT}}}\n{policies}peers:\n{peers}")
    return path


def peer(local, addr, asn, port, imp, exp, passive=False):
    return (f"  - {{address: {addr}, remote-as: {asn}, port: {port}, local-address: {local}, "
            f"import: {imp}, export: {exp}, hold-time: 9, connect-retry: 1, "
            f"passive: {str(passive).lower()}}}\n")


def route(sock, table):
    out = sh(["birdc", "-s", sock, "show", "route", SPOKE, "table", table, "all"])
    if "BGP.as_path" not in out:
        return None
    return [int(x) for x in out.split("BGP.as_path:")[1].splitlines()[0].split()]


def log(work, name):
    with open(os.path.join(work, f"{name}.log")) as f:
        return f.read()


def run(work, rewrite):
    print(f"== AS-path rewrite {'on' if rewrite else 'off'}", flush=True)
    sock = os.path.join(work, "bird.ctl")
    Proc("bird", ["bird", "-f", "-c", bird_conf(work), "-s", sock], os.path.join(work, "bird.log"))
    policies = """policies:
  to-remote:
    - match: {as-path-contains: [65515]}
      then: {remove-as: [65515], action: accept}
    - then: accept
""" if rewrite else ""
    c1 = nva_conf(work, "nva1", 65001, NVA1,
                  peer(NVA1, RS1, 65515, RS_PORT, "accept", "reject") +
                  peer(NVA1, NVA2, 65002, NVA_PORT, "reject", "to-remote" if rewrite else "accept"),
                  policies)
    c2 = nva_conf(work, "nva2", 65002, NVA2,
                  peer(NVA2, NVA1, 65001, NVA_PORT, "accept", "reject", passive=True) +
                  peer(NVA2, RS2, 65515, RS_PORT, "reject", "accept"))
    for name, cfg in (("nva1", c1), ("nva2", c2)):
        open(os.path.join(work, f"{name}.log"), "w").close()
        Proc(name, [harness.ANYCASTD, "-c", cfg, "--log-level", "debug"], os.path.join(work, f"{name}.log"))
    try:
        r1 = wait_until(lambda: re.findall(r"received " + SPOKE + r" path \[([^\]]*)\]",
                                                   log(work, "nva1")), 30, "NVA 1 learning the spoke")
        check(r1[-1] == "65515", f"NVA 1 learned {SPOKE} from route server 1 with path [{r1[-1]}]")
        sent = wait_until(lambda: re.findall(
            rf"peer {RS2} AS65515: announced {SPOKE} path \[([^\]]*)\]", log(work, "nva2")), 30,
            "NVA 2 offering the spoke to route server 2")
        want = "65002 65001" if rewrite else "65002 65001 65515"
        check(sent[-1] == want, f"NVA 2 offered path [{sent[-1]}] to route server 2")
        if rewrite:
            path = wait_until(lambda: route(sock, "t2"), 10, "route server 2 installing the spoke")
            check(path == [65002, 65001], f"route server 2 installed {SPOKE} with path {path}")
        else:
            time.sleep(1.0)  # the UPDATE is on the wire; give BIRD ample time to act on it
            check(route(sock, "t2") is None, "route server 2 dropped the spoke (AS-path loop)")
            proto = sh(["birdc", "-s", sock, "show", "protocols", "rs2"])
            check("Established" in proto, "route server 2 kept the session up")
    finally:
        Proc.stop_all()


def main():
    return harness.run_test("transit", lambda work: [run(work, rw) for rw in (False, True)],
                            needs=("bird", "birdc"))


if __name__ == "__main__":
    sys.exit(main())
