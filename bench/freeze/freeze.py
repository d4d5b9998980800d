#!/usr/bin/env python3
"""A frozen NVA (SIGSTOP: a paused VM, a stuck kernel) and how long its VIP stays at the
peer. The peer is BIRD, on loopback, and FRR (bfdd), in two network namespaces the bench
creates (root; tests/interop/frr_netns.py says why). The NVA is in turn anycastd with BFD (300 ms x 3),
anycastd with only its 9 s hold time, and ExaBGP (which has no BFD) with the same 9 s.
Each run: the peer holds the VIP, the NVA is stopped, and the time until the peer no
longer has the route is measured by polling it every 20 ms. Prints p50/p90 per peer and
mode.

    python3 bench/freeze/freeze.py [--runs 7] [--peer bird|frr|both]

Needs bird2, frr, exabgp and a built anycastd (ANYCASTD, default build/apps/anycastd)."""
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
from frr_netns import FrrPeer  # noqa: E402

NET = 26
NVA_PORT, PEER_PORT = 17900 + NET, 18000 + NET


class BirdPeer(Bird):
    """BIRD on loopback: its sessions there are multihop, and so is its BFD (RFC 5883)."""
    name = "BIRD"
    nva, them = f"127.0.{NET}.1", f"127.0.{NET}.2"
    multihop = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def wrap(self, cmd):
        return cmd

    def start(self, work, bfd):
        self.bfd = bfd
        Bird.start(self, work, self.them, PEER_PORT, self.nva, NVA_PORT, peer_passive=True)

    def bfd_up(self):
        return " Up " in harness.sh(["birdc", "-s", self.sock, "show", "bfd", "sessions"])


def exabgp(work, peer):
    NVA, THEM = peer.nva, peer.them
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
    return Proc("exabgp", peer.wrap(["exabgp", conf]), os.path.join(work, "exabgp.log"), env=env)


def one(mode, peer):
    work = tempfile.mkdtemp(prefix=f"freeze-{mode}-")
    bfd = mode == "anycastd-bfd"
    try:
        peer.start(work, bfd)
        if mode == "exabgp":
            nva = exabgp(work, peer)
        else:
            extra = "    multihop: 64\n" if getattr(peer, "multihop", False) else ""
            extra += "    bfd: true\n" if bfd else ""
            nva = Anycastd(work, peer.nva, NVA_PORT, peer.them, PEER_PORT, False, extra=extra,
                           wrap=peer.wrap).proc
        wait_until(lambda: peer.route(VIP4), 40, f"VIP at {peer.name}")
        if bfd:
            wait_until(peer.bfd_up, 20, f"BFD Up at {peer.name}")
        time.sleep(1)  # past the Poll Sequence: the 300 ms intervals are in force
        nva.signal(signal.SIGSTOP)
        t0 = time.monotonic()
        try:
            while peer.route(VIP4) is not None:
                if time.monotonic() - t0 > 30:
                    raise RuntimeError(f"{mode}: VIP still at {peer.name} after 30 s")
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
    ap.add_argument("--peer", choices=("bird", "frr", "both"),
                    default="both" if os.geteuid() == 0 else "bird")
    args = ap.parse_args()
    peers = []
    if args.peer in ("bird", "both"):
        peers.append(BirdPeer())
    if args.peer in ("frr", "both"):
        if os.geteuid() != 0:
            sys.exit("--peer frr needs root for its network namespaces")
        peers.append(FrrPeer("198.18.26.1", "198.18.26.2", harness.NVA_AS, harness.PEER_AS,
                             NVA_PORT, PEER_PORT))
    rows = []
    for peer in peers:
        with peer:
            for mode in ("anycastd-bfd", "anycastd-hold", "exabgp"):
                times = []
                for i in range(args.runs):
                    t = one(mode, peer)
                    times.append(t)
                    print(f"{peer.name} {mode} run {i + 1}/{args.runs}: VIP gone after {t:.2f} s",
                          flush=True)
                rows.append((peer.name, mode, statistics.median(times), pct(times, 90),
                             min(times), max(times)))
    print("\n| peer | NVA | frozen -> VIP gone at the peer, p50 | p90 | min | max |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for name, m, p50, p90, lo, hi in rows:
        print(f"| {name} | {m} | {p50:.2f} s | {p90:.2f} s | {lo:.2f} s | {hi:.2f} s |")
    for i in range(0, len(rows), 3):
        print(f"{rows[i][0]}: anycastd with BFD {rows[i + 1][2] / rows[i][2]:.1f}x sooner than "
              f"the hold timer at p50")


if __name__ == "__main__":
    sys.exit(main())
