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

from frr_netns import FRR, FrrPeer
from harness import ANYCASTCTL, ANYCASTD, VIP4, Proc, check, run_test, wait_until

NVA, THEM = "198.18.25.1", "198.18.25.2"
NVA_PORT, PEER_PORT = 17925, 18025


def show_bfd(sock):
    out = subprocess.run([ANYCASTCTL, "-s", sock, "--json", "show", "bfd"], capture_output=True,
                         text=True, timeout=5)
    return json.loads(out.stdout)["bfd"] if out.returncode == 0 else []


def scenario(frr, work):
    frr.start(work, bfd=True)
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
    a = Proc("anycastd", frr.wrap([ANYCASTD, "-c", cfg, "--log-level", "debug"]),
             os.path.join(work, "anycastd.log"))
    wait_until(frr.route, 40, f"FRR holding {VIP4}")
    wait_until(frr.bfd_up, 20, "bfdd's session up")
    p = frr.bfd_peer()
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
        wait_until(lambda: frr.route() is None, 5, "FRR dropping the frozen NVA's VIP")
        gone = time.monotonic() - frozen
        print(f"VIP gone at FRR {gone:.2f} s after SIGSTOP", flush=True)
        check(gone < 2.0, f"within BFD's detection time, not the 9 s hold time ({gone:.2f} s)")
        check((frr.bfd_peer() or {}).get("status") == "down", "bfdd's session down")
    finally:
        a.signal(signal.SIGCONT)
    wait_until(frr.route, 40, "VIP back at FRR after SIGCONT")
    wait_until(frr.bfd_up, 20, "bfdd's session up again")


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root for its network namespace")
        return 77
    with FrrPeer(NVA, THEM, 65010, 4200000002, NVA_PORT, PEER_PORT) as frr:
        return run_test("bfd_frr", lambda work: scenario(frr, work),
                        needs=[f"{FRR}/bfdd", f"{FRR}/zebra", "vtysh"])


if __name__ == "__main__":
    sys.exit(main())
