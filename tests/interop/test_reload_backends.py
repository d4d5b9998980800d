"""A service's backends changed while real clients load it: `anycastctl reload` adds a
backend, changes one's weight and removes another, and `anycastctl backend` drains one, a
second apart, under keep-alive and new-connection HTTP load (real HTTP/1.1 servers on
loopback). No request may fail; a keep-alive client may retry once on a connection the
proxy closed while it was idle (the removed backend's, after its drain-time), as HTTP
clients do for idempotent requests. New connections never reach a removed or drained
backend, and the reload's answer lists what it did."""
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time

from harness import ANYCASTCTL, ANYCASTD, Proc, check, name_server, run_test, wait_until

NET = 34
VIP, PORT = f"127.0.{NET}.1", 18091
B = {n: (f"127.0.{NET}.{10 + i}", 18718) for i, n in enumerate(("b1", "b2", "b3"))}
SECONDS = 8  # the load stops by itself after this


def write_config(work, backends):
    lines = "".join(f"      - {{address: {B[n][0]}, port: {B[n][1]}, weight: {w}}}\n"
                    for n, w in backends)
    with open(os.path.join(work, "anycastd.yaml"), "w") as f:
        f.write(f"""router-id: 198.18.{NET}.1
local-as: 65010
control: {{socket: {work}/anycastd.sock}}
services:
  - name: web
    address: {VIP}
    port: {PORT}
    drain-time: 1
    forwarding: user
    backends:
{lines}""")


def listening(addr, port):
    try:
        socket.create_connection((addr, port), timeout=1).close()
        return True
    except OSError:
        return False


def reload_with(work, backends, change, name):
    """Rewrites the file, reloads, and checks the answer lists `name` under `change`."""
    write_config(work, backends)
    r = ctl(work, "reload")
    want = [f"{B[name][0]}:{B[name][1]}"]
    check(r.get("services", {}).get("web", {}).get(f"backends_{change}") == want,
          f"the reload {change} {name}: {r}")


def ctl(work, *args):
    out = subprocess.run([ANYCASTCTL, "-s", f"{work}/anycastd.sock", "-j", *args],
                         capture_output=True, text=True, timeout=10)
    return json.loads(out.stdout) if out.stdout.strip() else {"ok": False, "error": out.stderr}


class Load:
    """Clients that run until stop(): each records (start time, backend or None, fresh)."""

    def __init__(self):
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.results = []
        self.threads = [threading.Thread(target=self.keep_alive) for _ in range(2)] + \
                       [threading.Thread(target=self.new_connections) for _ in range(2)]
        self.deadline = time.monotonic() + SECONDS + 10

    def record(self, started, name, fresh):
        with self.lock:
            self.results.append((started, name, fresh))

    @staticmethod
    def get(c):
        c.request("GET", "/")
        return c.getresponse().read().decode().strip()

    def keep_alive(self):
        c, used = http.client.HTTPConnection(VIP, PORT, timeout=3), False
        while not self.done.is_set() and time.monotonic() < self.deadline:
            started = time.monotonic()
            try:
                name = self.get(c)
            except (OSError, http.client.HTTPException):
                c.close()
                c = http.client.HTTPConnection(VIP, PORT, timeout=3)
                name = None
                if used:  # closed while idle: an HTTP client asks again, once
                    try:
                        name = self.get(c)
                    except (OSError, http.client.HTTPException):
                        pass
                used = False
            self.record(started, name, False)
            used = name is not None
            time.sleep(0.005)
        c.close()

    def new_connections(self):
        while not self.done.is_set() and time.monotonic() < self.deadline:
            started = time.monotonic()
            c = http.client.HTTPConnection(VIP, PORT, timeout=3)
            try:
                name = self.get(c)
            except (OSError, http.client.HTTPException):
                name = None
            c.close()
            self.record(started, name, True)
            time.sleep(0.005)

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self):
        self.done.set()
        for t in self.threads:
            t.join()


def scenario(work):
    for n, (addr, port) in B.items():
        name_server(work, n, addr, port)
    write_config(work, [("b1", 1), ("b2", 1)])
    Proc("anycastd", [ANYCASTD, "-c", os.path.join(work, "anycastd.yaml")],
         os.path.join(work, "anycastd.log"))
    wait_until(lambda: ctl(work, "show", "proxy").get("ok"), 10, "anycastd's control socket")
    for n, (addr, port) in B.items():
        wait_until(lambda: listening(addr, port), 10, f"backend {n}")
    load = Load()
    load.start()
    marks = {}
    try:
        time.sleep(1)
        reload_with(work, [("b1", 1), ("b2", 1), ("b3", 1)], "added", "b3")
        time.sleep(1)
        marks["drained"] = time.monotonic()
        out = subprocess.run([ANYCASTCTL, "-s", f"{work}/anycastd.sock", "backend", "web",
                              f"{B['b2'][0]}:{B['b2'][1]}", "drain"], capture_output=True,
                             text=True, timeout=10)
        check(out.returncode == 0, f"b2 drained: {out.stdout.strip()} {out.stderr.strip()}")
        time.sleep(1)
        reload_with(work, [("b1", 1), ("b2", 1), ("b3", 3)], "changed", "b3")
        time.sleep(1)
        reload_with(work, [("b2", 1), ("b3", 3)], "removed", "b1")
        marks["reloaded"] = time.monotonic()
        time.sleep(3)  # past b1's drain-time
    finally:
        load.stop()
    res = load.results
    failed = [r for r in res if r[1] is None]
    check(len(res) > 200 and not failed,
          f"{len(res)} requests under the changes, {len(failed)} failed")
    after_drain = [r for r in res if r[2] and r[0] > marks["drained"] + 0.2 and r[1] == "b2"]
    check(not after_drain, f"no new connection reached the drained b2 ({len(after_drain)})")
    after_removal = [r for r in res if r[2] and r[0] > marks["reloaded"] and r[1] == "b1"]
    check(not after_removal, f"no new connection reached the removed b1 ({len(after_removal)})")
    # b2 is drained: its keep-alive connections go on; b1's were closed after its drain-time.
    last = [r[1] for r in res if r[0] > marks["reloaded"] + 1.5]
    check(last and "b1" not in last and "b3" in last,
          f"after b1's drain-time no request is b1's: {sorted(set(last))}")
    st = ctl(work, "show", "proxy")["services"][0]["backends"]
    check([b["removed"] for b in st] == [True, False, False],
          f"show proxy keeps the removed b1, marked: {[b['removed'] for b in st]}")


if __name__ == "__main__":
    sys.exit(run_test("reload_backends", scenario))
