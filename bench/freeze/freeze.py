#!/usr/bin/env python3
"""A frozen NVA (SIGSTOP: a paused VM, a stuck kernel) and how long its VIP stays at the
peer. BIRD is the peer, on loopback; the NVA is in turn anycastd with BFD (300 ms x 3),
anycastd with only its 9 s hold time, and ExaBGP (which has no BFD) with the same 9 s.
Each run: the peer holds the VIP, the NVA is stopped, and the time until BIRD no longer
has the route is measured by polling birdc every 20 ms. Prints p50/p90 per mode.

    python3 bench/freeze/freeze.py [--runs 7]

Needs bird2, exabgp and a built anycastd (ANYCASTD, default build/apps/anycastd)."""
import argparse
import os
import signal
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "interop"))
os.environ.setdefault("ANYCASTD", os.path.join(ROOT, "build", "apps", "anycastd"))

import harness  # noqa: E402
from harness import VIP4, Anycastd, Proc, wait_until  # noqa: E402
from test_bird import Bird  # noqa: E402

NET = 26
NVA, THEM = f"127.0.{NET}.1", f"127.0.{NET}.2"
NVA_PORT, PEER_PORT = 17900 + NET, 18000 + NET


def exabgp(work):
    conf = os.path.join(work, "exabgp.conf")
    with open(conf, "w") as f:
        f.write(f"""neighbor {THEM} {{
  router-id 198.18.26.1;
  local-address {NVA};
  local-as {harness.NVA_AS};
  peer-as {harness.PEER_AS};
  hold-time 9;
  connect {PEER_PORT};
  family {{ ipv4 unicast; }}
  static {{ route {VIP4} next-hop {NVA}; }}
}}
""")
    env = {"exabgp.daemon.user": "root", "exabgp.daemon.drop": "false", "exabgp.api.cli": "false",
           "exabgp.tcp.bind": "", "exabgp.tcp.port": str(NVA_PORT),
           "exabgp.log.destination": os.path.join(work, "exabgp-daemon.log")}
    return Proc("exabgp", ["exabgp", conf], os.path.join(work, "exabgp.log"), env=env)


def one(mode):
    work = tempfile.mkdtemp(prefix=f"freeze-{mode}-")
    bird = Bird()
    bird.bfd = mode == "anycastd-bfd"
    try:
        bird.start(work, THEM, PEER_PORT, NVA, NVA_PORT, peer_passive=True)
        if mode == "exabgp":
            nva = exabgp(work)
        else:
            extra = "    multihop: 64\n" + ("    bfd: true\n" if mode == "anycastd-bfd" else "")
            nva = Anycastd(work, NVA, NVA_PORT, THEM, PEER_PORT, False, extra=extra).proc
        wait_until(lambda: bird.route(VIP4), 30, "VIP at BIRD")
        if bird.bfd:
            wait_until(lambda: " Up " in harness.sh(["birdc", "-s", bird.sock, "show", "bfd",
                                                     "sessions"]), 20, "BFD Up at BIRD")
        time.sleep(1)  # past the Poll Sequence: the 300 ms intervals are in force
        nva.signal(signal.SIGSTOP)
        t0 = time.monotonic()
        try:
            while bird.route(VIP4) is not None:
                if time.monotonic() - t0 > 30:
                    raise RuntimeError(f"{mode}: VIP still at BIRD after 30 s")
                time.sleep(0.02)
            return time.monotonic() - t0
        finally:
            nva.signal(signal.SIGCONT)
    finally:
        Proc.stop_all()


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    rows = []
    for mode in ("anycastd-bfd", "anycastd-hold", "exabgp"):
        times = []
        for i in range(args.runs):
            t = one(mode)
            times.append(t)
            print(f"{mode} run {i + 1}/{args.runs}: VIP gone at BIRD after {t:.2f} s", flush=True)
        rows.append((mode, statistics.median(times), pct(times, 90), min(times), max(times)))
    print("\n| NVA | frozen -> VIP gone at BIRD, p50 | p90 | min | max |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for m, p50, p90, lo, hi in rows:
        print(f"| {m} | {p50:.2f} s | {p90:.2f} s | {lo:.2f} s | {hi:.2f} s |")
    base = rows[1][1]
    print(f"\nanycastd with BFD: {base / rows[0][1]:.1f}x faster than the hold timer at p50")


if __name__ == "__main__":
    sys.exit(main())
