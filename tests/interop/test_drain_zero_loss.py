"""Planned maintenance loses no request: two regions' anycastd in front of their own backend,
BIRD choosing between them with a filter that honours GRACEFUL_SHUTDOWN (RFC 8326: 65535:0
lowers LOCAL_PREF to 0), and a client that reads BIRD's chosen next hop before each request
and sends it to that region. Region A, the primary, is stopped (SIGTERM drains, then exits),
its backend is taken down and brought back, anycastd A restarts: every request is answered,
traffic leaves A while A still announces the VIP, and comes back to A."""
import os
import re
import signal
import socket
import sys
import threading
import time
import urllib.request

import harness
from harness import ANYCASTD, Proc, check, run_test, sh, wait_until

NET = 11
BIRD, BIRD_PORT, NVA_PORT = f"127.0.{NET}.2", 18000 + NET, 17900 + NET
REGIONS = {  # NVA address -> (region, backend address, backend port, extra prepend)
    f"127.0.{NET}.1": ("west-europe", f"127.0.{NET}.10", 18700 + NET, 0),
    f"127.0.{NET}.3": ("north-europe", f"127.0.{NET}.20", 18800 + NET, 2),
}
NVA_A, NVA_B = list(REGIONS)
VIP = f"198.18.{NET}.100/32"
DRAIN_TIME = 2.0
MAX_SECONDS = 60  # the client loop stops by itself after this, whatever happens


def bird_conf(work):
    protos = ""
    for i, nva in enumerate(REGIONS):
        protos += f"""protocol bgp nva{i} {{
  local {BIRD} port {BIRD_PORT} as {harness.PEER_AS};
  neighbor {nva} port {NVA_PORT} as {harness.NVA_AS};
  strict bind on; multihop; passive on; error wait time 1,2;
  ipv4 {{ table t4; import filter graceful_shutdown; export none; }};
}}
"""
    conf = os.path.join(work, "bird.conf")
    with open(conf, "w") as f:
        f.write(f"""router id 198.18.{NET}.2;
log stderr all;
protocol device {{}}
ipv4 table t4;
# RFC 8326 section 4: a route tagged GRACEFUL_SHUTDOWN gets LOCAL_PREF 0.
filter graceful_shutdown {{
  if (65535, 0) ~ bgp_community then bgp_local_pref = 0;
  accept;
}}
{protos}""")
    return conf


def backend(work, nva):
    region, addr, port, _ = REGIONS[nva]
    root = os.path.join(work, region)
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "index.html"), "w") as f:
        f.write(region + "\n")
    return Proc(f"web-{region}", [sys.executable, "-m", "http.server", "--bind", addr,
                                  "--directory", root, str(port)],
                os.path.join(work, f"web-{region}.log"))


def listening(addr, port):
    try:
        socket.create_connection((addr, port), timeout=0.2).close()
        return True
    except OSError:
        return False


def nva(work, addr):
    region, baddr, bport, prepend = REGIONS[addr]
    cfg = os.path.join(work, f"{region}.yaml")
    with open(cfg, "w") as f:
        f.write(f"""router-id: {addr}
local-as: {harness.NVA_AS}
listen: {{address: {addr}, port: {NVA_PORT}}}
peers:
  - {{address: {BIRD}, remote-as: {harness.PEER_AS}, port: {BIRD_PORT}, local-address: {addr},
      connect-retry: 1, hold-time: 9}}
checks:
  web: {{type: http, address: {baddr}, port: {bport}, interval: 0.2, rise: 2, fall: 2}}
vips:
  - prefix: {VIP}
    prepend: {prepend}
    health: {{checks: [web], drain-time: {DRAIN_TIME}, drain-prepend: 0}}
""")
    return Proc(f"anycastd-{region}", [ANYCASTD, "-c", cfg, "--log-level", "debug"],
                os.path.join(work, f"anycastd-{region}.log"))


class Bird:
    def __init__(self, work):
        self.sock = os.path.join(work, "bird.ctl")
        self.proc = Proc("bird", ["bird", "-f", "-c", bird_conf(work), "-s", self.sock],
                         os.path.join(work, "bird.log"))

    def routes(self):
        """[(next hop, best?, communities)] for the VIP, as `birdc show route all` prints."""
        out = sh(["birdc", "-s", self.sock, "show", "route", VIP, "table", "t4", "all"])
        routes = []
        # BIRD never resolves a next hop in 127/8 ("bogus route"), so on loopback every
        # route shows as unreachable; its BGP.next_hop is still the region it points to.
        for block in re.split(r"\n(?=\S|\s+(?:unicast|unreachable))", out):
            m = re.search(r"(?:unicast|unreachable) \[nva\d[^\]]*\] (\*?)", block)
            nh = re.search(r"BGP\.next_hop: (\S+)", block)
            if m and nh:
                comm = re.search(r"BGP\.community: (.*)", block)
                routes.append((nh.group(1), m.group(1) == "*",
                               comm.group(1) if comm else ""))
        return routes

    def best(self):
        return next((nh for nh, best, _ in self.routes() if best), None)


class Client(threading.Thread):
    """Before each request, asks BIRD where the VIP goes; sends the request to that
    region. A missing route or a failed request is a lost request."""

    def __init__(self, bird):
        super().__init__(daemon=True)
        self.bird, self.stop, self.served, self.lost = bird, threading.Event(), [], []
        self.drain_seen = None  # when A's route first carried 65535:0

    def run(self):
        deadline = time.monotonic() + MAX_SECONDS
        while not self.stop.is_set() and time.monotonic() < deadline:
            routes = self.bird.routes()
            # Timestamped once BIRD has answered: an iteration begun just before SIGTERM
            # can see the drain, and must not be dated before it (it once was, by 0.4 ms).
            now = time.monotonic()
            if self.drain_seen is None and any(nh == NVA_A and "(65535,0)" in c
                                               for nh, _, c in routes):
                self.drain_seen = now
            nh = next((nh for nh, best, _ in routes if best), None)
            if nh is None:
                self.lost.append((now, "no route to the VIP"))
                continue
            region, addr, port, _ = REGIONS[nh]
            try:
                body = urllib.request.urlopen(f"http://{addr}:{port}/", timeout=1).read()
                self.served.append((now, body.decode().strip()))
            except OSError as e:
                self.lost.append((now, f"{region}: {e}"))
            time.sleep(0.02)


def scenario(work):
    bird = Bird(work)
    webs = {a: backend(work, a) for a in REGIONS}
    for a, (_, addr, port, _) in REGIONS.items():
        wait_until(lambda: listening(addr, port), 10, f"backend {addr}:{port}")
    nvas = {a: nva(work, a) for a in REGIONS}
    wait_until(lambda: len(bird.routes()) == 2, 30, "BIRD holding the VIP from both regions")
    check(bird.best() == NVA_A, "BIRD prefers west-europe (north-europe prepends 2)")

    client = Client(bird)
    client.start()
    try:
        wait_until(lambda: len(client.served) >= 20, 20, "requests served by west-europe")
        t_term = time.monotonic()
        nvas[NVA_A].signal(signal.SIGTERM)
        nvas[NVA_A].p.wait(DRAIN_TIME + 10)
        t_exit = time.monotonic()
        wait_until(lambda: len(bird.routes()) == 1, 10, "BIRD without west-europe's route")
        webs[NVA_A].stop()  # the maintenance itself
        time.sleep(0.5)
        webs[NVA_A] = backend(work, NVA_A)
        a_addr, a_port = REGIONS[NVA_A][1:3]
        wait_until(lambda: listening(a_addr, a_port), 10, "west-europe's backend back")
        nvas[NVA_A] = nva(work, NVA_A)
        t_back = time.monotonic()
        wait_until(lambda: bird.best() == NVA_A, 30, "BIRD preferring west-europe again")
        n = len(client.served)
        wait_until(lambda: len(client.served) >= n + 20, 20, "requests after the return")
    finally:
        client.stop.set()
        client.join(5)

    served, lost = client.served, client.lost
    check(not lost, f"no request lost over {len(served)} requests (lost: {lost[:5]})")
    first_b = next(t for t, r in served if t > t_term and r == "north-europe")
    check(client.drain_seen is not None and t_term <= client.drain_seen <= first_b,
          "BIRD saw 65535:0 on west-europe's route before traffic moved (SIGTERM at 0, "
          f"65535:0 seen at {None if client.drain_seen is None else client.drain_seen - t_term}, "
          f"first request to north-europe at {first_b - t_term})")
    check(first_b < t_exit, f"traffic left west-europe {(first_b - t_term) * 1000:.0f} ms "
                            f"after SIGTERM, while it still announced the VIP (it withdrew and "
                            f"exited at {(t_exit - t_term) * 1000:.0f} ms)")
    during = {r for t, r in served if t_exit <= t < t_back}
    check(during == {"north-europe"}, f"north-europe served during the maintenance: {during}")
    last = [r for t, r in served[-10:]]
    check(set(last) == {"west-europe"}, "west-europe serves again after it returned")


def main():
    return run_test("drain_zero_loss", scenario, needs=("bird", "birdc"))


if __name__ == "__main__":
    sys.exit(main())
