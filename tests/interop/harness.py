"""Shared pieces of the interop tests: start daemons on loopback with configs the test
writes, wait for conditions with growing poll intervals, stop only what we started (by
PID), and run the same scenario against each real peer."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ANYCASTD = os.environ.get("ANYCASTD", "anycastd")
ANYCASTCTL = os.environ.get("ANYCASTCTL", "anycastctl")
VIP4, VIP6 = "198.18.9.9/32", "2001:2::9/128"
PEER_ROUTE = "198.18.100.0/24"
PEER_AS, NVA_AS = 4200000002, 65010
LARGE = "4200000002:7:8"


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)
    print("  ok:", what, flush=True)


class Proc:
    """A daemon we started; stop() escalates to SIGKILL so no test leaves one behind."""
    live = []

    def __init__(self, name, cmd, log, env=None, cwd=None):
        self.name, self.log = name, log
        self.out = open(log, "ab")
        self.p = subprocess.Popen(cmd, stdout=self.out, stderr=subprocess.STDOUT,
                                  env={**os.environ, **(env or {})}, cwd=cwd,
                                  start_new_session=True)
        Proc.live.append(self)

    def signal(self, sig):
        if self.p.poll() is None:
            os.kill(self.p.pid, sig)

    def stop(self, timeout=5):
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()
        if self in Proc.live:
            Proc.live.remove(self)
        self.out.close()

    @classmethod
    def stop_all(cls):
        for p in list(cls.live):
            p.stop()


# A keep-alive HTTP/1.1 backend that answers every GET with its name (python's http.server
# speaks HTTP/1.0 and closes each connection).
_NAME_SERVER = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class Name(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = (sys.argv[3] + "\\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), Name).serve_forever()
"""


def name_server(work, name, addr, port):
    return Proc(name, [sys.executable, "-c", _NAME_SERVER, addr, str(port), name],
                os.path.join(work, f"{name}.log"))


def wait_until(fn, timeout, what):
    """Polls fn with growing intervals (asking a daemon is not free); returns its value."""
    deadline, delay = time.monotonic() + timeout, 0.05
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)
    raise Fail(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def dump_logs(work):
    """What a failed test shows: the tail of every daemon log it wrote."""
    for f in sorted(os.listdir(work)):
        if f.endswith(".log"):
            print(f"---- {f} (last 40 lines)")
            with open(os.path.join(work, f), errors="replace") as fh:
                print("".join(fh.readlines()[-40:]))


def run_test(name, scenario, needs=(), cleanup=None):
    """Runs scenario(work) in a fresh work directory; returns the process exit code. On
    failure prints why and the daemon logs; always stops every daemon it started, runs
    `cleanup` and removes the directory."""
    for tool in needs:
        if not shutil.which(tool):
            print(f"FAIL: {tool} is not installed (run scripts/install-deps)")
            return 1
    work = tempfile.mkdtemp(prefix=f"interop-{name}-")
    keep = os.environ.get("INTEROP_KEEP")
    try:
        scenario(work)
        print("PASS", flush=True)
        return 0
    except Fail as e:
        print(f"FAIL: {e}", flush=True)
        dump_logs(work)
        return 1
    finally:
        Proc.stop_all()
        if cleanup:
            cleanup()
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=20, **kw).stdout


class Anycastd:
    def __init__(self, work, addr, port, peer_addr, peer_port, passive, next_hop_v4=None,
                 password=None, extra="", control=None, wrap=None):
        self.work, self.log = work, os.path.join(work, f"anycastd-{int(passive)}.log")
        cfg = f"""router-id: 198.18.{addr.split('.')[2]}.1
local-as: {NVA_AS}
listen: {{address: {addr}, port: {port}}}
{f"control: {{socket: {control}}}" + chr(10) if control else ""}peers:
  - address: {peer_addr}
    remote-as: {PEER_AS}
    port: {peer_port}
    passive: {str(passive).lower()}
    hold-time: 9
    connect-retry: 1
    local-address: {addr}
    next-hop-ipv6: "2001:2::1"
{f"    password: {password}" + chr(10) if password else ""}{extra}{f"    next-hop-ipv4: {next_hop_v4}" + chr(10) if next_hop_v4 else ""}vips:
  - prefix: {VIP4}
    prepend: 3
    med: 50
    communities: ["65010:100", "65010:200"]
    large-communities: ["65010:1:2"]
  - prefix: "{VIP6}"
    communities: ["65010:600"]
"""
        self.cfg = os.path.join(work, "anycastd.yaml")
        with open(self.cfg, "w") as f:
            f.write(cfg)
        cmd = [ANYCASTD, "-c", self.cfg, "--log-level", "debug"]
        self.proc = Proc("anycastd", wrap(cmd) if wrap else cmd, self.log)

    def text(self):
        with open(self.log) as f:
            return f.read()

    def established(self):
        return "session established" in self.text()

    def sessions(self):
        """How many times a session has come up so far."""
        return self.text().count("session established")

    def received(self, prefix):
        m = re.findall(r"received " + re.escape(prefix) + r" (.*)", self.text())
        return m[-1] if m else None


def expected_v4_path():
    return [NVA_AS] * 4  # own ASN plus prepend 3


def run_scenario(peer, net, work):
    """The same checks for every peer. `net` is the third octet of this test's
    127.0.N.x addresses, so tests run in parallel without sharing ports."""
    nva, them = f"127.0.{net}.1", f"127.0.{net}.2"
    nva_port, peer_port = 17900 + net, 18000 + net
    results = {}
    for nva_passive in (False, True):
        mode = "anycastd passive, peer active" if nva_passive else "anycastd active, peer passive"
        print(f"== {peer.name}: {mode}", flush=True)
        peer.start(work, them, peer_port, nva, nva_port, peer_passive=not nva_passive)
        a = Anycastd(work, nva, nva_port, them, peer_port, nva_passive,
                     getattr(peer, "next_hop_v4", None))
        wait_until(a.established, 30, "anycastd session established")
        direction = "inbound" if nva_passive else "outbound"
        check(f"{direction})" in a.text(), f"session is {direction} from anycastd's side")
        r4 = wait_until(lambda: peer.route(VIP4), 30, f"{peer.name} holding {VIP4}")
        check(r4["as_path"] == expected_v4_path(), f"IPv4 VIP AS path {r4['as_path']}")
        check(r4["next_hop"] == peer.expect_next_hop_v4(nva), f"IPv4 next hop {r4['next_hop']}")
        check(r4["med"] == 50, f"MED {r4['med']}")
        check(sorted(r4["communities"]) == ["65010:100", "65010:200"],
              f"communities {r4['communities']}")
        check(r4["large_communities"] == ["65010:1:2"], f"large communities {r4['large_communities']}")
        r6 = wait_until(lambda: peer.route(VIP6), 30, f"{peer.name} holding {VIP6}")
        check(r6["as_path"] == [NVA_AS], f"IPv6 VIP AS path {r6['as_path']}")
        check(r6["next_hop"] == "2001:2::1", f"IPv6 next hop {r6['next_hop']}")
        check(r6["communities"] == ["65010:600"], f"IPv6 communities {r6['communities']}")

        got = wait_until(lambda: a.received(PEER_ROUTE), 30, f"anycastd receiving {PEER_ROUTE}")
        check(f"path [{PEER_AS} 4200000001]" in got, f"received 4-octet AS path: {got}")
        check(f"large-communities [{LARGE}]" in got, "received large community")

        t0 = time.monotonic()
        a.proc.signal(signal.SIGTERM)
        wait_until(lambda: peer.route(VIP4) is None and peer.route(VIP6) is None, 10,
                   f"{peer.name} dropping the VIPs after SIGTERM")
        results[mode] = time.monotonic() - t0
        check(True, f"VIPs gone from {peer.name} {results[mode] * 1000:.0f} ms after SIGTERM")
        a.proc.p.wait(10)
        check("withdrew " + VIP4 in a.text(), "explicit withdraw sent before closing")
        a.proc.stop()
        peer.stop()
    print(json.dumps({"peer": peer.name, "withdraw_seconds": results}), flush=True)


def main(peer, net):
    sys.exit(run_test(peer.name, lambda work: run_scenario(peer, net, work), needs=peer.needs,
                      cleanup=getattr(peer, "cleanup", None)))
