"""FRR (zebra, bfdd, bgpd) as a BFD peer, for interop_bfd_frr and bench/freeze. FRR's bgpd
hands BFD to bfdd through zebra, which must see the session's addresses on a real
interface, so the NVA and FRR each get a network namespace, joined by a veth; the caller
picks the /30 from 198.18.0.0/15, and leaving the `with` block removes both namespaces.
The NVA's command runs in its namespace through `wrap`."""
import json
import os
import subprocess

from harness import VIP4, Proc, sh, wait_until

FRR = "/usr/lib/frr"


def ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True)


class FrrPeer:
    name = "FRR"

    def __init__(self, nva, them, nva_as, peer_as, nva_port, peer_port):
        tag = os.getpid()
        self.ns, self.peer_ns = f"anycastd-bfd-{tag}", f"anycastd-bfdp-{tag}"
        self.nva, self.them = nva, them
        self.nva_as, self.peer_as = nva_as, peer_as
        self.nva_port, self.peer_port = nva_port, peer_port
        self.vty = None

    def __enter__(self):
        for ns in (self.ns, self.peer_ns):
            ip("netns", "add", ns)
            ip("-n", ns, "link", "set", "lo", "up")
        ip("-n", self.ns, "link", "add", "fz0", "type", "veth", "peer", "name", "fz1", "netns",
           self.peer_ns)
        ip("-n", self.ns, "addr", "add", f"{self.nva}/30", "dev", "fz0")
        ip("-n", self.peer_ns, "addr", "add", f"{self.them}/30", "dev", "fz1")
        ip("-n", self.ns, "link", "set", "fz0", "up")
        ip("-n", self.peer_ns, "link", "set", "fz1", "up")
        return self

    def __exit__(self, *exc):
        for ns in (self.ns, self.peer_ns):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    def wrap(self, cmd):
        return ["ip", "netns", "exec", self.ns, *cmd]

    def start(self, work, bfd):
        os.chmod(work, 0o777)  # FRR's daemons drop to the frr user
        self.vty = os.path.join(work, "vty")
        os.makedirs(self.vty, mode=0o777)
        os.chmod(self.vty, 0o777)
        conf = os.path.join(work, "frr.conf")
        n = self.nva
        with open(conf, "w") as f:
            f.write(f"""frr defaults traditional
hostname peer
log file {work}/frr-daemon.log
bfd
 profile fast
  receive-interval 300
  transmit-interval 300
  detect-multiplier 3
router bgp {self.peer_as}
 bgp router-id {self.them}
 no bgp ebgp-requires-policy
 neighbor {n} remote-as {self.nva_as}
 neighbor {n} port {self.nva_port}
 neighbor {n} update-source {self.them}
 neighbor {n} timers connect 1
 neighbor {n} passive
""" + (f" neighbor {n} bfd\n neighbor {n} bfd profile fast\n" if bfd else ""))
        os.chmod(conf, 0o644)
        zs = os.path.join(work, "zserv.api")
        common = ["-z", zs, "--vty_socket", self.vty, "-f", conf]
        netns = ["ip", "netns", "exec", self.peer_ns]
        Proc("zebra", netns + [f"{FRR}/zebra", *common, "-i", f"{work}/zebra.pid"],
             os.path.join(work, "zebra.log"))
        wait_until(lambda: os.path.exists(zs), 10, "zebra's socket")
        Proc("bfdd", netns + [f"{FRR}/bfdd", *common, "-i", f"{work}/bfdd.pid", "--bfdctl",
                              f"{work}/bfdd.sock"], os.path.join(work, "bfdd.log"))
        Proc("bgpd", netns + [f"{FRR}/bgpd", *common, "-n", "-l", self.them, "-p",
                              str(self.peer_port), "-P", "0", "-i", f"{work}/bgpd.pid"],
             os.path.join(work, "bgpd.log"))

    def vtysh(self, cmd):
        return sh(["vtysh", "--vty_socket", self.vty, "-c", cmd])

    def route(self, prefix=VIP4):
        try:
            d = json.loads(self.vtysh(f"show bgp ipv4 unicast {prefix} json"))
        except ValueError:
            return None
        return (d.get("paths") or [None])[0]

    def bfd_peer(self):
        try:
            peers = json.loads(self.vtysh("show bfd peers json"))
        except ValueError:
            return None
        return next((p for p in peers if p.get("peer") == self.nva), None)

    def bfd_up(self):
        return (self.bfd_peer() or {}).get("status") == "up"
