"""A peer without 4-octet ASNs (BIRD, `enable as4 off`) and a route too long for it.

BIRD's `learned` session (4-octet ASNs) sends anycastd two routes: one with a path of ~1,000
ASNs, some of them 4-octet, and one with a short path. anycastd passes both on to BIRD's
`down` session, a 2-octet peer: there the long path needs AS_PATH with AS_TRANS plus an
AS4_PATH with the real ASNs, ~6 kB of attributes that no 4,096-byte UPDATE can hold. RFC 4271
says such a route is not advertised; a peer that got the oversized message would reset the
session (Bad Message Length). So: `legacy` stays Established, holds the short route with the
right path, never the long one, and anycastd's log says why it held that one back."""
import os
import re
import sys
import time

import harness
from harness import Proc, check, sh, wait_until

NET = 20
UP, DOWN, NVA, NVA_LEGACY = (f"127.0.{NET}.{i}" for i in (4, 5, 1, 2))
BIRD_PORT, NVA_PORT = 18000 + NET, 17900 + NET
LONG, SHORT = "198.18.70.0/24", "198.18.71.0/24"
LONG_ASNS = [4200000001 if i % 7 == 0 else 64600 + i % 50 for i in range(700)]


def bird_conf(work):
    prepends = "".join(f"bgp_path.prepend({a}); " for a in LONG_ASNS)
    conf = os.path.join(work, "bird.conf")
    with open(conf, "w") as f:
        f.write(f"""router id 198.18.20.4;
protocol device {{}}
ipv4 table t1; ipv4 table t2;
protocol static spokes {{ ipv4 {{ table t1; }}; route {LONG} blackhole; route {SHORT} blackhole; }}
protocol bgp learned {{
  local {UP} port {BIRD_PORT} as 65515; neighbor {NVA} port {NVA_PORT} as 65010;
  strict bind on; multihop; passive on; error wait time 1,2;
  ipv4 {{ table t1; import none; export filter {{
    if net = {LONG} then {{ {prepends}accept; }}
    if net = {SHORT} then {{ bgp_path.prepend(4200000002); accept; }}
    reject; }}; next hop self; }};
}}
protocol bgp legacy {{
  local {DOWN} port {BIRD_PORT} as 65020; neighbor {NVA_LEGACY} port {NVA_PORT} as 65010;
  strict bind on; multihop; passive on; error wait time 1,2; enable as4 off;
  ipv4 {{ table t2; import all; export none; }};
}}
""")
    return conf


# BIRD takes one session per neighbour address: anycastd meets the 2-octet peer from a
# second address of its own.
def nva_conf(work):
    path = os.path.join(work, "nva.yaml")
    peer = ("  - {{address: {a}, remote-as: {asn}, port: {p}, local-address: {l}, import: {i}, "
            "export: {e}, hold-time: 9, connect-retry: 1}}\n")
    with open(path, "w") as f:
        f.write(f"router-id: {NVA}\nlocal-as: 65010\n"
                f"listen: {{address: {NVA}, port: {NVA_PORT}}}\n"
                "policies:\n  all:\n    - then: accept\npeers:\n"
                + peer.format(a=UP, asn=65515, p=BIRD_PORT, l=NVA, i="all", e="reject")
                + peer.format(a=DOWN, asn=65020, p=BIRD_PORT, l=NVA_LEGACY, i="reject", e="all"))
    return path


def route(sock, prefix):
    out = sh(["birdc", "-s", sock, "show", "route", prefix, "table", "t2", "all"])
    if "BGP.as_path" not in out:
        return None
    return [int(x) for x in out.split("BGP.as_path:")[1].splitlines()[0].split()]


def run(work):
    sock = os.path.join(work, "bird.ctl")
    Proc("bird", ["bird", "-f", "-c", bird_conf(work), "-s", sock], os.path.join(work, "bird.log"))
    log = os.path.join(work, "nva.log")
    Proc("nva", [harness.ANYCASTD, "-c", nva_conf(work)], log)
    try:
        short = wait_until(lambda: route(sock, SHORT), 30, "the 2-octet peer receiving the short route")
        # AS4_PATH merged back by BIRD: the real 4-octet ASN, not AS_TRANS (23456).
        check(short == [65010, 65515, 4200000002],
              f"the 2-octet peer holds {SHORT} with path {short}")
        held = wait_until(lambda: re.findall(
            rf"peer {re.escape(DOWN)} AS65020: not announcing 1 prefixes \({re.escape(LONG)}\): "
            r"its path attributes take (\d+) bytes", open(log).read()), 30,
            "anycastd saying why it held the long route back")
        check(int(held[-1]) > 4096, f"anycastd logged attributes of {held[-1]} bytes for {LONG}")
        time.sleep(2.0)  # anything oversized would have reset the session by now
        proto = sh(["birdc", "-s", sock, "show", "protocols", "legacy"])
        check("Established" in proto, "the 2-octet peer's session stayed up")
        check(route(sock, LONG) is None, f"the 2-octet peer never received {LONG}")
        bird_log = open(os.path.join(work, "bird.log")).read()
        check("Bad message length" not in bird_log and "Invalid message length" not in bird_log,
              "BIRD saw no message over 4,096 bytes")
    finally:
        Proc.stop_all()


def main():
    return harness.run_test("two_octet", run, needs=("bird", "birdc"))


if __name__ == "__main__":
    sys.exit(main())
