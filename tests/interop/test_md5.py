"""TCP-MD5 (RFC 2385) against BIRD, FRR, GoBGP and ExaBGP on loopback. With the same
password on both sides the session comes up and the peer holds the VIP; with a wrong one
on the peer the session stays down, the peer holds no route, and anycastd says why; a
reload with the peer's password brings it back (anycastd connects, the peer is passive).
Against BIRD also: anycastd without a password against BIRD with one stays down, and so
does BIRD connecting in with the wrong password."""
import os
import re
import signal
import sys
import time

import harness
from harness import VIP4, Anycastd, check, run_test, wait_until
from test_bird import Bird
from test_exabgp import ExaBgp
from test_frr import Frr
from test_gobgp import GoBgp

NET = 22
NVA, THEM = f"127.0.{NET}.1", f"127.0.{NET}.2"
NVA_PORT, PEER_PORT = 17900 + NET, 18000 + NET
GOOD, WRONG = "md5-Good-1", "md5-wrong-2"
HINT = "no answer: check TCP-MD5 passwords on both sides"


class GoBgpHere(GoBgp):
    api_port = 30322  # not test_gobgp's, and below the ephemeral range (32768-60999)


def reload_with(a, password):
    with open(a.cfg) as f:
        text = f.read()
    text = re.sub(r"\n    password: .*", "", text)
    if password:
        text = text.replace("    local-address:", f"    password: {password}\n    local-address:", 1)
    with open(a.cfg, "w") as f:
        f.write(text)
    a.proc.signal(signal.SIGHUP)


def stays_down(a, peer, seconds, what):
    before = a.sessions()
    end = time.monotonic() + seconds
    while time.monotonic() < end and a.sessions() == before:
        time.sleep(0.2)
    check(a.sessions() == before, f"{what}: no session for {seconds} s")
    check(peer.route(VIP4) is None, f"{what}: {peer.name} holds no route")


def scenario(peer, work):
    print(f"== {peer.name}: same password", flush=True)
    peer.password = GOOD
    peer.start(work, THEM, PEER_PORT, NVA, NVA_PORT, peer_passive=True)
    a = Anycastd(work, NVA, NVA_PORT, THEM, PEER_PORT, False, getattr(peer, "next_hop_v4", None),
                 password=GOOD)
    wait_until(lambda: a.sessions() >= 1, 30, "session established with TCP-MD5")
    wait_until(lambda: peer.route(VIP4), 30, f"{peer.name} holding {VIP4}")
    check(GOOD not in a.text(), "the password is not in anycastd's log")

    print(f"== {peer.name}: wrong password on the peer", flush=True)
    peer.stop()
    peer.password = WRONG
    peer.start(work, THEM, PEER_PORT, NVA, NVA_PORT, peer_passive=True)
    stays_down(a, peer, 6, "mismatched passwords")
    check(HINT in a.text(), f"anycastd logs '{HINT}'")

    print(f"== {peer.name}: reload with the peer's password", flush=True)
    reload_with(a, WRONG)
    wait_until(lambda: a.sessions() >= 2, 30, "session back after the reload")
    wait_until(lambda: peer.route(VIP4), 30, f"{peer.name} holding {VIP4} again")
    check(WRONG not in a.text(), "the new password is not in anycastd's log")

    if isinstance(peer, Bird):
        print("== bird: anycastd without a password", flush=True)
        reload_with(a, None)
        stays_down(a, peer, 6, "anycastd unsigned, BIRD signed")
        print("== bird: BIRD connects in with the wrong password", flush=True)
        a.proc.stop()
        peer.stop()
        peer.password = WRONG
        peer.start(work, THEM, PEER_PORT, NVA, NVA_PORT, peer_passive=False)
        a = Anycastd(work, NVA, NVA_PORT, THEM, PEER_PORT, True, None, password=GOOD)
        stays_down(a, peer, 6, "BIRD active with a wrong password")
        check("refused BGP connection" not in a.text(),
              "the kernel dropped the SYNs: anycastd never saw a connection")
    a.proc.stop()
    peer.stop()


def main():
    failed = 0
    for peer in (Bird(), Frr(), GoBgpHere(), ExaBgp()):
        failed |= run_test(f"md5_{peer.name}", lambda work, p=peer: scenario(p, work), needs=peer.needs)
    return failed


if __name__ == "__main__":
    sys.exit(main())
