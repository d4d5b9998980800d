#!/usr/bin/env python3
"""sim and live must agree: the same topology and scenario, run once in virtual time and
once as anycastd processes on loopback, must show the same route tables (MSEE, route
servers, on-prem routers) at every step that shows them, and both must meet every
expectation in the file -- in live mode the requests go through the daemons' proxies.

usage: test_live_agrees.py ANYCAST_LAB TOPOLOGY PORT [live|netns]
netns runs need root; elsewhere the test reports itself skipped (exit 77)."""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile


def run(lab, topology, *extra):
    # The devices' files (configs, logs) go to our own directory, so a failure can show them.
    env = dict(os.environ, ANYCAST_LAB_KEEP="1", TMPDIR=run.dir)
    r = subprocess.run([lab, topology, "--json", *extra], capture_output=True, text=True,
                       timeout=600, env=env)
    try:
        return r.returncode, json.loads(r.stdout)
    except json.JSONDecodeError:
        print(f"FAIL: {' '.join(extra) or 'sim'} printed no JSON (exit {r.returncode})\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
        show_logs()
        sys.exit(1)


run.dir = tempfile.mkdtemp(prefix="lab-test-")


def show_logs():
    for log in sorted(glob.glob(os.path.join(run.dir, "*", "*.log"))):
        lines = open(log, errors="replace").read().splitlines()
        if lines:
            print(f"--- {log} (last 20 lines)")
            print("\n".join(lines[-20:]))


def main():
    lab, topology, port = sys.argv[1], sys.argv[2], sys.argv[3]
    mode = sys.argv[4] if len(sys.argv) > 4 else "live"
    # A scenario other than the file's first, by name.
    if len(sys.argv) > 5:
        global run
        first = run

        def scenario_run(lab, topology, *extra):
            return first(lab, topology, "--scenario", sys.argv[5], *extra)

        scenario_run.dir = first.dir
        run = scenario_run
    if mode == "netns" and os.geteuid() != 0:
        print("SKIP: netns mode needs root (it creates network namespaces)")
        return 77
    sim_rc, sim = run(lab, topology)
    live_rc, live = run(lab, topology, "--mode", mode, "--port", port)
    ok = True
    # The devices' files went where TMPDIR said, so that a failure can show their logs.
    if not glob.glob(os.path.join(run.dir, "anycast-lab-*", "*.log")):
        print(f"FAIL: no device logs under TMPDIR={run.dir}")
        ok = False
    if sim_rc != 0 or live_rc != 0:
        print(f"FAIL: exit codes sim {sim_rc}, {mode} {live_rc}; failures: sim {sim['failures']}, {mode} {live['failures']}")
        ok = False
    if len(sim["steps"]) != len(live["steps"]):
        print("FAIL: different numbers of steps")
        return 1
    compared = 0
    for s, l in zip(sim["steps"], live["steps"]):
        for device, table in s["tables"].items():
            compared += 1
            other = l["tables"].get(device)
            # The rows (what --json carries for programs) and the text people read.
            if other is None or other["rows"] != table["rows"] or other["text"] != table["text"]:
                ok = False
                print(f"FAIL at t={s['at']}: {table['title']} differs\n--- sim\n{table['text']}--- live\n{other and other['text']}")
                if other is not None and other["text"] == table["text"]:
                    print(f"(same text, rows differ)\n--- sim\n{table['rows']}\n--- live\n{other['rows']}")
        # Every route expectation live checked, sim checked too (sim also checks requests).
        missing = [x for x in l["held"] if x not in s["held"]]
        if missing or l["failed"]:
            ok = False
            print(f"FAIL at t={s['at']}: live held {missing} that sim did not; live failed {l['failed']}")
    print(f"{topology}: {compared} tables compared, sim {len(sim['failures'])} / {mode} {len(live['failures'])} failures")
    if compared == 0:
        print("FAIL: nothing was compared (no step shows tables)")
        ok = False
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        rc = main()
        if rc == 1:
            show_logs()
    finally:
        shutil.rmtree(run.dir, ignore_errors=True)
    sys.exit(rc)
