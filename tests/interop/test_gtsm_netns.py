"""GTSM (RFC 5082) across real routers: five network namespaces this test creates, all
addressed from 198.18.27.0/24. The NVA has a directly connected neighbour ("near") and
one two routed hops away ("far", behind the routers r1 and r2), every session with
`ttl-security: true` on both ends. First, without GTSM toward far, both sessions come up:
the routing works. Then a reload turns GTSM on for far on both ends: a segment sent with
TTL 255 reaches the other end with 253, below the 254 the kernel lets through (IP_MINTTL),
so that session goes down and stays down while near's, untouched by the reload, stays up.
A reload without GTSM brings far back. Every namespace is removed at the end."""
import json
import os
import signal
import subprocess
import sys
import time

from harness import ANYCASTCTL, ANYCASTD, VIP4, Proc, check, run_test, wait_until

TAG = os.getpid()
SPACES = {n: f"anycastd-gtsm-{n}-{TAG}" for n in ("nva", "near", "r1", "r2", "far")}
# (namespace, address) pairs on each /30 link
LINKS = [
    (("nva", "198.18.27.1"), ("near", "198.18.27.2")),
    (("nva", "198.18.27.5"), ("r1", "198.18.27.6")),
    (("r1", "198.18.27.9"), ("r2", "198.18.27.10")),
    (("r2", "198.18.27.13"), ("far", "198.18.27.14")),
]
ROUTES = {
    "nva": [("198.18.27.12/30", "198.18.27.6")],
    "r1": [("198.18.27.12/30", "198.18.27.10")],
    "r2": [("198.18.27.0/28", "198.18.27.9")],
    "far": [("198.18.27.0/28", "198.18.27.13")],
}
NVA_NEAR, NEAR, NVA_FAR, FAR = "198.18.27.1", "198.18.27.2", "198.18.27.5", "198.18.27.14"
PORT = 17927
GTSM = "    ttl-security: true\n"


def ip(ns, *args):
    subprocess.run(["ip", "-n", SPACES[ns], *args], check=True, capture_output=True)


def build():
    for ns in SPACES.values():
        subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True)
    for n in SPACES:
        ip(n, "link", "set", "lo", "up")
    for i, ((a, a_addr), (b, b_addr)) in enumerate(LINKS):
        ip(a, "link", "add", f"g{i}a", "type", "veth", "peer", "name", f"g{i}b", "netns",
           SPACES[b])
        ip(a, "addr", "add", f"{a_addr}/30", "dev", f"g{i}a")
        ip(b, "addr", "add", f"{b_addr}/30", "dev", f"g{i}b")
        ip(a, "link", "set", f"g{i}a", "up")
        ip(b, "link", "set", f"g{i}b", "up")
    for n, routes in ROUTES.items():
        for dst, via in routes:
            ip(n, "route", "add", dst, "via", via)
    for r in ("r1", "r2"):
        subprocess.run(["ip", "netns", "exec", SPACES[r], "sysctl", "-qw", "net.ipv4.ip_forward=1"],
                       check=True, capture_output=True)


def peer_block(addr, local, asn, passive, gtsm):
    return f"""  - address: {addr}
    remote-as: {asn}
    port: {PORT}
    passive: {str(passive).lower()}
    hold-time: 9
    connect-retry: 1
    local-address: {local}
{GTSM if gtsm else ""}"""


def write(path, router_id, asn, listen, peers, sock):
    with open(path, "w") as f:
        f.write(f"""router-id: {router_id}
local-as: {asn}
listen: {{address: {listen}, port: {PORT}}}
control: {{socket: {sock}}}
peers:
{peers}vips:
  - prefix: {VIP4}
""" if asn == 65010 else f"""router-id: {router_id}
local-as: {asn}
listen: {{address: {listen}, port: {PORT}}}
control: {{socket: {sock}}}
peers:
{peers}""")


def peers_of(sock):
    out = subprocess.run([ANYCASTCTL, "-s", sock, "--json", "show", "peers"], capture_output=True,
                         text=True, timeout=5)
    if out.returncode != 0:
        return {}
    return {p["address"]: p for p in json.loads(out.stdout)["peers"]}


def state(sock, addr):
    return peers_of(sock).get(addr, {}).get("state")


def scenario(work):
    build()
    socks = {n: os.path.join(work, f"{n}.sock") for n in ("nva", "near", "far")}
    cfgs = {n: os.path.join(work, f"{n}.yaml") for n in ("nva", "near", "far")}

    def configure(far_gtsm):
        write(cfgs["nva"], NVA_NEAR, 65010, "0.0.0.0",
              peer_block(NEAR, NVA_NEAR, 65001, False, True) +
              peer_block(FAR, NVA_FAR, 65002, False, far_gtsm), socks["nva"])
        write(cfgs["near"], NEAR, 65001, NEAR, peer_block(NVA_NEAR, NEAR, 65010, True, True),
              socks["near"])
        write(cfgs["far"], FAR, 65002, FAR, peer_block(NVA_FAR, FAR, 65010, True, far_gtsm),
              socks["far"])

    configure(far_gtsm=False)
    procs = {n: Proc(f"anycastd-{n}", ["ip", "netns", "exec", SPACES[n], ANYCASTD, "-c", cfgs[n],
                                       "--log-level", "debug"], os.path.join(work, f"{n}.log"))
             for n in ("nva", "near", "far")}
    wait_until(lambda: state(socks["nva"], NEAR) == "Established", 30, "near's session (GTSM)")
    wait_until(lambda: state(socks["nva"], FAR) == "Established", 30,
               "far's session without GTSM: the routers forward")
    near_ups = peers_of(socks["nva"])[NEAR]["established_count"]

    print("== GTSM on for far, two routed hops away", flush=True)
    configure(far_gtsm=True)
    for n in ("nva", "far"):
        procs[n].signal(signal.SIGHUP)
    wait_until(lambda: state(socks["nva"], FAR) != "Established", 10, "far's session reset")
    time.sleep(12)  # more than a hold time and several connect retries
    p = peers_of(socks["nva"])
    print(json.dumps(p[FAR]), flush=True)
    check(p[FAR]["state"] != "Established" and state(socks["far"], NVA_FAR) != "Established",
          "far refused with GTSM: its segments arrive with TTL 253")
    check(p[FAR]["established_count"] == 0, "far never came up with GTSM since the reload")
    check("ttl-security" in p[FAR]["last_error"], "show peers says why: " + p[FAR]["last_error"])
    check(p[NEAR]["state"] == "Established" and p[NEAR]["established_count"] == near_ups,
          "near, directly connected with GTSM, kept its session through the reload")

    print("== GTSM off again", flush=True)
    configure(far_gtsm=False)
    for n in ("nva", "far"):
        procs[n].signal(signal.SIGHUP)
    wait_until(lambda: state(socks["nva"], FAR) == "Established", 30, "far's session back")


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root for its network namespaces")
        return 77
    return run_test("gtsm_netns", scenario,
                    cleanup=lambda: [subprocess.run(["ip", "netns", "del", ns], capture_output=True)
                                     for ns in SPACES.values()])


if __name__ == "__main__":
    sys.exit(main())
