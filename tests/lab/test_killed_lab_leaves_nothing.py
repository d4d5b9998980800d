#!/usr/bin/env python3
"""A live lab killed outright (SIGKILL: no unwinding, no cleanup code runs) must not leave
its devices behind: each anycastd it started dies with it.

usage: test_killed_lab_leaves_nothing.py ANYCAST_LAB TOPOLOGY PORT"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def devices(lab_dir):
    """PIDs of the processes whose command line names a file under lab_dir."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
        except OSError:
            continue
        if lab_dir in cmd and "anycastd" in cmd:
            found.append(int(pid))
    return found


def main():
    lab, topology, port = sys.argv[1], sys.argv[2], sys.argv[3]
    work = tempfile.mkdtemp(prefix="lab-kill-test-")
    env = dict(os.environ, TMPDIR=work)
    proc = subprocess.Popen([lab, topology, "-m", "live", "--port", port, "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    ok = False
    try:
        deadline = time.monotonic() + 30
        running = []
        while time.monotonic() < deadline and len(running) < 3 and proc.poll() is None:
            time.sleep(0.2)
            running = devices(work)
        if len(running) < 3:
            print(f"FAIL: the lab never had 3 devices running (had {running}, exit {proc.poll()})")
            return 1
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and devices(work):
            time.sleep(0.1)
        left = devices(work)
        if left:
            print(f"FAIL: {len(left)} devices outlived the killed lab: {left}")
            return 1
        print(f"ok: {len(running)} devices were running; none outlived the killed lab")
        ok = True
        return 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in devices(work):  # ours, started under our directory
            os.kill(pid, signal.SIGKILL)
        if ok or not os.environ.get("KEEP"):
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
