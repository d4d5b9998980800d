"""anycastctl against a running anycastd peered with BIRD: every command's table and JSON,
drain/undrain as BIRD sees them (65535:0 on the route), and the exit codes scripts test."""
import json
import socket
import threading
import re
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import harness
from harness import ANYCASTD, Proc, check, run_test, wait_until
from test_bird import Bird

NET = 16
NVA, BIRD, BACKEND = f"127.0.{NET}.1", f"127.0.{NET}.2", f"127.0.{NET}.10"
NVA_PORT, BIRD_PORT, WEB_PORT, PROXY_PORT = 17900 + NET, 18000 + NET, 18700 + NET, 18080
METRICS_PORT = 18900 + NET
VIP, PLAIN_VIP = f"198.18.{NET}.100/32", f"198.18.{NET}.101/32"
CTL = os.environ.get("ANYCASTCTL", os.path.join(os.path.dirname(ANYCASTD), "anycastctl"))
SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMPLETION = os.path.join(SOURCE, "packaging", "anycastctl.bash-completion")
sys.path.insert(0, os.path.join(SOURCE, "tests", "packaging"))
import completion  # noqa: E402
import monitoring  # noqa: E402


def ctl(sock, *args):
    r = subprocess.run([CTL, "-s", sock, *args], capture_output=True, text=True, timeout=20)
    return r.returncode, r.stdout, r.stderr


def ctl_json(sock, *args):
    rc, out, err = ctl(sock, "-j", *args)
    if rc != 0:
        raise harness.Fail(f"anycastctl -j {' '.join(args)}: exit {rc}: {out}{err}")
    return json.loads(out)


def raw_request(sock, req):
    """One request as a script would send it, without anycastctl: a JSON line, a JSON line
    back."""
    with socket.socket(socket.AF_UNIX) as c:
        c.settimeout(10)
        c.connect(sock)
        c.sendall((json.dumps(req) + "\n").encode())
        data = b""
        while not data.endswith(b"\n"):
            chunk = c.recv(65536)
            if not chunk:
                raise harness.Fail(f"{json.dumps(req)}: the daemon closed without an answer")
            data += chunk
    return json.loads(data)


def healthz():
    """GET /healthz on the metrics listener: (status, body)."""
    try:
        with urllib.request.urlopen(f"http://{NVA}:{METRICS_PORT}/healthz", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def rows(table):
    """A table's lines split on runs of two or more spaces, header first."""
    import re
    return [re.split(r"\s{2,}", line.strip()) for line in table.strip().splitlines()]


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)')


def scrape():
    """Parses the exposition strictly (text format 0.0.4): {(name, frozenset(labels)): value}.
    Every sample needs a # TYPE for its family before it; counters end in _total."""
    with urllib.request.urlopen(f"http://{NVA}:{METRICS_PORT}/metrics", timeout=5) as r:
        ctype = r.headers["Content-Type"]
        text = r.read().decode()
    if not ctype.startswith("text/plain; version=0.0.4"):
        raise harness.Fail(f"metrics Content-Type {ctype!r}")
    types, out = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            if kind not in ("counter", "gauge", "histogram") or \
                    (kind == "counter") != name.endswith("_total"):
                raise harness.Fail(f"bad TYPE line {line!r}")
            types[name] = kind
            if kind == "histogram":
                for suffix in ("_bucket", "_sum", "_count"):
                    types[name + suffix] = kind
            continue
        if line.startswith("# HELP "):
            continue
        m = SAMPLE.match(line)
        if not m or m.group(1) not in types:
            raise harness.Fail(f"metrics line not in the text format, or without TYPE: {line!r}")
        labels = frozenset(LABEL.findall(m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    # The reference parser must read the same samples: Prometheus's own client library.
    theirs = {}
    for family in prometheus_parser().text_string_to_metric_families(text):
        for sample in family.samples:
            theirs[(sample.name, frozenset(sample.labels.items()))] = sample.value
    if theirs != out:
        diff = set(theirs.items()) ^ set(out.items())
        raise harness.Fail(f"prometheus_client reads the metrics differently: {sorted(diff)[:5]}")
    return out


def prometheus_parser():
    """prometheus_client's text parser, from Debian's python3-prometheus-client even when the
    interpreter running the tests is not Debian's own."""
    try:
        from prometheus_client import parser
    except ImportError:
        sys.path.append("/usr/lib/python3/dist-packages")
        try:
            from prometheus_client import parser
        except ImportError:
            raise harness.Fail("python3-prometheus-client is missing (scripts/install-deps installs it)")
    return parser


def scenario(work):
    bird = Bird()
    bird.start(work, BIRD, BIRD_PORT, NVA, NVA_PORT, peer_passive=True)
    root = os.path.join(work, "www")
    os.makedirs(root)
    with open(os.path.join(root, "index.html"), "w") as f:
        f.write("west-europe\n")
    web = Proc("web", [sys.executable, "-m", "http.server", "--bind", BACKEND, "--directory",
                       root, str(WEB_PORT)], os.path.join(work, "web.log"))
    sock = os.path.join(work, "anycastd.sock")
    cfg = os.path.join(work, "anycastd.yaml")
    with open(cfg, "w") as f:
        f.write(f"""router-id: {NVA}
local-as: {harness.NVA_AS}
peers:
  - {{address: {BIRD}, remote-as: {harness.PEER_AS}, port: {BIRD_PORT}, local-address: {NVA},
      connect-retry: 1, hold-time: 9, import: accept}}
checks:
  web: {{type: http, address: {BACKEND}, port: {WEB_PORT}, interval: 0.2, rise: 1, fall: 2}}
vips:
  - prefix: {VIP}
    health: {{checks: [web], drain-time: 30}}
  - prefix: {PLAIN_VIP}
services:
  - name: web
    address: {NVA}
    port: {PROXY_PORT}
    backends: [{{address: {BACKEND}, port: {WEB_PORT}, checks: [web]}}]
control: {{socket: {sock}}}
metrics: {{address: {NVA}, port: {METRICS_PORT}, healthz: all-vips}}
""")
    Proc("anycastd", [ANYCASTD, "-c", cfg], os.path.join(work, "anycastd.log"))
    wait_until(lambda: bird.route(VIP) and bird.route(PLAIN_VIP), 20, "BIRD holding both VIPs")
    check(oct(os.stat(sock).st_mode & 0o777) == "0o600", "the control socket is mode 0600")
    # A client that connects and never asks is dropped after 10 s (runs alongside the rest).
    silent = {}

    def hold_silent():
        with socket.socket(socket.AF_UNIX) as c:
            c.connect(sock)
            c.settimeout(15)
            t = time.monotonic()
            silent["eof"] = c.recv(1) == b""
            silent["after"] = time.monotonic() - t
    holder = threading.Thread(target=hold_silent, daemon=True)
    holder.start()

    peers = ctl_json(sock, "show", "peers")["peers"]
    check(len(peers) == 1 and peers[0]["address"] == BIRD and peers[0]["state"] == "Established"
          and peers[0]["remote_as"] == harness.PEER_AS and peers[0]["advertised"] == 2,
          f"show peers -j: BIRD Established: {peers}")
    # Our 9 s against BIRD's default 240 s: the smaller holds, keepalives every 3 s.
    check(peers[0]["configured_hold_time"] == 9 and peers[0]["peer_hold_time"] == 240 and
          peers[0]["hold_time"] == 9 and peers[0]["keepalive"] == 3,
          f"show peers -j: negotiated timers: {peers[0]}")
    rc, out, _ = ctl(sock, "show", "peers")
    t = rows(out)
    check(rc == 0 and t[0][:3] == ["Peer", "AS", "State"] and t[1][:3] ==
          [BIRD, str(harness.PEER_AS), "Established"], f"show peers table:\n{out}")

    wait_until(lambda: any(r["prefix"] == harness.PEER_ROUTE for r in
                           ctl_json(sock, "show", "routes")["routes"]), 10, "BIRD's route in our RIB")
    loc = {(r["prefix"], r["from"]): r for r in ctl_json(sock, "show", "routes")["routes"]}
    theirs, ours = loc[(harness.PEER_ROUTE, BIRD)], loc[(VIP, "local")]
    check(theirs["best"] and theirs["as_path"] == f"{harness.PEER_AS} 4200000001"
          and theirs["next_hop"] == BIRD and "4200000002:7:8" in theirs["communities"],
          f"show routes -j: BIRD's route, best, with its path and large community: {theirs}")
    check(ours["best"] and ours["as_path"] == "", f"show routes -j: the VIP originated here: {ours}")
    rc, out, _ = ctl(sock, "show", "routes", harness.PEER_ROUTE)
    t = rows(out)
    check(rc == 0 and t[0][:3] == ["Prefix", "From", "AS path"] and len(t) == 2 and
          t[1][:4] == ["*", harness.PEER_ROUTE, BIRD, f"{harness.PEER_AS} 4200000001"],
          f"show routes PREFIX table, '*' on the best path:\n{out}")
    rx = ctl_json(sock, "show", "routes", "--peer", BIRD, "--received")["routes"]
    check([r["prefix"] for r in rx] == [harness.PEER_ROUTE], f"--received from BIRD: {rx}")
    adv = {r["prefix"]: r for r in
           ctl_json(sock, "show", "routes", "--peer", BIRD, "--advertised")["routes"]}
    check(set(adv) == {VIP, PLAIN_VIP} and adv[VIP]["as_path"] == str(harness.NVA_AS)
          and adv[VIP]["next_hop"] == NVA,
          f"--advertised to BIRD: both VIPs, path {harness.NVA_AS}, next hop us: {adv}")
    rc, _, err = ctl(sock, "show", "routes", "--advertised")
    check(rc == 1 and "needs --peer" in err, f"--advertised without --peer: exit 1, {err.strip()!r}")

    vips = {v["prefix"]: v for v in ctl_json(sock, "show", "vips")["vips"]}
    check(vips[VIP]["state"] == "announced" and vips[PLAIN_VIP]["state"] == "announced",
          f"show vips -j: both announced: {vips}")
    rc, out, _ = ctl(sock, "show", "vips")
    check(rc == 0 and any(r[:2] == [VIP, "announced"] for r in rows(out)),
          f"show vips table:\n{out}")

    checks = ctl_json(sock, "show", "health")["checks"]
    check(checks[0]["name"] == "web" and checks[0]["up"] and checks[0]["last"] == "ok"
          and checks[0]["latency_ms"] > 0, f"show health -j: web up, latency: {checks}")

    for _ in range(3):
        urllib.request.urlopen(f"http://{NVA}:{PROXY_PORT}/", timeout=2).read()
    svc = wait_until(lambda: next((s for s in ctl_json(sock, "show", "proxy")["services"]
                                   if s["connections"] == 3 and s["active"] == 0), None),
                     5, "three proxied connections counted")
    b = svc["backends"][0]
    check(b["healthy"] and b["connections"] == 3 and b["bytes_out"] > 3 * len("west-europe\n"),
          f"show proxy -j: per-backend counters: {b}")
    rc, out, _ = ctl(sock, "show", "proxy")
    check(rc == 0 and "web backends:" in out and f"{BACKEND}:{WEB_PORT}" in out,
          f"show proxy table:\n{out}")

    m = scrape()
    peer = frozenset({("peer", BIRD), ("remote_as", str(harness.PEER_AS))})
    backend = frozenset({("service", "web"), ("backend", f"{BACKEND}:{WEB_PORT}")})
    check(m[("anycastd_bgp_session_up", peer)] == 1 and
          m[("anycastd_bgp_session_established_total", peer)] == 1 and
          m[("anycastd_bgp_prefixes_advertised", peer)] == 2 and
          m[("anycastd_bgp_updates_sent_total", peer)] >= 1 and
          m[("anycastd_bgp_prefixes_accepted", peer)] == 1 and
          m[("anycastd_vip_announced", frozenset({("vip", VIP)}))] == 1 and
          m[("anycastd_vip_state", frozenset({("vip", VIP), ("state", "announced")}))] == 1 and
          m[("anycastd_check_up", frozenset({("check", "web")}))] == 1 and
          m[("anycastd_check_latency_seconds", frozenset({("check", "web")}))] > 0,
          "metrics: session up, VIP announced, check up with its latency")
    web_check = frozenset({("check", "web")})
    n = m[("anycastd_check_duration_seconds_count", web_check)]
    buckets = sorted((float(dict(k[1])["le"]), v) for k, v in m.items()
                     if k[0] == "anycastd_check_duration_seconds_bucket")
    check(n >= 1 and buckets[-1] == (float("inf"), n) and
          all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])) and
          m[("anycastd_check_results_total", web_check | {("result", "ok")})] >= 1 and
          n == sum(v for k, v in m.items() if k[0] == "anycastd_check_results_total"
                   and ("result", "timeout") not in k[1]),
          f"metrics: the check's duration histogram is cumulative and counts every answered "
          f"check ({n:.0f})")
    check(m[("anycastd_proxy_connections_total", backend)] == 3 and
          m[("anycastd_proxy_active_connections", backend)] == 0 and
          m[("anycastd_proxy_backend_healthy", backend)] == 1 and
          m[("anycastd_proxy_sent_bytes_total", backend)] == b["bytes_out"] and
          m[("anycastd_proxy_received_bytes_total", backend)] == b["bytes_in"],
          "metrics: the proxy's per-backend counters agree with show proxy")
    start = m[("anycastd_process_start_time_seconds", frozenset())]
    version = subprocess.run([ANYCASTD, "--version"], capture_output=True, text=True,
                             check=True).stdout.split()[-1]
    check(0 < time.time() - start < 120 and
          m[("anycastd_build_info", frozenset({("version", version)}))] == 1,
          f"metrics: process start time and build info (version {version}, as --version says)")
    served = {k[0] for k in m}
    used = monitoring.metric_names(os.path.join(SOURCE, "contrib"))
    missing = {n: w for n, w in used.items() if n not in served and n + "_bucket" not in served}
    check(len(used) >= 15 and not missing,
          f"every one of the {len(used)} metrics the Grafana dashboards and alert rules in "
          f"contrib/ use is served by the daemon; missing: {missing}")

    def tab(line):
        return completion.complete(COMPLETION, os.path.dirname(CTL), line)
    got = tab(f"anycastctl -s {sock} drain ")
    check(got == sorted([VIP, PLAIN_VIP]), f"bash completion of drain: the daemon's VIPs: {got}")
    got = tab(f"anycastctl --socket {sock} undrain 198.18.{NET}.100")
    check(got == [VIP], f"bash completion of a VIP's beginning: {got}")
    got = tab(f"anycastctl -s {sock} show routes --peer ")
    check(got == [BIRD], f"bash completion of --peer: the daemon's peers: {got}")
    try:
        urllib.request.urlopen(f"http://{NVA}:{METRICS_PORT}/", timeout=5)
        check(False, "only /metrics is served")
    except urllib.error.HTTPError as e:
        check(e.code == 404, "any other path is 404")

    rc, out, _ = ctl(sock, "drain", VIP)
    check(rc == 0 and out.strip() == f"{VIP}: draining", f"drain: {out!r}")
    wait_until(lambda: "65535:0" in (bird.route(VIP) or {}).get("communities", []), 5,
               "BIRD seeing GRACEFUL_SHUTDOWN on the drained VIP")
    rc, out, _ = ctl(sock, "undrain", VIP)
    check(rc == 0 and out.strip() == f"{VIP}: announced", f"undrain: {out!r}")
    wait_until(lambda: "65535:0" not in (bird.route(VIP) or {"communities": ["65535:0"]})
               ["communities"], 5, "BIRD's route without 65535:0 again")

    rc, _, err = ctl(sock, "drain", PLAIN_VIP)
    check(rc == 1 and "has no health settings" in err, f"drain of a VIP without checks: exit 1, {err.strip()!r}")
    rc, _, err = ctl(sock, "drain", "198.18.99.1")
    check(rc == 1 and "no VIP 198.18.99.1/32" in err, f"unknown VIP: exit 1, {err.strip()!r}")
    rc, _, err = ctl(os.path.join(work, "nobody.sock"), "show", "peers")
    check(rc == 3 and "cannot reach anycastd" in err, f"no daemon: exit 3, {err.strip()!r}")
    rc, _, _ = ctl(sock, "show", "nonsense")
    check(rc == 2, "bad usage: exit 2")

    # Wrong-typed JSON from a script: every field of every command answers an error naming
    # the field and the type, the daemon keeps its session, and no internal error was needed.
    fields = {"show peers": [], "show bfd": [], "show vips": [], "show health": [],
              "show proxy": [], "reload": [], "show routes": ["prefix", "peer", "view"],
              "drain": ["vip"], "undrain": ["vip"], "backend": ["service", "backend", "state"]}
    wrong = [(1, "a number"), (2.5, "a number"), (True, "true or false"), (None, "null"),
             ([1], "an array"), ({"a": 1}, "an object")]
    asked = 0
    for command, names in fields.items():
        for value, kind in wrong:
            for f in ["command"] + names:
                req = {"command": command, f: value}
                if command == "backend":  # the others present, so this one is the fault
                    req.update({g: "x" for g in names if g != f})
                a = raw_request(sock, req)
                asked += 1
                want = f'"{f}" must be a string, got {kind}'
                check(a.get("ok") is False and a.get("error") == want,
                      f"{json.dumps(req)} answered {a}, want error {want!r}")
    check(ctl_json(sock, "show", "peers")["peers"][0]["state"] == "Established",
          f"after {asked} wrong-typed requests the daemon answers and BGP stays up")
    m = scrape()
    check(m[("anycastd_internal_errors_total", frozenset())] == 0,
          "no request needed the last-resort catch (anycastd_internal_errors_total 0)")

    # The operator drains the backend at run time: show proxy and the metrics say so, new
    # connections are refused (it is the only one), and ready brings them back.
    rc, out, err = ctl(sock, "backend", "web", BACKEND, "drain")
    check(rc == 0 and out.strip() == f"web {BACKEND}:{WEB_PORT}: drain, weight 1",
          f"anycastctl backend web {BACKEND} drain: exit {rc}, {out!r} {err!r}")
    svc = ctl_json(sock, "show", "proxy")["services"][0]
    check(svc["backends"][0]["admin_state"] == "drain", f"show proxy: admin_state drain: {svc}")
    m = scrape()
    be = {("service", "web"), ("backend", f"{BACKEND}:{WEB_PORT}")}
    check(m[("anycastd_backend_admin_state", frozenset(be | {("state", "drain")}))] == 1 and
          m[("anycastd_backend_admin_state", frozenset(be | {("state", "ready")}))] == 0,
          "anycastd_backend_admin_state says drain")
    rc, _, err = ctl(sock, "backend", "web", BACKEND, "weight", "300")
    check(rc == 1 and '"weight" must be 0 to 256, not 300' in err, f"weight 300 refused: {err!r}")
    rc, _, err = ctl(sock, "backend", "mail", BACKEND, "ready")
    check(rc == 1 and "no service 'mail' (there are: web)" in err, f"unknown service: {err!r}")
    rc, out, _ = ctl(sock, "backend", "web", f"{BACKEND}:{WEB_PORT}", "ready")
    check(rc == 0 and "ready" in out, f"ready again: {out!r}")

    holder.join(16)
    check(silent.get("eof") and 9 <= silent["after"] <= 12,
          f"a silent control client is closed after 10 s: {silent}")

    code, text = healthz()
    check(code == 200 and text == "2 of 2 VIPs announced\n",
          f"GET /healthz with every VIP announced: {code} {text!r}")
    web.stop()
    wait_until(lambda: bird.route(VIP) is None, 10, "the VIP withdrawn when its backend stops")
    # A load balancer's probe (metrics.healthz: all-vips) sees the failed check at once.
    code, text = wait_until(lambda: (lambda r: r if r[0] == 503 else None)(healthz()), 10,
                            "/healthz 503 once the check fails")
    check(text.startswith(f"1 of 2 VIPs announced; first down: {VIP} withdrawn (0 of 1 healthy"),
          f"GET /healthz says which VIP and why: {text!r}")
    vips = {v["prefix"]: v for v in ctl_json(sock, "show", "vips")["vips"]}
    check(vips[VIP]["state"] == "withdrawn" and "0 of 1" in vips[VIP]["reason"],
          f"show vips says why: {vips[VIP]}")


def main():
    return run_test("anycastctl", scenario, needs=("bird", "birdc"))


if __name__ == "__main__":
    sys.exit(main())
