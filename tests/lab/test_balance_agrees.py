#!/usr/bin/env python3
"""The NVA's `balance:` means the same in sim, live and netns: tests/lab/balance.yaml sends
a client's requests through one NVA to three backends with weights 2:1:1, and every mode
must send the k-th request the proxy takes to the same backend. Requests lost before the
route exists never reach the proxy, so the served answers are compared in order.

usage: test_balance_agrees.py ANYCAST_LAB TOPOLOGY PORT
Without root the netns mode is left out (and said so); sim and live still run."""
import json
import os
import subprocess
import sys
import tempfile


def answers(lab, topology, *extra):
    env = dict(os.environ, TMPDIR=tempfile.mkdtemp(prefix="lab-balance-"))
    r = subprocess.run([lab, topology, "--json", *extra], capture_output=True, text=True,
                       timeout=300, env=env)
    if r.returncode != 0:
        print(f"FAIL: {' '.join(extra) or 'sim'} exited {r.returncode}\n{r.stdout[-1500:]}\n{r.stderr[-1500:]}")
        sys.exit(1)
    return [a for a in json.loads(r.stdout)["answers"]["pc"] if a is not None]


def main():
    lab, topology, port = sys.argv[1:4]
    modes = {"sim": answers(lab, topology), "live": answers(lab, topology, "--mode", "live", "--port", port)}
    if os.geteuid() == 0:
        modes["netns"] = answers(lab, topology, "--mode", "netns", "--port", port)
    else:
        print("netns mode left out: it needs root")
    sim = modes["sim"]
    ok = True
    # Weights 2:1:1: "one" serves half; a balancer other than the configured one would not
    # give this split (and a per-flow hash would not repeat the same sequence).
    n = len(sim)
    share = sim.count("backend one") / n if n else 0
    if not 0.45 <= share <= 0.55 or sim.count("backend two") != sim.count("backend three"):
        print(f"FAIL: sim split {[(a, sim.count(a)) for a in sorted(set(sim))]} is not 2:1:1")
        ok = False
    for mode, got in modes.items():
        if mode == "sim":
            continue
        common = min(len(sim), len(got))
        if common < n // 2:
            print(f"FAIL: {mode} served only {len(got)} requests of sim's {n}")
            ok = False
            continue
        diff = [k for k in range(common) if sim[k] != got[k]]
        if diff:
            k = diff[0]
            print(f"FAIL: request {k} went to '{got[k]}' in {mode} and '{sim[k]}' in sim "
                  f"({len(diff)} of {common} differ)\n  sim   {sim[max(0, k - 3):k + 4]}\n  {mode:5} {got[max(0, k - 3):k + 4]}")
            ok = False
        else:
            print(f"{mode}: the same backend as sim for all {common} requests served")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
