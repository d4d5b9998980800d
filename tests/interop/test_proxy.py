"""The L4 proxy on the VIP, with real backends: HTTP servers behind health checks (spread by
weight, a backend failing its check gets no new connection, one killed under load loses at
most the request in flight, all down refuses at once), DNS over UDP through a real dnsmasq,
and the PROXY v2 header read by a real HAProxy (`accept-proxy`)."""
import http.client
import os
import re
import signal
import socket
import sys
import threading
import time
import urllib.request

from harness import ANYCASTD, Proc, check, run_test, wait_until

NET = 14
VIP = f"127.0.{NET}.1"
WEB_PORT, DNS_PORT, PP_PORT = 18080, 18053, 18081
BACKENDS = {"weu-1": (f"127.0.{NET}.10", 18714, 3), "weu-2": (f"127.0.{NET}.11", 18714, 1)}
DNSMASQ, DNSMASQ_PORT = f"127.0.{NET}.20", 18514
KERNEL_DNS_PORT = 18054  # the same dnsmasq through `forwarding: nat` (root only)
NAT_WEB_PORT = 18082  # weu-1 through `forwarding: nat` (root only)
DNS_CLIENT = f"127.0.{NET}.50"
ROOT = os.geteuid() == 0
HAPROXY, HAPROXY_PORT = f"127.0.{NET}.30", 18730
INTERVAL, FALL = 0.2, 2
MAX_SECONDS = 20  # every client loop stops by itself after this


def backend(work, name):
    addr, port, _ = BACKENDS[name]
    root = os.path.join(work, name)
    os.makedirs(root, exist_ok=True)
    for page in ("index.html", "health.txt"):
        with open(os.path.join(root, page), "w") as f:
            f.write(name + "\n")
    return Proc(name, [sys.executable, "-m", "http.server", "--bind", addr, "--directory", root,
                       str(port)], os.path.join(work, f"{name}.log"))


def config(work):
    checks = "".join(
        f"  {n}: {{type: http, address: {a}, port: {p}, path: /health.txt, "
        f"interval: {INTERVAL}, rise: 1, fall: {FALL}}}\n" for n, (a, p, _) in BACKENDS.items())
    webs = "".join(f"      - {{address: {a}, port: {p}, weight: {w}, checks: [{n}]}}\n"
                   for n, (a, p, w) in BACKENDS.items())
    nat = f"""  - name: web-nat
    address: {VIP}
    port: {NAT_WEB_PORT}
    forwarding: nat
    backends:
      - {{address: {BACKENDS["weu-1"][0]}, port: {BACKENDS["weu-1"][1]}, checks: [weu-1]}}
  - name: dns-nat
    address: {VIP}
    port: {KERNEL_DNS_PORT}
    protocol: udp
    forwarding: nat
    backends:
      - {{address: {DNSMASQ}, port: {DNSMASQ_PORT}}}
""" if ROOT else ""
    cfg = os.path.join(work, "anycastd.yaml")
    with open(cfg, "w") as f:
        f.write(f"""router-id: 198.18.{NET}.1
local-as: 65010
proxy: {{nat-state: none}}
checks:
{checks}services:
  - name: web
    address: {VIP}
    port: {WEB_PORT}
    drain-time: 1
    backends:
{webs}  - name: dns
    address: {VIP}
    port: {DNS_PORT}
    protocol: udp
    backends:
      - {{address: {DNSMASQ}, port: {DNSMASQ_PORT}}}
{nat}  - name: pp
    address: {VIP}
    port: {PP_PORT}
    proxy-protocol: true
    backends:
      - {{address: {HAPROXY}, port: {HAPROXY_PORT}}}
""")
    return cfg


def haproxy(work):
    conf = os.path.join(work, "haproxy.cfg")
    with open(conf, "w") as f:
        f.write(f"""global
  maxconn 4096
defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
frontend fe
  bind {HAPROXY}:{HAPROXY_PORT} accept-proxy
  http-request return status 200 content-type text/plain lf-string "%[src]:%[src_port] %[dst]:%[dst_port]"
""")
    return Proc("haproxy", ["haproxy", "-db", "-f", conf], os.path.join(work, "haproxy.log"))


def get(port=WEB_PORT, path="/index.html", timeout=2):
    with urllib.request.urlopen(f"http://{VIP}:{port}{path}", timeout=timeout) as r:
        return r.read().decode().strip()


def served_by(n):
    out = {}
    for _ in range(n):
        name = get()
        out[name] = out.get(name, 0) + 1
    return out


def proxied_requests(work, name):
    """Requests for the page (not the health check) that reached a backend."""
    with open(os.path.join(work, f"{name}.log"), errors="replace") as f:
        return sum("GET /index.html" in line for line in f)


def log_of(work, name):
    with open(os.path.join(work, f"{name}.log"), errors="replace") as f:
        return f.read()


def log_has(work, text):
    with open(os.path.join(work, "anycastd.log"), errors="replace") as f:
        return text in f.read()


def dns_query(txid, port=DNS_PORT):
    q = txid.to_bytes(2, "big") + b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" \
        b"\x03app\x07example\x00\x00\x01\x00\x01"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.bind((DNS_CLIENT, 0))
        s.sendto(q, (VIP, port))
        answer, source = s.recvfrom(512)
    return answer, source


class Load(threading.Thread):
    """One request at a time on a new connection, until stopped or MAX_SECONDS."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop, self.served, self.lost = threading.Event(), [], []

    def run(self):
        deadline = time.monotonic() + MAX_SECONDS
        while not self.stop.is_set() and time.monotonic() < deadline:
            t = time.monotonic()
            try:
                self.served.append((t, get(timeout=1)))
            except OSError as e:
                self.lost.append((t, str(e)))
            time.sleep(0.01)


def scenario(work):
    webs = {n: backend(work, n) for n in BACKENDS}
    dns = Proc("dnsmasq", ["dnsmasq", "-k", "--conf-file=/dev/null",
                           f"--listen-address={DNSMASQ}", "--bind-interfaces",
                           f"--port={DNSMASQ_PORT}", "--no-resolv", "--no-hosts",
                           "--address=/app.example/1.1.1.1", "--user=root", "--log-queries",
                           f"--pid-file={work}/dnsmasq.pid", "--log-facility=-"],
               os.path.join(work, "dnsmasq.log"))
    lb = haproxy(work)
    nva = Proc("anycastd", [ANYCASTD, "-c", config(work), "--log-level", "debug"],
               os.path.join(work, "anycastd.log"))
    del dns, lb
    wait_until(lambda: log_has(work, "check weu-1: up") and log_has(work, "check weu-2: up"),
               10, "both backends' checks up")

    spread = served_by(40)
    check(abs(spread.get("weu-1", 0) - 30) <= 2 and abs(spread.get("weu-2", 0) - 10) <= 2,
          f"40 connections spread 3:1 by weight: {spread}")

    answer, source = dns_query(0x4242)
    check(answer[:2] == b"\x42\x42" and socket.inet_aton("1.1.1.1") in answer,
          "a DNS query through the UDP service gets dnsmasq's answer (1.1.1.1)")
    check(source == (VIP, DNS_PORT), f"the answer comes from the VIP itself: {source}")
    seen = wait_until(lambda: re.findall(r"query\[A\] app\.example from (\S+)",
                                         log_of(work, "dnsmasq")), 5, "dnsmasq to log the query")
    check(seen == [seen[0]] and seen[0] != DNS_CLIENT,
          f"through the threads, dnsmasq sees the proxy's address ({seen[0]}), not the client's")

    if ROOT:
        check(log_has(work, f"udp {VIP}:{KERNEL_DNS_PORT} to 1 backends on")
              and log_has(work, "forwarding in the kernel (address translation)"),
              "the nat service says at start that the kernel forwards it")
        answer, source = dns_query(0x4343, KERNEL_DNS_PORT)
        check(answer[:2] == b"\x43\x43" and socket.inet_aton("1.1.1.1") in answer,
              "a DNS query through address translation gets dnsmasq's answer (1.1.1.1)")
        check(source == (VIP, KERNEL_DNS_PORT), f"that answer comes from the VIP too: {source}")
        wait_until(lambda: f"query[A] app.example from {DNS_CLIENT}" in log_of(work, "dnsmasq"),
                   5, "dnsmasq to log the query")
        check(True, f"and dnsmasq saw it come from the client itself ({DNS_CLIENT})")

        web = http.client.HTTPConnection(VIP, NAT_WEB_PORT, timeout=2,
                                         source_address=(DNS_CLIENT, 0))
        web.request("GET", "/index.html")
        me = web.sock.getsockname()
        page = web.getresponse().read().decode().strip()
        web.close()
        check(page == "weu-1", f"an HTTP request through TCP address translation is served: {page!r}")
        wait_until(lambda: f"{me[0]} - - " in log_of(work, "weu-1"), 5,
                   "weu-1 to log the request")
        check(True, f"and the web server logged the client's own address ({me[0]})")

    with socket.create_connection((VIP, PP_PORT), timeout=2) as s:
        me = s.getsockname()
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        reply = b""
        while chunk := s.recv(4096):
            reply += chunk
    body = reply.decode().split("\r\n\r\n", 1)[-1].strip()
    check(body == f"{me[0]}:{me[1]} {VIP}:{PP_PORT}",
          f"HAProxy (accept-proxy) read our PROXY v2 header: client and VIP are {body!r}")

    # weu-2 fails its check but still answers: after the check goes down, no new
    # connection may reach it.
    os.remove(os.path.join(work, "weu-2", "health.txt"))
    wait_until(lambda: log_has(work, "check weu-2: down"), 5, "weu-2's check down")
    before = proxied_requests(work, "weu-2")
    spread = served_by(20)
    time.sleep(0.2)
    check(spread == {"weu-1": 20} and proxied_requests(work, "weu-2") == before,
          f"after weu-2's check failed, every new connection went to weu-1: {spread}")
    with open(os.path.join(work, "weu-2", "health.txt"), "w") as f:
        f.write("weu-2\n")
    wait_until(lambda: "weu-2" in served_by(8), 5, "weu-2 serving again once its check passes")

    # weu-2 killed under load: the proxy retries the refused connect on weu-1 and the
    # passive failure re-checks weu-2 at once.
    load = Load()
    load.start()
    try:
        wait_until(lambda: len(load.served) >= 20, 10, "requests under load")
        t_kill = time.monotonic()
        webs["weu-2"].p.send_signal(signal.SIGKILL)
        wait_until(lambda: log_has(work, "check weu-2: down"), 5, "weu-2's check down")
        n = len(load.served)
        wait_until(lambda: len(load.served) >= n + 20, 10, "requests after the kill")
    finally:
        load.stop.set()
        load.join(5)
    after = [r for t, r in load.served if t > t_kill]
    check(len(load.lost) <= 1,
          f"at most the request in flight lost when weu-2 was killed: {load.lost}")
    check(set(after) == {"weu-1"}, f"{len(after)} requests after the kill all served by weu-1")
    with open(os.path.join(work, "anycastd.log"), errors="replace") as f:
        why = re.findall(r"check weu-2: down \((.*)\)", f.read())
    check(why and re.match(r"(refused|reset)", why[-1]),
          f"the log says why weu-2 went down: {why[-1] if why else None!r}")

    # Nothing healthy: a new connection is refused at once, not left hanging.
    webs["weu-1"].stop()
    wait_until(lambda: log_has(work, "check weu-1: down"), 5, "weu-1's check down")
    t0 = time.monotonic()
    try:
        get(timeout=5)
        refused = False
    except OSError:
        refused = True
    took = time.monotonic() - t0
    check(refused and took < 0.5, f"with no healthy backend the VIP refuses in {took * 1000:.0f} ms")

    # Shutdown waits for open connections (here one idle one, through HAProxy, whose
    # service drains for the default 10 s); a second signal stops waiting.
    held = socket.create_connection((VIP, PP_PORT), timeout=2)
    time.sleep(0.2)
    nva.signal(signal.SIGTERM)
    wait_until(lambda: log_has(work, "connections open, letting them finish"), 5,
               "the shutdown waiting for the open connection")
    time.sleep(0.5)
    check(nva.p.poll() is None, "still running while a proxied connection is open")
    t0 = time.monotonic()
    nva.signal(signal.SIGTERM)
    nva.p.wait(10)
    took = time.monotonic() - t0
    check(nva.p.returncode == 0 and log_has(work, "anycastd stopped") and took < 2,
          f"a second SIGTERM stops it cleanly at once ({took * 1000:.0f} ms)")
    held.settimeout(2)
    try:
        closed = held.recv(1) == b""
    except OSError:
        closed = True
    check(closed, "the held connection was closed")
    held.close()


def main():
    return run_test("proxy", scenario, needs=("dnsmasq", "haproxy"))


if __name__ == "__main__":
    sys.exit(main())
