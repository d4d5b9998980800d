"""Kernel FIB in a network namespace this test creates (198.18.77.0/24 on a veth link):
anycastd learns one prefix from two sources and installs it in table 100 with both next
hops, drops one when a source goes, removes the route at shutdown, and purges what a
SIGKILLed run left behind when it starts again."""
import os
import signal
import subprocess
import sys

from harness import ANYCASTD, Fail, Proc, check, run_test, sh, wait_until

NS = f"anyc-fib-{os.getpid()}"
ROUTE = "198.19.7.7/32"
TABLE, PROTO = 100, 198


def ip(*args):
    r = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)
    if r.returncode != 0:
        raise Fail(f"ip {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


def kernel_route():
    """Next hops of our route in table 100, as a sorted list (empty: no route)."""
    out = sh(["ip", "-n", NS, "-4", "route", "show", "table", str(TABLE), "proto", str(PROTO)])
    hops = []
    for line in out.splitlines():
        words = line.split()
        if words and words[0] in (ROUTE, ROUTE.removesuffix("/32")):
            hops += [words[i + 1] for i, w in enumerate(words) if w == "via"]
        elif line.strip().startswith("nexthop"):
            hops += [words[words.index("via") + 1]]
    return sorted(hops)


def source(work, n, next_hop):
    """An anycastd in AS 65001 announcing ROUTE with a given next hop to the FIB speaker."""
    cfg = os.path.join(work, f"source{n}.yaml")
    with open(cfg, "w") as f:
        f.write(f"""router-id: 198.18.77.{10 + n}
local-as: 65001
peers:
  - address: 127.0.0.1
    remote-as: 65010
    port: 17977
    local-address: 127.0.0.{1 + n}
    connect-retry: 1
vips:
  - prefix: {ROUTE}
    next-hop: {next_hop}
""")
    return Proc(f"source{n}", ["ip", "netns", "exec", NS, ANYCASTD, "-c", cfg],
                os.path.join(work, f"source{n}.log"))


def speaker(work, run):
    cfg = os.path.join(work, "fib.yaml")
    with open(cfg, "w") as f:
        f.write(f"""router-id: 198.18.77.1
local-as: 65010
listen: {{address: 127.0.0.1, port: 17977}}
decision: {{multipath: 2}}
fib: {{type: kernel, table: {TABLE}, protocol: {PROTO}}}
peers:
""" + "".join(f"""  - address: 127.0.0.{1 + n}
    remote-as: 65001
    passive: true
    import: accept
""" for n in (1, 2)))
    log = os.path.join(work, f"fib-{run}.log")
    return Proc("fib", ["ip", "netns", "exec", NS, ANYCASTD, "-c", cfg], log), log


def scenario(work):
    ip("netns", "add", NS)
    ip("-n", NS, "link", "set", "lo", "up")
    # A veth pair (dummy links need a module containers often lack) gives the next
    # hops a connected subnet.
    ip("-n", NS, "link", "add", "nh0", "type", "veth", "peer", "name", "nh1")
    ip("-n", NS, "addr", "add", "198.18.77.1/24", "dev", "nh0")
    ip("-n", NS, "link", "set", "nh0", "up")
    ip("-n", NS, "link", "set", "nh1", "up")

    fib, log = speaker(work, 1)
    s1, s2 = source(work, 1, "198.18.77.2"), source(work, 2, "198.18.77.3")
    wait_until(lambda: kernel_route() == ["198.18.77.2", "198.18.77.3"], 30,
               "ECMP route with both next hops in table 100")
    check(True, f"{ROUTE} installed in table {TABLE} via 198.18.77.2 and 198.18.77.3")
    line = sh(["ip", "-n", NS, "route", "show", "table", str(TABLE), "proto", str(PROTO)])
    check("metric 20" in line, "installed with the configured metric (20)")
    check(ROUTE not in sh(["ip", "-n", NS, "route", "show", "table", "main"]),
          "nothing written to the main table")

    s2.stop()
    wait_until(lambda: kernel_route() == ["198.18.77.2"], 30, "one next hop after a source left")
    check(True, "second next hop removed when its source withdrew")

    fib.stop()
    check(fib.p.returncode == 0, "anycastd exited cleanly on SIGTERM")
    check(kernel_route() == [], "route removed from the kernel at shutdown")

    fib, log = speaker(work, 2)
    wait_until(lambda: kernel_route() == ["198.18.77.2"], 30, "route installed again")
    fib.signal(signal.SIGKILL)
    fib.p.wait(10)
    check(kernel_route() == ["198.18.77.2"], "a SIGKILLed run leaves its route behind")
    s1.stop()
    fib, log = speaker(work, 3)
    wait_until(lambda: "removed 1 stale routes" in open(log).read(), 20, "stale route purge")
    check(kernel_route() == [], "the next run purged the stale route before learning anything")
    fib.stop()


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root to create a network namespace")
        return 77
    return run_test("fib", scenario, needs=("ip",),
                    cleanup=lambda: subprocess.run(["ip", "netns", "del", NS], capture_output=True))


if __name__ == "__main__":
    sys.exit(main())
