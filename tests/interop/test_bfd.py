"""BFD against BIRD's `bfd` protocol on loopback. BIRD peers here with `multihop` (a
loopback neighbour is not on a directly connected interface), so its BFD is the multihop
kind (RFC 5883, UDP 4784) and anycastd's peer says `multihop` too. Checked: both sides
show the session Up with the negotiated 300 ms x 3; a frozen anycastd (SIGSTOP) loses the
session and its VIP at BIRD within BFD's detection time, far inside the 9 s hold time;
SIGCONT brings both back."""
import json
import os
import re
import signal
import subprocess
import sys
import time

from harness import ANYCASTCTL, VIP4, Anycastd, check, run_test, sh, wait_until
from test_bird import Bird

NET = 24
NVA, THEM = f"127.0.{NET}.1", f"127.0.{NET}.2"
NVA_PORT, PEER_PORT = 17900 + NET, 18000 + NET


def show_bfd(sock):
    out = subprocess.run([ANYCASTCTL, "-s", sock, "--json", "show", "bfd"], capture_output=True,
                         text=True, timeout=5)
    return json.loads(out.stdout)["bfd"] if out.returncode == 0 else []


def scenario(work):
    bird = Bird()
    bird.bfd = True
    bird.start(work, THEM, PEER_PORT, NVA, NVA_PORT, peer_passive=True)
    sock = os.path.join(work, "anycastd.sock")
    a = Anycastd(work, NVA, NVA_PORT, THEM, PEER_PORT, False,
                 extra="    multihop: 64\n    bfd: {min-rx: 300, min-tx: 300, multiplier: 3}\n",
                 control=sock)
    wait_until(lambda: a.sessions() >= 1, 30, "session established")
    wait_until(lambda: bird.route(VIP4), 30, f"BIRD holding {VIP4}")
    wait_until(lambda: any(s.get("state") == "Up" for s in show_bfd(sock)), 20,
               "anycastd's BFD session Up")
    s = show_bfd(sock)[0]
    check(s["remote_state"] == "Up", f"BIRD's side Up as anycastd sees it: {s}")
    check(s["tx_interval_ms"] == 300 and s["detection_time_ms"] == 900,
          f"negotiated 300 ms, detection 900 ms: {s}")
    check(s["remote_min_rx_ms"] == 300 and s["remote_multiplier"] == 3, f"BIRD's intervals: {s}")
    out = sh(["birdc", "-s", bird.sock, "show", "bfd", "sessions"])
    print(out, flush=True)
    row = next((l for l in out.splitlines() if l.strip().startswith(NVA)), "")
    check(" Up " in row, f"BIRD shows the BFD session Up: {row!r}")
    # BIRD's columns: IP address, Interface, State, Since, Interval, Timeout.
    check(re.search(r"0\.300\s+0\.900\s*$", row) is not None,
          f"BIRD negotiated 300 ms and 900 ms: {row!r}")

    a.proc.signal(signal.SIGSTOP)
    frozen = time.monotonic()
    try:
        wait_until(lambda: bird.route(VIP4) is None, 5, "BIRD dropping the frozen NVA's VIP")
        gone = time.monotonic() - frozen
        print(f"VIP gone at BIRD {gone:.2f} s after SIGSTOP", flush=True)
        check(gone < 2.0, f"within BFD's detection time, not the 9 s hold time ({gone:.2f} s)")
    finally:
        a.proc.signal(signal.SIGCONT)
    wait_until(lambda: bird.route(VIP4), 30, "VIP back at BIRD after SIGCONT")
    wait_until(lambda: any(s.get("state") == "Up" for s in show_bfd(sock)), 20, "BFD Up again")
    a.proc.stop()
    bird.stop()


def main():
    return run_test("bfd_bird", scenario, needs=Bird.needs)


if __name__ == "__main__":
    sys.exit(main())
