"""Single-hop BFD's TTL check (RFC 5881 §5) through the kernel: a neighbour on loopback
(this script, 127.0.28.2) sends anycastd a valid BFD Control packet in state Down. Sent
with TTL 254, as from one router away, anycastd drops it: the session stays Down and counts
no packet. Sent with TTL 255, anycastd takes it and moves to Init (RFC 5880 §6.8.6). The
TTL the kernel reports (IP_RECVTTL) is what decides; nothing else differs."""
import json
import os
import socket
import struct
import subprocess
import sys
import time

from harness import ANYCASTCTL, Anycastd, check, run_test, wait_until

NET = 28
NVA, THEM = f"127.0.{NET}.1", f"127.0.{NET}.2"
NVA_PORT, PEER_PORT = 17900 + NET, 18000 + NET
MY_DISC = 0x0A0B0C0D


def show_bfd(sock):
    out = subprocess.run([ANYCASTCTL, "-s", sock, "--json", "show", "bfd"], capture_output=True,
                         text=True, timeout=5)
    return (json.loads(out.stdout)["bfd"] or [None])[0] if out.returncode == 0 else None


def control_packet():
    # Version 1, diagnostic 0, state Down, no flags, multiplier 3, length 24,
    # discriminators (ours, and 0 for theirs: not known yet), 1 s tx and rx, no echo.
    return struct.pack("!BBBBIIIII", 1 << 5, 1 << 6, 3, 24, MY_DISC, 0, 1000000, 1000000, 0)


def send(ttl):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
    s.bind((THEM, 49200))
    s.sendto(control_packet(), (NVA, 3784))
    s.close()


def scenario(work):
    sock = os.path.join(work, "anycastd.sock")
    Anycastd(work, NVA, NVA_PORT, THEM, PEER_PORT, False, extra="    bfd: true\n", control=sock)
    wait_until(lambda: show_bfd(sock), 10, "anycastd's BFD session")
    s = show_bfd(sock)
    check(s["multihop"] is False and s["state"] == "Down", f"single hop, Down: {s}")

    for _ in range(3):
        send(254)
        time.sleep(0.2)
    s = show_bfd(sock)
    print(json.dumps(s), flush=True)
    check(s["packets_in"] == 0 and s["state"] == "Down", "TTL 254 dropped: nothing counted, Down")
    check(s["remote_discriminator"] == 0, "nothing learned from the dropped packets")

    send(255)
    wait_until(lambda: show_bfd(sock)["packets_in"] == 1, 5, "the TTL 255 packet taken")
    s = show_bfd(sock)
    print(json.dumps(s), flush=True)
    check(s["state"] == "Init", f"Down -> Init on the neighbour's Down: {s['state']}")
    check(s["remote_discriminator"] == MY_DISC, "the neighbour's discriminator learned")


def main():
    return run_test("bfd_ttl", scenario)


if __name__ == "__main__":
    sys.exit(main())
