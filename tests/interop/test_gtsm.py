"""GTSM (RFC 5082, `ttl-security: true`) against BIRD (`ttl security on`) and FRR
(`ttl-security hops 1`) on loopback, where nothing decrements the TTL: with GTSM on both
sides the session comes up (both send 255, both accept 254 and up), whichever side dials,
and the peer holds the VIP; against the same peer without GTSM, whose segments arrive with TTL 64 (BIRD's
multihop) or 1 (FRR's eBGP default), anycastd's kernel drops them and the session stays
down. The other half of the proof, that a peer two routed hops away is refused, needs
routers: test_gtsm_netns.py."""
import os
import sys
import time

from harness import VIP4, Anycastd, check, run_test, wait_until
from test_bird import Bird
from test_frr import Frr

NET = 23
NVA, THEM = f"127.0.{NET}.1", f"127.0.{NET}.2"
NVA_PORT, PEER_PORT = 17900 + NET, 18000 + NET
GTSM = "    ttl-security: true\n"


def scenario(peer, work):
    print(f"== {peer.name}: GTSM on both sides", flush=True)
    peer.ttl_security = True
    peer.start(work, THEM, PEER_PORT, NVA, NVA_PORT, peer_passive=True)
    a = Anycastd(work, NVA, NVA_PORT, THEM, PEER_PORT, False, getattr(peer, "next_hop_v4", None),
                 extra=GTSM)
    wait_until(lambda: a.sessions() >= 1, 30, "session established with GTSM")
    wait_until(lambda: peer.route(VIP4), 30, f"{peer.name} holding {VIP4}")
    a.proc.stop()
    peer.stop()

    # Inbound: the listener holds IP_MINTTL before the first byte, and its SYN-ACK and
    # everything after leave with TTL 255, or the peer's own GTSM would drop them.
    print(f"== {peer.name}: GTSM on both sides, the peer dials", flush=True)
    work = os.path.join(work, "inbound")
    os.makedirs(work)
    peer.start(work, THEM, PEER_PORT, NVA, NVA_PORT, peer_passive=False)
    a = Anycastd(work, NVA, NVA_PORT, THEM, PEER_PORT, True, getattr(peer, "next_hop_v4", None),
                 extra=GTSM)
    wait_until(lambda: a.sessions() >= 1, 30, "inbound session established with GTSM")
    check("inbound" in a.text(), "the session anycastd accepted")
    wait_until(lambda: peer.route(VIP4), 30, f"{peer.name} holding {VIP4}")
    a.proc.stop()
    peer.stop()

    print(f"== {peer.name}: GTSM on anycastd only", flush=True)
    peer.ttl_security = False
    work = os.path.join(work, "one-sided")  # fresh logs
    os.makedirs(work)
    peer.start(work, THEM, PEER_PORT, NVA, NVA_PORT, peer_passive=True)
    a = Anycastd(work, NVA, NVA_PORT, THEM, PEER_PORT, False, getattr(peer, "next_hop_v4", None),
                 extra=GTSM)
    time.sleep(6)
    check(a.sessions() == 0, "no session with a peer whose segments arrive below TTL 254")
    check(peer.route(VIP4) is None, f"{peer.name} holds no route")
    # BIRD answers a SYN from its listener with TTL 255 and only then drops to 64, so the
    # handshake may complete; what matters is that none of its BGP messages got through.
    check("-> OpenConfirm" not in a.text(), "the peer's OPEN never reached anycastd")
    a.proc.stop()
    peer.stop()


def main():
    failed = 0
    for peer in (Bird(), Frr()):
        failed |= run_test(f"gtsm_{peer.name}", lambda work, p=peer: scenario(p, work), needs=peer.needs)
    return failed


if __name__ == "__main__":
    sys.exit(main())
