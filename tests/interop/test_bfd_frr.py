"""BFD against FRR's bfdd, across a veth link between two network namespaces this test
creates (anycastd in one at 198.18.25.1/30, FRR in the other at .2): FRR's BGP hands its
BFD peers to bfdd through zebra, and zebra must see the session's addresses on a real
interface, which loopback tests cannot give. Nothing outside the namespaces is touched. Checked: bfdd shows the
single-hop session (RFC 5881: UDP 3784, TTL 255) Up with 300 ms x 3 both ways and anycastd
agrees; a frozen anycastd (SIGSTOP) loses the session and its VIP at FRR within BFD's
detection time rather than the 9 s hold time; SIGCONT brings them back."""
import json
import os
import signal
import subprocess
import sys
import time

from harness import ANYCASTCTL, ANYCASTD, VIP4, Proc, check, run_test, sh, wait_until

NS = f"anycastd-bfd-{os.getpid()}"  # anycastd's side
PEER_NS = f"anycastd-bfdp-{os.getpid()}"  # FRR's side
NVA, THEM = "198.18.25.1", "198.18.25.2"
NVA_PORT, PEER_PORT = 17925, 18025
FRR = "/usr/lib/frr"


def ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True)


def vtysh(vty, cmd):
    return sh(["vtysh", "--vty_socket", vty, "-c", cmd])


def frr_bfd(vty):
    try:
        peers = json.loads(vtysh(vty, "show bfd peers json"))
    except ValueError:
        return None
    return next((p for p in peers if p.get("peer") == NVA), None)


def frr_route(vty):
    try:
        d = json.loads(vtysh(vty, f"show bgp ipv4 unicast {VIP4} json"))
    except ValueError:
        return None
    return (d.get("paths") or [None])[0]


def show_bfd(sock):
    out = subprocess.run([ANYCASTCTL, "-s", sock, "--json", "show", "bfd"], capture_output=True,
                         text=True, timeout=5)
    return json.loads(out.stdout)["bfd"] if out.returncode == 0 else []


def scenario(work):
    for ns in (NS, PEER_NS):
        ip("netns", "add", ns)
        ip("-n", ns, "link", "set", "lo", "up")
    ip("-n", NS, "link", "add", "bfd0", "type", "veth", "peer", "name", "bfd1", "netns", PEER_NS)
    ip("-n", NS, "addr", "add", f"{NVA}/30", "dev", "bfd0")
    ip("-n", PEER_NS, "addr", "add", f"{THEM}/30", "dev", "bfd1")
    ip("-n", NS, "link", "set", "bfd0", "up")
    ip("-n", PEER_NS, "link", "set", "bfd1", "up")
    os.chmod(work, 0o777)  # FRR's daemons drop to the frr user
    vty = os.path.join(work, "vty")
    os.makedirs(vty, mode=0o777)
    os.chmod(vty, 0o777)
    conf = os.path.join(work, "frr.conf")
    with open(conf, "w") as f:
        f.write(f"""frr defaults traditional
hostname peer
log file {work}/frr-daemon.log
bfd
 profile fast
  receive-interval 300
  transmit-interval 300
  detect-multiplier 3
router bgp 4200000002
 bgp router-id {THEM}
 no bgp ebgp-requires-policy
 neighbor {NVA} remote-as 65010
 neighbor {NVA} port {NVA_PORT}
 neighbor {NVA} update-source {THEM}
 neighbor {NVA} timers connect 1
 neighbor {NVA} passive
 neighbor {NVA} bfd
 neighbor {NVA} bfd profile fast
""")
    os.chmod(conf, 0o644)
    zs = os.path.join(work, "zserv.api")
    common = ["-z", zs, "--vty_socket", vty, "-f", conf]
    netns = ["ip", "netns", "exec", PEER_NS]
    Proc("zebra", netns + [f"{FRR}/zebra", *common, "-i", f"{work}/zebra.pid"],
         os.path.join(work, "zebra.log"))
    wait_until(lambda: os.path.exists(zs), 10, "zebra's socket")
    Proc("bfdd", netns + [f"{FRR}/bfdd", *common, "-i", f"{work}/bfdd.pid",
                          "--bfdctl", f"{work}/bfdd.sock"], os.path.join(work, "bfdd.log"))
    Proc("bgpd", netns + [f"{FRR}/bgpd", *common, "-n", "-l", THEM, "-p", str(PEER_PORT), "-P", "0",
                          "-i", f"{work}/bgpd.pid"], os.path.join(work, "bgpd.log"))

    sock = os.path.join(work, "anycastd.sock")
    cfg = os.path.join(work, "anycastd.yaml")
    with open(cfg, "w") as f:
        f.write(f"""router-id: {NVA}
local-as: 65010
listen: {{address: {NVA}, port: {NVA_PORT}}}
control: {{socket: {sock}}}
peers:
  - address: {THEM}
    remote-as: 4200000002
    port: {PEER_PORT}
    hold-time: 9
    connect-retry: 1
    local-address: {NVA}
    bfd: true
vips:
  - prefix: {VIP4}
""")
    a = Proc("anycastd", ["ip", "netns", "exec", NS, ANYCASTD, "-c", cfg, "--log-level", "debug"],
             os.path.join(work, "anycastd.log"))
    wait_until(lambda: frr_route(vty), 40, f"FRR holding {VIP4}")
    wait_until(lambda: (frr_bfd(vty) or {}).get("status") == "up", 20, "bfdd's session up")
    p = frr_bfd(vty)
    print(json.dumps(p), flush=True)
    check(p["remote-receive-interval"] == 300 and p["remote-transmit-interval"] == 300
          and p["remote-detect-multiplier"] == 3, "bfdd got anycastd's 300 ms x 3")
    check(p["receive-interval"] == 300 and p["transmit-interval"] == 300, "bfdd's own 300 ms")
    s = show_bfd(sock)[0]
    check(s["state"] == "Up" and s["remote_state"] == "Up", f"anycastd's BFD Up: {s}")
    check(s["tx_interval_ms"] == 300 and s["detection_time_ms"] == 900,
          f"anycastd negotiated 300 ms, detection 900 ms: {s}")

    a.signal(signal.SIGSTOP)
    frozen = time.monotonic()
    try:
        wait_until(lambda: frr_route(vty) is None, 5, "FRR dropping the frozen NVA's VIP")
        gone = time.monotonic() - frozen
        print(f"VIP gone at FRR {gone:.2f} s after SIGSTOP", flush=True)
        check(gone < 2.0, f"within BFD's detection time, not the 9 s hold time ({gone:.2f} s)")
        check((frr_bfd(vty) or {}).get("status") == "down", "bfdd's session down")
    finally:
        a.signal(signal.SIGCONT)
    wait_until(lambda: frr_route(vty), 40, "VIP back at FRR after SIGCONT")
    wait_until(lambda: (frr_bfd(vty) or {}).get("status") == "up", 20, "bfdd's session up again")


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root for its network namespace")
        return 77
    return run_test("bfd_frr", scenario, needs=[f"{FRR}/bfdd", f"{FRR}/zebra", "vtysh"],
                    cleanup=lambda: [subprocess.run(["ip", "netns", "del", ns], capture_output=True)
                                     for ns in (NS, PEER_NS)])


if __name__ == "__main__":
    sys.exit(main())
