"""Type=notify as systemd sees it, without systemd: anycastd started with NOTIFY_SOCKET and
WATCHDOG_USEC must send READY=1 once started, WATCHDOG=1 about every half period, and
STOPPING=1 when SIGTERM begins the drain. Run with --log-format json, as under a journal
shipper: every log line must be one JSON object. Then levels per subsystem: warn for all
but bgp=debug shows BGP's state changes and nothing of the rest; a bad spec exits 2."""
import json
import os
import signal
import socket
import subprocess
import sys
import time

from harness import ANYCASTD, Proc, check, run_test

NET = 17


def scenario(work):
    path = os.path.join(work, "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(0.2)
    cfg = os.path.join(work, "anycastd.yaml")
    with open(cfg, "w") as f:
        f.write(f"""router-id: 198.18.{NET}.1
local-as: 65010
control: none
""")
    d = Proc("anycastd", [ANYCASTD, "-c", cfg, "--log-format", "json"],
             os.path.join(work, "anycastd.log"),
             env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000"})
    got = []  # (time, message)
    t0 = time.monotonic()
    signalled = None
    while time.monotonic() - t0 < 5:
        try:
            got.append((time.monotonic(), s.recv(4096).decode()))
        except socket.timeout:
            pass
        if signalled is None and time.monotonic() - t0 > 1.5:
            signalled = time.monotonic()
            d.signal(signal.SIGTERM)
        if any("STOPPING=1" in m for _, m in got):
            break
    d.p.wait(10)
    s.close()
    ready = [t for t, m in got if "READY=1" in m]
    pings = [t for t, m in got if m.strip() == "WATCHDOG=1"]
    check(len(ready) == 1 and ready[0] - t0 < 1.5, f"READY=1 once, at start: {got[:3]}")
    before = [t for t in pings if t < signalled]
    check(len(before) >= 8, f"{len(before)} WATCHDOG=1 in the first 1.5 s, one per 100 ms")
    check(any("STOPPING=1" in m and t >= signalled for t, m in got),
          "STOPPING=1 after SIGTERM")
    check(d.p.returncode == 0, "exits 0")
    with open(os.path.join(work, "anycastd.log")) as f:
        lines = [json.loads(line) for line in f]
    check(lines and all(set(x) == {"time", "level", "msg"} for x in lines) and
          any(x["msg"] == "anycastd stopped" and x["level"] == "info" for x in lines),
          f"--log-format json: {len(lines)} lines, each an object with time, level and msg")


def subsystem_levels(work):
    cfg = os.path.join(work, "levels.yaml")
    with open(cfg, "w") as f:
        f.write(f"""router-id: 198.18.{NET}.1
local-as: 65010
control: none
peers:
  - {{address: 127.0.{NET}.2, remote-as: 65515, port: 18017, local-address: 127.0.{NET}.1,
      connect-retry: 1}}
""")
    log = os.path.join(work, "levels.log")
    d = Proc("levels", [ANYCASTD, "-c", cfg, "--log-level", "warn,bgp=debug"], log)
    time.sleep(1.5)
    d.signal(signal.SIGTERM)
    d.p.wait(10)
    text = open(log).read()
    check("Idle -> Connect" in text and "anycastd started" not in text,
          "--log-level warn,bgp=debug: BGP's debug lines, none of the rest's info")
    r = subprocess.run([ANYCASTD, "-c", cfg, "--log-level", "info,bgpx=debug"],
                       capture_output=True, text=True, timeout=10)
    check(r.returncode == 2 and "'bgpx': a subsystem is bgp, health, proxy, fib or api" in r.stderr,
          f"a bad subsystem exits 2 and says why: {r.stderr.strip()!r}")


def main():
    return run_test("systemd_notify", lambda work: (scenario(work), subsystem_levels(work)))


if __name__ == "__main__":
    sys.exit(main())
