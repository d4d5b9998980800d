"""Health checks driving the announcement, as BIRD sees it: an HTTP backend killed and
restarted (withdraw within fall x interval + 200 ms, back after rise x interval), a degrade
VIP showing the longer path and its community, an exec check, and a drain (SIGUSR1) that
shows 65535:0 before the withdraw."""
import os
import signal
import socket
import sys
import time

import harness
from harness import ANYCASTD, Proc, check, run_test, wait_until
from test_bird import Bird

NET = 7
NVA, BIRD, BACKEND = f"127.0.{NET}.1", f"127.0.{NET}.2", f"127.0.{NET}.10"
NVA_PORT, BIRD_PORT, WEB_PORT = 17900 + NET, 18000 + NET, 18700 + NET
VIP_W, VIP_D, VIP_X = "198.18.9.1/32", "198.18.9.2/32", "198.18.9.3/32"
INTERVAL, RISE, FALL = 0.5, 2, 3


def backend(work):
    root = os.path.join(work, "www")
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "health"), "w") as f:
        f.write("region north-europe ok\n")
    return Proc("web", [sys.executable, "-m", "http.server", "--bind", BACKEND, "--directory",
                        root, str(WEB_PORT)], os.path.join(work, "web.log"))


def accepting(addr, port):
    try:
        socket.create_connection((addr, port), timeout=0.2).close()
        return True
    except OSError:
        return False


def scenario(work):
    flag = os.path.join(work, "in-service")
    open(flag, "w").close()
    bird = Bird()
    web = backend(work)
    bird.start(work, BIRD, BIRD_PORT, NVA, NVA_PORT, peer_passive=True)
    cfg = os.path.join(work, "anycastd.yaml")
    with open(cfg, "w") as f:
        f.write(f"""router-id: 198.18.{NET}.1
local-as: {harness.NVA_AS}
peers:
  - {{address: {BIRD}, remote-as: {harness.PEER_AS}, port: {BIRD_PORT}, local-address: {NVA},
      connect-retry: 1, hold-time: 9}}
checks:
  web:
    type: http
    address: {BACKEND}
    port: {WEB_PORT}
    path: /health
    body: "ok"
    interval: {INTERVAL}
    rise: {RISE}
    fall: {FALL}
  maintenance-flag:
    type: exec
    command: [test, -e, {flag}]
    interval: {INTERVAL}
    rise: 1
    fall: 1
vips:
  - prefix: {VIP_W}
    health: {{checks: [web], drain-time: 2, drain-prepend: 2}}
  - prefix: {VIP_D}
    health:
      checks: [web]
      action: degrade
      degrade: {{prepend: 3, communities: ["65010:666"]}}
  - prefix: {VIP_X}
    health: {{checks: [maintenance-flag]}}
""")
    a = Proc("anycastd", [ANYCASTD, "-c", cfg, "--log-level", "debug"],
             os.path.join(work, "anycastd.log"))
    for vip in (VIP_W, VIP_D, VIP_X):
        wait_until(lambda: bird.route(vip), 30, f"BIRD holding {vip}")
    check(bird.route(VIP_W)["as_path"] == [harness.NVA_AS], "healthy VIP announced, plain path")
    check(bird.route(VIP_D)["as_path"] == [harness.NVA_AS], "degrade VIP healthy: plain path")

    # The backend dies: the watch connection resets, fast re-checks confirm it.
    t0 = time.monotonic()
    web.signal(signal.SIGKILL)
    web.p.wait(5)
    wait_until(lambda: bird.route(VIP_W) is None, 10, "BIRD losing the VIP")
    gone = time.monotonic() - t0
    limit = FALL * INTERVAL + 0.2
    check(gone <= limit, f"VIP gone from BIRD {gone * 1000:.0f} ms after the backend died "
                         f"(limit fall x interval + 200 ms = {limit * 1000:.0f} ms)")
    r = wait_until(lambda: (lambda x: x if x and len(x["as_path"]) == 4 else None)(bird.route(VIP_D)),
                   10, "degraded VIP with a longer path")
    check(r["as_path"] == [harness.NVA_AS] * 4, f"degraded path {r['as_path']}")
    check("65010:666" in r["communities"], f"degrade community {r['communities']}")

    web = backend(work)
    wait_until(lambda: accepting(BACKEND, WEB_PORT), 10, "backend listening again")
    t0 = time.monotonic()
    wait_until(lambda: bird.route(VIP_W), 10, "VIP back after the backend returned")
    back = time.monotonic() - t0
    check(back <= (RISE + 1) * INTERVAL + 0.5,
          f"VIP back {back * 1000:.0f} ms after the backend listened (rise x interval = {RISE * INTERVAL * 1000:.0f} ms, "
          f"plus up to one interval to the next check)")
    wait_until(lambda: bird.route(VIP_D) and len(bird.route(VIP_D)["as_path"]) == 1, 10,
               "degrade VIP back to its plain path")
    check(True, "degraded VIP restored")

    os.unlink(flag)
    wait_until(lambda: bird.route(VIP_X) is None, 5, "exec check withdrawing its VIP")
    check(True, "exec check (exit code 1) withdrew its VIP")

    # Drain: GRACEFUL_SHUTDOWN and extra prepend first, withdraw after drain-time.
    a.signal(signal.SIGUSR1)
    r = wait_until(lambda: (lambda x: x if x and "65535:0" in x["communities"] else None)(bird.route(VIP_W)),
                   5, "BIRD seeing 65535:0 on the draining VIP")
    check(r["as_path"] == [harness.NVA_AS] * 3, f"draining path {r['as_path']}")
    t_drain = time.monotonic()
    wait_until(lambda: bird.route(VIP_W) is None, 10, "drained VIP withdrawn")
    check(time.monotonic() - t_drain >= 1.5, "withdrawn only after the drain time (2 s)")
    a.signal(signal.SIGUSR2)
    wait_until(lambda: bird.route(VIP_W) and "65535:0" not in bird.route(VIP_W)["communities"], 10,
               "VIP announced again after undrain")
    check(True, "undrain re-announced the VIP without 65535:0")


def main():
    return run_test("health", scenario, needs=("bird", "birdc"))


if __name__ == "__main__":
    sys.exit(main())
