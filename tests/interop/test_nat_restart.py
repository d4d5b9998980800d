"""`systemctl restart anycastd` with open connections through `forwarding: nat`: the
daemon is stopped (SIGTERM, as systemd does) and started again with the same file, while
keep-alive HTTP connections to real backends (python's http.server) stay open and quiet.
With its tables pinned in a bpf filesystem (`proxy.nat-state`, a private mount of this
test's own), the new daemon adopts them and every connection answers from its own backend.
With `nat-state: none` the same restart loses them (round robin: nothing but the entry
knows a connection's backend), which is what the pinning is for. Root only."""
import http.client
import os
import re
import subprocess
import sys

from harness import ANYCASTD, Proc, check, name_server, run_test, wait_until

NET = 33
VIP = f"127.0.{NET}.1"
PORT = 18090
BACKENDS = [(f"127.0.{NET}.10", 18717, "b1"), (f"127.0.{NET}.11", 18717, "b2")]
CONNECTIONS = 8


def config(work, state):
    backends = "".join(f"      - {{address: {a}, port: {p}}}\n" for a, p, _ in BACKENDS)
    path = os.path.join(work, "anycastd.yaml")
    with open(path, "w") as f:
        f.write(f"""router-id: 198.18.{NET}.1
local-as: 65010
control: {{socket: {work}/anycastd.sock}}
proxy: {{nat-state: {state}}}
services:
  - name: web
    address: {VIP}
    port: {PORT}
    forwarding: nat
    backends:
{backends}""")
    return path


def start(work, cfg, n):
    return Proc(f"anycastd-{n}", [ANYCASTD, "-c", cfg], os.path.join(work, "anycastd.log"))


def ask(c):
    """The backend's name for one request on connection c, or None if it was reset (or
    closed: http.client would open another connection, which is not the one we test)."""
    opened = c.sock
    try:
        c.request("GET", "/name.txt")
        r = c.getresponse()
        name = r.read().decode().strip()
    except (OSError, http.client.HTTPException):
        return None
    return name if opened is None or c.sock is opened else None


def listening():
    try:
        c = http.client.HTTPConnection(VIP, PORT, timeout=1)
        name = ask(c)
        c.close()
        return name
    except OSError:
        return None


def restart_keeps(work, state, n):
    cfg = config(work, state)
    daemon = start(work, cfg, n)
    wait_until(listening, 10, "the nat service answering")
    conns = [http.client.HTTPConnection(VIP, PORT, timeout=3) for _ in range(CONNECTIONS)]
    before = [ask(c) for c in conns]
    check(None not in before and len(set(before)) == 2,
          f"{CONNECTIONS} connections over both backends: {before}")
    daemon.stop(timeout=20)
    check(daemon.p.returncode == 0, f"anycastd {n} stopped cleanly on SIGTERM, soon after its "
                                    f"start (exit {daemon.p.returncode})")
    daemon = start(work, cfg, n + 1)
    wait_until(listening, 10, "the restarted nat service answering")
    after = [ask(c) for c in conns]
    for c in conns:
        c.close()
    daemon.stop(timeout=20)
    return before, after


def scenario(work):
    if os.geteuid() != 0:
        print("SKIP: needs root (BPF, a bpf filesystem)")
        sys.exit(77)
    for addr, port, name in BACKENDS:
        name_server(work, name, addr, port)
    bpffs = os.path.join(work, "bpffs")
    os.mkdir(bpffs)
    subprocess.run(["mount", "-t", "bpf", "bpf", bpffs], check=True)
    try:
        before, after = restart_keeps(work, f"{bpffs}/anycastd", 1)
        check(after == before, f"every connection answers from its backend after the restart: "
                               f"{after}")
        with open(os.path.join(work, "anycastd.log")) as f:
            adopted = [line for line in f if "adopted" in line]
        # Besides the test's connections, the probes that waited for the service (closed).
        n = re.search(r"adopted (\d+) established", adopted[-1]) if adopted else None
        check(n and int(n.group(1)) >= CONNECTIONS,
              f"the log says what was adopted: {adopted[-1].strip() if adopted else None}")
        before, after = restart_keeps(work, "none", 3)
        lost = sum(1 for a in after if a is None)
        check(lost == CONNECTIONS, f"without the tables, the restart resets them all ({lost})")
    finally:
        subprocess.run(["umount", bpffs])


if __name__ == "__main__":
    sys.exit(run_test("nat_restart", scenario))
