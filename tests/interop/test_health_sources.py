"""The seed-001 application is DNS, and seed 004 keeps HAProxy: a DNS check against a real
dnsmasq (stopped, restarted, answering another region's address) and an HAProxy stats check
against a real haproxy (server put in maintenance, backend killed), each driving its VIP as
BIRD sees it."""
import os
import signal
import socket
import sys
import time

import harness
from harness import ANYCASTD, Proc, check, run_test, wait_until
from test_bird import Bird

NET = 10
NVA, BIRD, BACKEND = f"127.0.{NET}.1", f"127.0.{NET}.2", f"127.0.{NET}.10"
DNS, HAPROXY_FE = f"127.0.{NET}.11", f"127.0.{NET}.12"
NVA_PORT, BIRD_PORT, WEB_PORT = 17900 + NET, 18000 + NET, 18700 + NET
DNS_PORT, FE_PORT = 18500 + NET, 18600 + NET
VIP_DNS, VIP_LB = f"198.18.{NET}.1/32", f"198.18.{NET}.2/32"
INTERVAL, RISE, FALL = 0.5, 2, 3


def dnsmasq(work, answer):
    # A resolver for one name, as in seed 001: each region answers with its own address.
    return Proc("dnsmasq", ["dnsmasq", "-k", "--conf-file=/dev/null", f"--listen-address={DNS}",
                            "--bind-interfaces", f"--port={DNS_PORT}", "--no-resolv", "--no-hosts",
                            f"--address=/app.example/{answer}", "--user=root",
                            f"--pid-file={work}/dnsmasq.pid", "--log-queries=extra",
                            "--log-facility=-"],
                os.path.join(work, "dnsmasq.log"))


def answering(expected):
    """One query by hand, as `nslookup app.example` would."""
    q = b"\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03app\x07example\x00\x00\x01\x00\x01"
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.3)
            s.sendto(q, (DNS, DNS_PORT))
            r = s.recv(512)
            return socket.inet_aton(expected) in r
    except OSError:
        return False


def web(work):
    root = os.path.join(work, "www")
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "index.html"), "w") as f:
        f.write("west-europe\n")
    return Proc("web", [sys.executable, "-m", "http.server", "--bind", BACKEND, "--directory",
                        root, str(WEB_PORT)], os.path.join(work, "web.log"))


def haproxy(work, sock):
    conf = os.path.join(work, "haproxy.cfg")
    with open(conf, "w") as f:
        f.write(f"""global
  maxconn 4096
  stats socket {sock} mode 600 level admin
defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
frontend fe
  bind {HAPROXY_FE}:{FE_PORT}
  default_backend web
backend web
  option httpchk GET /
  server weu-1 {BACKEND}:{WEB_PORT} check inter 200ms fall 2 rise 2
""")
    return Proc("haproxy", ["haproxy", "-db", "-f", conf], os.path.join(work, "haproxy.log"))


def haproxy_cmd(sock, cmd):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        s.connect(sock)
        s.sendall(cmd.encode() + b"\n")
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out.decode()


def log_has(work, text):
    with open(os.path.join(work, "anycastd.log"), errors="replace") as f:
        return text in f.read()


def scenario(work):
    bird = Bird()
    bird.start(work, BIRD, BIRD_PORT, NVA, NVA_PORT, peer_passive=True)
    dns = dnsmasq(work, "1.1.1.1")
    backend = web(work)
    sock = os.path.join(work, "haproxy.sock")
    lb = haproxy(work, sock)
    wait_until(lambda: answering("1.1.1.1"), 10, "dnsmasq answering app.example")
    wait_until(lambda: os.path.exists(sock) and "weu-1" in haproxy_cmd(sock, "show stat"), 10,
               "haproxy's stats socket")
    cfg = os.path.join(work, "anycastd.yaml")
    with open(cfg, "w") as f:
        f.write(f"""router-id: 198.18.{NET}.1
local-as: {harness.NVA_AS}
peers:
  - {{address: {BIRD}, remote-as: {harness.PEER_AS}, port: {BIRD_PORT}, local-address: {NVA},
      connect-retry: 1, hold-time: 9}}
checks:
  resolver:
    type: dns
    address: {DNS}
    port: {DNS_PORT}
    name: app.example
    answer: 1.1.1.1
    interval: {INTERVAL}
    rise: {RISE}
    fall: {FALL}
  lb:
    type: haproxy
    socket: {sock}
    backend: web
    server: weu-1
    interval: {INTERVAL}
    rise: {RISE}
    fall: {FALL}
vips:
  - prefix: {VIP_DNS}
    health: {{checks: [resolver]}}
  - prefix: {VIP_LB}
    health: {{checks: [lb]}}
""")
    Proc("anycastd", [ANYCASTD, "-c", cfg, "--log-level", "debug"],
         os.path.join(work, "anycastd.log"))
    for vip in (VIP_DNS, VIP_LB):
        wait_until(lambda: bird.route(vip), 30, f"BIRD holding {vip}")
    check(True, "DNS and HAProxy checks up: both VIPs announced")

    # DNS server stopped: queries are refused (ICMP port unreachable), fall checks later
    # the VIP is gone.
    t0 = time.monotonic()
    dns.signal(signal.SIGKILL)
    dns.p.wait(5)
    wait_until(lambda: bird.route(VIP_DNS) is None, 10, "BIRD losing the DNS VIP")
    gone = time.monotonic() - t0
    limit = FALL * INTERVAL + 0.2
    check(gone <= limit, f"DNS VIP gone {gone * 1000:.0f} ms after dnsmasq died "
                         f"(limit fall x interval + 200 ms = {limit * 1000:.0f} ms)")
    check(bird.route(VIP_LB) is not None, "the HAProxy VIP is untouched")
    check(log_has(work, "resolver: down (refused"), "the log names the reason: refused")

    dns = dnsmasq(work, "1.1.1.1")
    wait_until(lambda: answering("1.1.1.1"), 10, "dnsmasq answering again")
    t0 = time.monotonic()
    wait_until(lambda: bird.route(VIP_DNS), 10, "DNS VIP back")
    back = time.monotonic() - t0
    check(back <= (RISE + 1) * INTERVAL + 0.5,
          f"DNS VIP back {back * 1000:.0f} ms after dnsmasq answered (rise x interval = "
          f"{RISE * INTERVAL * 1000:.0f} ms, plus up to one interval to the next check)")

    # The server answers, but with the other region's address: not this region's app.
    dns.stop()
    dns = dnsmasq(work, "2.2.2.2")
    wait_until(lambda: answering("2.2.2.2"), 10, "dnsmasq answering 2.2.2.2")
    wait_until(lambda: bird.route(VIP_DNS) is None, 10, "DNS VIP withdrawn on a wrong answer")
    check(log_has(work, "answer 2.2.2.2, expected 1.1.1.1"),
          "the log names the wrong answer: 2.2.2.2 where 1.1.1.1 was expected")

    # HAProxy's own view drives the VIP: server put in maintenance, then back.
    haproxy_cmd(sock, "disable server web/weu-1")
    wait_until(lambda: bird.route(VIP_LB) is None, 10, "HAProxy VIP withdrawn: server MAINT")
    check(log_has(work, "web/weu-1 is MAINT"), "the log says web/weu-1 is MAINT")
    haproxy_cmd(sock, "enable server web/weu-1")
    wait_until(lambda: bird.route(VIP_LB), 10, "HAProxy VIP back: server enabled")
    check(True, "server enabled in HAProxy: VIP announced again")

    # The backend behind HAProxy dies: HAProxy's checks mark it DOWN, we follow.
    backend.signal(signal.SIGKILL)
    backend.p.wait(5)
    wait_until(lambda: bird.route(VIP_LB) is None, 10, "HAProxy VIP withdrawn: backend DOWN")
    check(log_has(work, "web/weu-1 is DOWN"), "the log says web/weu-1 is DOWN")
    lb.stop()


def main():
    return run_test("health_sources", scenario, needs=("bird", "birdc", "dnsmasq", "haproxy"))


if __name__ == "__main__":
    sys.exit(main())
