"""Ten thousand connections open at once through anycastd, on each forwarding path in turn
(`forwarding: user`, then `forwarding: kernel`): every one is accepted, reaches its own
backend connection with its own bytes and back, is counted by `anycastctl show proxy`
(on the kernel path, as forwarded by the kernel), and every one is gone after the clients
close. The backend is a separate process, so that the daemon's file descriptors (two per
connection) are the only ones near the limit; if the machine allows fewer than 10,000
connections' worth, the test says so and uses what it has."""
import json
import os
import resource
import socket
import struct
import subprocess
import sys
import textwrap
import time

import asyncio

from harness import ANYCASTD, Proc, check, run_test, wait_until

NET = 31
VIP, BACKEND, CLIENT = f"127.0.{NET}.1", f"127.0.{NET}.10", f"127.0.{NET}.20"
PORT, BACKEND_PORT = 18092, 18717
WANT = 10000
CTL = os.environ.get("ANYCASTCTL", os.path.join(os.path.dirname(ANYCASTD), "anycastctl"))

# Answers each connection's line "N\n" with "N ok\n", then keeps it open until the client
# closes. Prints how many it holds when asked on stdin, so the test can see them all open.
BACKEND_SERVER = textwrap.dedent("""
    import asyncio, sys
    open_now = 0
    async def serve(r, w):
        global open_now
        open_now += 1
        try:
            line = await r.readline()
            w.write(line.strip() + b" ok\\n")
            await w.drain()
            await r.read()  # until the client's end
        except (ConnectionError, OSError):
            pass
        finally:
            open_now -= 1
            w.close()
    async def main():
        s = await asyncio.start_server(serve, sys.argv[1], int(sys.argv[2]), backlog=4096)
        print("ready", flush=True)
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                return
            print(open_now, flush=True)
    asyncio.run(main())
""")


def connections_allowed():
    # The daemon holds a client and a backend socket per connection, besides a few dozen
    # of its own (listeners, epoll, eventfds, control socket, BPF maps).
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return min(WANT, (soft - 100) // 2)


def show_proxy(sock):
    out = subprocess.run([CTL, "-s", sock, "-j", "show", "proxy"], capture_output=True,
                         text=True, timeout=20).stdout
    return json.loads(out)["services"][0]


async def hold_connections(n, served):
    """Opens n connections, all held at once, and returns their streams. In steps of 500,
    each once the backend has every earlier one: no accept queue overflows, also on a
    machine busy with other tests. served() says how many the backend holds."""
    conns = []
    for start in range(0, n, 500):
        # From an address of our own: ten thousand ephemeral ports taken on 127.0.0.1 could
        # hold a port that another test, running meanwhile, binds there.
        batch = await asyncio.gather(*(asyncio.open_connection(VIP, PORT, local_addr=(CLIENT, 0))
                                       for _ in range(start, min(n, start + 500))))
        conns.extend(batch)
        wait_until(lambda: served() == len(conns), 30, f"the backend holding {len(conns)}")
    return conns


async def exchange_all(conns):
    async def one(i, r, w):
        w.write(f"{i}\n".encode())
        await w.drain()
        line = await asyncio.wait_for(r.readline(), 20)
        return line == f"{i} ok\n".encode()
    results = await asyncio.gather(*(one(i, r, w) for i, (r, w) in enumerate(conns)))
    return results.count(False)


def scenario(work):
    n = connections_allowed()
    if n < WANT:
        print(f"  note: RLIMIT_NOFILE {resource.getrlimit(resource.RLIMIT_NOFILE)[0]} allows "
              f"{n} connections at once in one process here, not {WANT}", flush=True)
    backend = subprocess.Popen([sys.executable, "-c", BACKEND_SERVER, BACKEND, str(BACKEND_PORT)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        check(backend.stdout.readline().strip() == "ready", "the backend listens")

        def backend_open():
            backend.stdin.write("?\n")
            backend.stdin.flush()
            return int(backend.stdout.readline())

        for mode in ("user", "kernel"):
            sock = os.path.join(work, f"{mode}.sock")
            cfg = os.path.join(work, f"{mode}.yaml")
            with open(cfg, "w") as f:
                f.write(f"""router-id: 198.18.{NET}.1
local-as: 65010
control: {{socket: {sock}}}
proxy: {{threads: 2}}
services:
  - name: many
    address: {VIP}
    port: {PORT}
    forwarding: {mode}
    max-connections: {WANT}
    connect-timeout: 30  # a connect that meets a full accept queue retries its SYN
    backends:
      - {{address: {BACKEND}, port: {BACKEND_PORT}}}
""")
            d = Proc(f"anycastd-{mode}", [ANYCASTD, "-c", cfg], os.path.join(work, f"{mode}.log"))
            wait_until(lambda: os.path.exists(sock) and show_proxy(sock), 10, "the control socket")
            check(show_proxy(sock)["forwarding"] == mode, f"{mode}: show proxy says forwarding {mode}")
            t0 = time.monotonic()
            loop = asyncio.new_event_loop()
            conns = loop.run_until_complete(hold_connections(n, backend_open))
            opened = time.monotonic() - t0
            wait_until(lambda: show_proxy(sock)["active"] == n, 30, f"{n} active connections")
            # The proxy counts a connection at accept; the backend, once it has accepted the
            # proxy's connect and served it, which under load comes a little later.
            wait_until(lambda: backend_open() == n, 30, f"{n} connections at the backend")
            check(True, f"{mode}: {n} connections open at once at the backend "
                        f"(opened in {opened:.1f} s)")
            if mode == "kernel":
                # Counted once both sockets are in the map, after the connect completes.
                wait_until(lambda: show_proxy(sock)["kernel_connections"] == n, 30,
                           f"all {n} in the kernel")
                check(True, f"kernel: all {n} forwarded by the kernel")
            t0 = time.monotonic()
            wrong = loop.run_until_complete(exchange_all(conns))
            check(wrong == 0, f"{mode}: every connection got its own answer "
                              f"({time.monotonic() - t0:.1f} s for {n})")
            # Reset, not closed: twenty thousand sockets in TIME_WAIT would hold the ports
            # that the next run (or the kernel path's turn) needs for its connects.
            for _, w in conns:
                w.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                                      struct.pack("ii", 1, 0))
                w.close()
            loop.run_until_complete(asyncio.sleep(0))
            wait_until(lambda: show_proxy(sock)["active"] == 0, 30, "every connection closed")
            check(True, f"{mode}: all {n} closed at the proxy")
            wait_until(lambda: backend_open() == 0, 30, "the backend's connections closed")
            check(show_proxy(sock)["refused"] == 0, f"{mode}: none refused")
            loop.close()
            d.stop()
    finally:
        backend.kill()
        backend.wait()


if __name__ == "__main__":
    sys.exit(run_test("proxy_concurrency", scenario))
