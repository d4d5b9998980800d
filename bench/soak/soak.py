#!/usr/bin/env python3
"""Bounded soak of anycastd (docs/reliability.md): BGP session flaps against BIRD, reloads with
changed peers, VIPs, policies and checks, and a health check flapping every 100 ms, all at
once, while the daemon's RSS and open file descriptors are sampled.

BIRD holds PEERS passive sessions on 127.23.0.2.. and sends ROUTES prefixes on each; every
round `birdc restart "p*"` drops all of them (Cease, Administrative Reset) and the round ends
when anycastd has brought every session back (established_count from `show peers`). The
descriptors are counted at those quiet points, when every session is up, so that the count
does not depend on where a flap stood. Memory is VmRSS sampled every 0.5 s.

The run is bounded: FLAPS/PEERS rounds, RELOADS reloads spread over them, and --max-seconds
for the whole; it stops by itself and stops only what it started. With --asan the daemon is
an ASan+UBSan build and any report (leaks included, at exit) fails the run.

  bench/soak/soak.py --anycastd build/apps/anycastd [--flaps 10000] [--reloads 1000]
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NVA = "127.23.0.1"
BIRD_PORT, HEALTH_PORT = 18323, 18324
AS, BIRD_AS = 65010, 65020
VIP, VIP2 = "198.18.23.1/32", "198.18.23.2/32"
SPARE_PEER = "127.23.99.1"  # added and removed by reloads; nothing listens there


def peer_addr(i):
    """BIRD's end of session i. BIRD keeps one session per neighbour address, so each
    session also has its own address on anycastd's side (local_addr)."""
    return f"127.23.{1 + i // 250}.{1 + i % 250}"


def local_addr(i):
    return f"127.23.{101 + i // 250}.{1 + i % 250}"


def write_bird(work, peers, routes):
    statics = "".join(f"  route 198.19.{i // 256}.{i % 256}/32 blackhole;\n" for i in range(routes))
    protos = "".join(f"""protocol bgp p{i} {{
  local {peer_addr(i)} port {BIRD_PORT} as {BIRD_AS};
  neighbor {local_addr(i)} as {AS};
  strict bind on; passive on; multihop; hold time 9;
  ipv4 {{ table t4; import all; export all; }};
}}
""" for i in range(peers))
    conf = os.path.join(work, "bird.conf")
    with open(conf, "w") as f:
        f.write(f"router id 198.18.23.254;\nlog \"{work}/bird.log\" {{ warning, error, fatal }};\n"
                f"protocol device {{}}\nipv4 table t4;\n"
                f"protocol static announce {{ ipv4 {{ table t4; }};\n{statics}}}\n{protos}")
    return conf


def write_config(path, work, peers, variant):
    """Config number `variant`: each reload changes a peer, a VIP, a policy or a check, in
    turn, so that every kind of change runs about RELOADS/4 times."""
    spare = variant % 2 == 1
    vip2 = (variant // 2) % 2 == 1
    community = 100 + (variant // 4) % 2
    interval = 0.02 if (variant // 8) % 2 == 0 else 0.03
    lines = [f"router-id: 198.18.23.1", f"local-as: {AS}", f"control: {{socket: {work}/ctl.sock}}",
             "policies:", "  tag:", f"    - then: {{set-communities: [\"{AS}:{community}\"], action: accept}}",
             "checks:",
             f"  flap: {{type: tcp, address: {NVA}, port: {HEALTH_PORT}, interval: {interval}, "
             "rise: 1, fall: 1, watch: false}", "peers:"]
    for i in range(peers):
        lines.append(f"  - {{address: {peer_addr(i)}, remote-as: {BIRD_AS}, port: {BIRD_PORT}, "
                     f"local-address: {local_addr(i)}, hold-time: 9, connect-retry: 1, "
                     "error-wait-time: 0.1, import: tag, export: accept}")
    if spare:
        lines.append(f"  - {{address: {SPARE_PEER}, remote-as: {BIRD_AS}, port: {BIRD_PORT}, "
                     "connect-retry: 1}")
    lines.append("vips:")
    lines.append(f"  - {{prefix: {VIP}, health: {{checks: [flap]}}}}")
    if vip2:
        lines.append(f"  - {{prefix: {VIP2}, prepend: 1}}")
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, path)


class Ctl:
    def __init__(self, anycastctl, sock):
        self.cmd, self.sock = anycastctl, sock

    def json(self, *args):
        r = subprocess.run([self.cmd, "-s", self.sock, "-j", *args], capture_output=True,
                           text=True, timeout=20)
        try:
            return json.loads(r.stdout)
        except ValueError:
            return None


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        m = re.search(r"VmRSS:\s+(\d+) kB", f.read())
    return int(m.group(1)) if m else 0


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def health_flapper(stop, period, counter):
    """A listener that exists for `period`, then not for `period`: the check's verdict
    changes every `period`."""
    while not stop.is_set():
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((NVA, HEALTH_PORT))
        s.listen(64)
        s.settimeout(0.005)
        end = time.monotonic() + period
        while time.monotonic() < end and not stop.is_set():
            try:
                c, _ = s.accept()
                c.close()
            except (socket.timeout, OSError):
                pass
        s.close()
        counter[0] += 1
        stop.wait(period)
        counter[0] += 1


def percentile(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))] if v else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--anycastd", default=os.path.join(HERE, "../../build/apps/anycastd"))
    ap.add_argument("--anycastctl")
    ap.add_argument("--peers", type=int, default=100)
    ap.add_argument("--routes", type=int, default=10, help="prefixes BIRD sends on each session")
    ap.add_argument("--flaps", type=int, default=10000)
    ap.add_argument("--reloads", type=int, default=1000)
    ap.add_argument("--health-period", type=float, default=0.1)
    ap.add_argument("--warmup", type=float, default=0.3, help="share of the rounds before the baseline")
    ap.add_argument("--rss-tolerance-kib", type=int, default=3072,
                    help="growth allowed between the first and last tenth after warm-up")
    ap.add_argument("--fd-tolerance", type=int, default=2)
    ap.add_argument("--max-seconds", type=float, default=1200)
    ap.add_argument("--asan", action="store_true", help="the daemon is an ASan build: fail on any report")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    anycastd = os.path.abspath(args.anycastd)
    anycastctl = args.anycastctl or os.path.join(HERE, "../../build/apps/anycastctl")
    for tool in ("bird", "birdc"):
        if not shutil.which(tool):
            print(f"soak: needs {tool} (scripts/install-deps peers)", file=sys.stderr)
            return 77
    rounds = max(1, args.flaps // args.peers)
    work = tempfile.mkdtemp(prefix="anycastd-soak-")
    cfg = os.path.join(work, "anycastd.yaml")
    procs = []
    stop = threading.Event()
    t_start = time.monotonic()
    deadline = t_start + args.max_seconds
    try:
        bird_sock = os.path.join(work, "bird.ctl")
        bird_conf = write_bird(work, args.peers, args.routes)
        write_config(cfg, work, args.peers, 0)
        env = dict(os.environ)
        asan_log = os.path.join(work, "asan")
        if args.asan:
            env["ASAN_OPTIONS"] = f"detect_leaks=1:log_path={asan_log}:abort_on_error=0"
            env["UBSAN_OPTIONS"] = f"print_stacktrace=1:log_path={asan_log}"
        bird = subprocess.Popen(["bird", "-f", "-c", bird_conf, "-s", bird_sock],
                                stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "bird.err"), "w"))
        procs.append(bird)
        log = open(os.path.join(work, "anycastd.log"), "w")
        daemon = subprocess.Popen([anycastd, "-c", cfg, "--log-level", "warn"], stdout=log,
                                  stderr=subprocess.STDOUT, env=env)
        procs.append(daemon)
        ctl = Ctl(anycastctl, os.path.join(work, "ctl.sock"))
        flips = [0]
        flapper = threading.Thread(target=health_flapper, args=(stop, args.health_period, flips))
        flapper.start()

        samples = []  # (seconds, rss KiB)

        def sampler():
            while not stop.wait(0.5):
                try:
                    samples.append((time.monotonic() - t_start, rss_kib(daemon.pid)))
                except OSError:
                    return
        threading.Thread(target=sampler, daemon=True).start()

        reloads = {"done": 0, "failed": 0, "errors": []}
        reloads_stop = threading.Event()

        def reloader():
            """Reloads back to back, each with the next variant, while the sessions flap."""
            n = 0
            while not reloads_stop.is_set() and time.monotonic() < deadline:
                n += 1
                write_config(cfg, work, args.peers, n)
                r = subprocess.run([anycastctl, "-s", ctl.sock, "-j", "reload"], capture_output=True,
                                   text=True, timeout=20)
                try:
                    ok = json.loads(r.stdout).get("ok")
                except ValueError:
                    ok = False
                if ok:
                    reloads["done"] += 1
                else:
                    reloads["failed"] += 1
                    reloads["errors"].append(f"exit {r.returncode}: {r.stdout[:300]} {r.stderr[:300]}")
            write_config(cfg, work, args.peers, 0)
            ctl.json("reload")

        def peers_now():
            j = ctl.json("show", "peers")
            if not j or not j.get("ok"):
                return None
            return [p for p in j["peers"] if p["address"] != SPARE_PEER]

        def wait_round(r):
            """Every session up, and each has come up r+1 times."""
            while time.monotonic() < deadline:
                for p in procs:
                    if p.poll() is not None:
                        raise RuntimeError(f"{p.args[0]} exited {p.returncode}")
                ps = peers_now()
                if ps and len(ps) == args.peers and all(
                        p["state"] == "Established" and p["established_count"] >= r + 1 for p in ps):
                    return ps
                time.sleep(0.01)
            raise TimeoutError(f"round {r}: sessions not all back before --max-seconds")

        quiet = []  # (round, fds, rss) with every session up
        round_seconds = []
        wait_round(0)
        reload_thread = threading.Thread(target=reloader)
        reload_thread.start()
        # Flap until both the flaps and the reloads are done, so that every reload meets
        # flapping sessions; the reloads stop with the last round.
        r = 0
        while r < rounds or reloads["done"] + reloads["failed"] < args.reloads:
            if time.monotonic() > deadline:
                raise TimeoutError(f"round {r}: --max-seconds reached")
            r += 1
            quiet.append((r - 1, fds(daemon.pid), rss_kib(daemon.pid)))
            t0 = time.monotonic()
            out = subprocess.run(["birdc", "-s", bird_sock, "restart", "\"p*\""], capture_output=True,
                                 text=True, timeout=20).stdout
            if "restarted" not in out:
                raise RuntimeError(f"birdc restart: {out}")
            wait_round(r)
            round_seconds.append(time.monotonic() - t0)
            if not args.json and r % max(1, rounds // 10) == 0:
                print(f"soak: round {r}, {r * args.peers} flaps, {reloads['done']} reloads, "
                      f"{flips[0]} health flips, RSS {rss_kib(daemon.pid) / 1024:.1f} MiB, "
                      f"{fds(daemon.pid)} fds, {time.monotonic() - t_start:.0f} s", flush=True)
        reloads_stop.set()
        reload_thread.join()
        rounds = r
        ps = wait_round(rounds)
        quiet.append((rounds, fds(daemon.pid), rss_kib(daemon.pid)))
        stop.set()
        flapper.join()
        flaps = sum(p["established_count"] - 1 for p in ps)
        elapsed = time.monotonic() - t_start

        daemon.send_signal(signal.SIGTERM)
        rc = daemon.wait(30)
        asan_reports = []
        for name in os.listdir(work):
            if name.startswith("asan"):
                with open(os.path.join(work, name)) as f:
                    asan_reports.append(f.read())

        warm = int(rounds * args.warmup)
        base_fds = quiet[warm][1]
        # RSS at the quiet points, as medians of the first and the last tenth after warm-up:
        # a leak grows with the work done, a burst (UPDATE queues of 100 peers at once, a
        # reload's second configuration) comes and goes and shows only in the peak.
        after_rss = [q[2] for q in quiet[warm:]]
        tenth = max(1, len(after_rss) // 10)
        base_rss = percentile(after_rss[:tenth], 0.5)
        end_rss = percentile(after_rss[-tenth:], 0.5)
        after = quiet[warm:]
        fd_range = (min(q[1] for q in after), max(q[1] for q in after))
        rss_growth = end_rss - base_rss
        result = {
            "peers": args.peers, "routes_per_peer": args.routes, "rounds": rounds, "flaps": flaps,
            "reloads": reloads["done"], "reloads_failed": reloads["failed"],
            "health_flips": flips[0], "updates_out": sum(p["updates_out"] for p in ps),
            "seconds": round(elapsed, 1),
            "round_seconds_p50": round(percentile(round_seconds, 0.5), 3),
            "round_seconds_max": round(max(round_seconds), 3),
            "rss_kib": {"first": samples[0][1] if samples else None, "after_warmup": base_rss,
                        "end": end_rss, "peak": max(s[1] for s in samples) if samples else None},
            "fds": {"after_warmup": base_fds, "min_after": fd_range[0], "max_after": fd_range[1]},
            "exit_code": rc, "asan_reports": len(asan_reports),
        }
        problems = []
        if flaps < args.flaps - args.peers + 1 and flaps < rounds * args.peers:
            problems.append(f"only {flaps} flaps")
        if reloads["failed"] or reloads["done"] < args.reloads:
            problems.append(f"reloads: {reloads['done']} ok, {reloads['failed']} failed "
                            f"{reloads['errors'][:3]}")
        if not args.asan and rss_growth > args.rss_tolerance_kib:
            problems.append(f"RSS grew {rss_growth} KiB from the first to the last tenth after "
                            f"warm-up (tolerance {args.rss_tolerance_kib})")
        if fd_range[1] - base_fds > args.fd_tolerance or base_fds - fd_range[0] > args.fd_tolerance:
            problems.append(f"open files {fd_range} after warm-up, from {base_fds} (±{args.fd_tolerance})")
        if rc != 0:
            problems.append(f"anycastd exited {rc}")
        if asan_reports:
            problems.append("sanitizer report:\n" + asan_reports[0][:4000])
        result["ok"] = not problems
        result["problems"] = problems
        if args.json:
            print(json.dumps(result))
        else:
            print(json.dumps(result, indent=2))
            print("soak: " + ("PASS" if not problems else "FAIL: " + "; ".join(problems)))
        return 0 if not problems else 1
    except Exception as e:  # the logs say why; the work dir is kept for a failed run
        print(f"soak: FAIL: {e}; logs in {work}", file=sys.stderr)
        work = None
        return 1
    finally:
        stop.set()
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        if work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
