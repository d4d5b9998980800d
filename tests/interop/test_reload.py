"""Reload without session resets, against BIRD: a reload that adds a peer, removes one and
changes the VIP's prepend leaves the remaining peer's session Established throughout (BIRD
sees no flap, its route is simply replaced); a bad file and a change a reload cannot apply
are refused and change nothing; SIGHUP reloads as `anycastctl reload` does; a changed export
policy reaches BIRD as a replaced route, again without a reset."""
import os
import re
import signal
import subprocess
import sys
import time

import harness
from harness import ANYCASTD, Proc, check, run_test, sh, wait_until

NET = 18
NVA = f"127.0.{NET}.1"
PEERS = {"a": f"127.0.{NET}.2", "b": f"127.0.{NET}.3", "c": f"127.0.{NET}.4"}
# BIRD sits idle on a second protocol with the same neighbor address: each session of ours
# leaves from an address of its own.
LOCAL = {"a": NVA, "b": f"127.0.{NET}.5", "c": f"127.0.{NET}.6"}
BIRD_PORT = 18000 + NET
VIP = f"198.18.{NET}.100/32"
CTL = os.environ.get("ANYCASTCTL", os.path.join(os.path.dirname(ANYCASTD), "anycastctl"))


def bird_conf(work):
    protos = "".join(f"""protocol bgp {n} {{
  local {a} port {BIRD_PORT} as {harness.PEER_AS};
  neighbor {LOCAL[n]} as {harness.NVA_AS};
  strict bind on; multihop; passive on; error wait time 1,2;
  ipv4 {{ table t4; import all; export none; }};
}}
""" for n, a in PEERS.items())
    conf = os.path.join(work, "bird.conf")
    with open(conf, "w") as f:
        f.write(f"router id 198.18.{NET}.2;\nprotocol device {{}}\nipv4 table t4;\n{protos}")
    return conf


def nva_conf(path, peers, prepend, router_id=NVA, extra="", out_prepend=0):
    lines = "".join(f"  - {{address: {PEERS[p]}, remote-as: {harness.PEER_AS}, port: {BIRD_PORT}, "
                    f"local-address: {LOCAL[p]}, connect-retry: 1, hold-time: 9, export: out}}\n"
                    for p in peers)
    # Every peer exports through "out", so that changing its contents is a policy change only.
    out = f"prepend: {out_prepend}, action: accept" if out_prepend else "action: accept"
    extra = f"policies:\n  out:\n    - then: {{{out}}}\n" + extra
    with open(path, "w") as f:
        f.write(f"""router-id: {router_id}
local-as: {harness.NVA_AS}
peers:
{lines}vips:
  - prefix: {VIP}
    prepend: {prepend}
control: {{socket: {os.path.dirname(path)}/ctl.sock}}
{extra}""")


class Bird:
    def __init__(self, work):
        self.sock = os.path.join(work, "bird.ctl")
        Proc("bird", ["bird", "-f", "-c", bird_conf(work), "-s", self.sock],
             os.path.join(work, "bird.log"))

    def protocol(self, name):
        """(state, since) as `show protocols` prints them, e.g. ('Established', '10:01:02.345')."""
        out = sh(["birdc", "-s", self.sock, "show", "protocols", name])
        m = re.search(rf"^{name}\s+BGP\s+\S+\s+\S+\s+(\S+)\s+(\S+)", out, re.M)
        return (m.group(2), m.group(1)) if m else (None, None)

    def path(self, name):
        out = sh(["birdc", "-s", self.sock, "show", "route", VIP, "table", "t4", "protocol",
                  name, "all"])
        m = re.search(r"BGP\.as_path: (.*)", out)
        return [int(x) for x in m.group(1).split()] if m else None


def ctl(work, *args):
    r = subprocess.run([CTL, "-s", os.path.join(work, "ctl.sock"), *args], capture_output=True,
                       text=True, timeout=20)
    return r.returncode, r.stdout + r.stderr


def scenario(work):
    bird = Bird(work)
    cfg = os.path.join(work, "anycastd.yaml")
    nva_conf(cfg, ["a", "b"], 0)
    nva = Proc("anycastd", [ANYCASTD, "-c", cfg], os.path.join(work, "anycastd.log"))
    wait_until(lambda: bird.path("a") == [harness.NVA_AS] and bird.path("b") == [harness.NVA_AS],
               30, "BIRD's sessions a and b holding the VIP")
    # BIRD can stamp the session's state change a millisecond after its route is visible:
    # take the time once two readings 100 ms apart agree.
    seen = [bird.protocol("a")]

    def settled():
        time.sleep(0.1)
        seen.append(bird.protocol("a"))
        return seen[-1] == seen[-2] and seen[-1][0] == "Established"

    wait_until(settled, 10, "BIRD's session a settled")
    a_since = seen[-1][1]
    n = harness.NVA_AS

    nva_conf(cfg, ["a", "c"], 2)
    rc, out = ctl(work, "reload")
    check(rc == 0 and f"peers added: {PEERS['c']}" in out and f"peers removed: {PEERS['b']}" in out
          and f"VIPs: {VIP} changed" in out, f"anycastctl reload says what changed:\n{out}")
    wait_until(lambda: bird.path("a") == [n, n, n], 10, "the new prepend on session a")
    wait_until(lambda: bird.protocol("c")[0] == "Established" and bird.path("c") == [n, n, n], 30,
               "the added peer c Established with the VIP")
    wait_until(lambda: bird.protocol("b")[0] != "Established", 10, "the removed peer b closed")
    now = bird.protocol("a")
    check(now == ("Established", a_since),
          f"session a stayed Established throughout (BIRD showed since {a_since} before the "
          f"reload, {now} after)")
    check("Peer de-configured" in sh(["birdc", "-s", bird.sock, "show", "protocols", "all", "b"]),
          "b was closed with Cease/Peer De-configured")

    with open(cfg, "w") as f:
        f.write("router-id: 1.2.3.4\nlocal-as: 65010\npeers:\n  - {address: 10.0.0.300, remote-as: 1}\n")
    rc, out = ctl(work, "reload")
    check(rc == 1 and "anycastd.yaml:4" in out and "10.0.0.300" in out,
          f"a bad file is refused with its position: {out.strip()}")
    nva_conf(cfg, ["a", "c"], 2, router_id=f"198.18.{NET}.9")
    rc, out = ctl(work, "reload")
    check(rc == 1 and "router-id: 198.18.18.9" in out and "restart to apply" in out,
          f"a change a reload cannot apply is refused, named: {out.strip()}")
    time.sleep(0.5)
    state = (bird.protocol("a"), bird.path("a"), bird.protocol("c"))
    check(state[0] == ("Established", a_since) and state[1] == [n, n, n]
          and state[2][0] == "Established", f"and neither changed anything: a, its path, c: {state}")

    nva_conf(cfg, ["a", "b", "c"], 0)
    nva.signal(signal.SIGHUP)
    wait_until(lambda: bird.protocol("b")[0] == "Established" and bird.path("a") == [n], 30,
               "SIGHUP: b back and the prepend gone")
    check(bird.protocol("a") == ("Established", a_since), "session a still never reset")
    rc, out = ctl(work, "reload")
    check(rc == 0 and "nothing changed" in out, f"a reload with nothing new: {out.strip()}")

    nva_conf(cfg, ["a", "b", "c"], 0, out_prepend=1)
    rc, out = ctl(work, "reload")
    check(rc == 0 and f"policies changed toward: {PEERS['a']}" in out,
          f"a changed export policy is named in the reload's answer: {out.strip()}")
    # `export` governs learned routes: the VIP keeps its own path (the refresh went out).
    time.sleep(1.0)
    check(bird.path("a") == [n] and bird.path("c") == [n],
          f"the VIP kept its own path through the export policy's prepend: {bird.path('a')}")
    check(bird.protocol("a") == ("Established", a_since), "session a not reset by a policy change")


def main():
    return run_test("reload", scenario, needs=("bird", "birdc"))


if __name__ == "__main__":
    sys.exit(main())
