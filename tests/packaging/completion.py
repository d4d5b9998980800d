#!/usr/bin/env python3
"""Asks bash for anycastctl's completions, as a user pressing Tab would get them: the
completion script is loaded into a bash with bash-completion, COMP_WORDS is set to the line
and the completion function runs. complete() is also used by interop_anycastctl, which asks
for the VIPs and peers of a running daemon.

usage: completion.py COMPLETION_FILE ANYCASTCTL_DIR
"""
import os
import shlex
import subprocess
import sys

BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"


def complete(script, ctl_dir, line):
    """The completions bash offers for `line` (the cursor at its end)."""
    words = line.split(" ")
    prog = f"""
source {shlex.quote(BASH_COMPLETION)}
source {shlex.quote(script)}
COMP_WORDS=({' '.join(shlex.quote(w) for w in words)})
COMP_CWORD={len(words) - 1}
COMP_LINE={shlex.quote(line)}
COMP_POINT={len(line)}
_anycastctl anycastctl {shlex.quote(words[-1])} {shlex.quote(words[-2] if len(words) > 1 else '')}
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    env = dict(os.environ, PATH=f"{ctl_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}")
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", prog], capture_output=True,
                       text=True, env=env, timeout=30)
    if r.returncode != 0:
        raise RuntimeError(f"bash exit {r.returncode}: {r.stderr}")
    return sorted(w for w in r.stdout.split("\n") if w)


def main():
    script, ctl_dir = sys.argv[1], sys.argv[2]
    if not os.path.exists(BASH_COMPLETION):
        print(f"FAIL: {BASH_COMPLETION} missing (scripts/install-deps installs bash-completion)")
        return 1
    cases = [
        ("anycastctl ", ["backend", "drain", "reload", "show", "undrain"]),
        ("anycastctl backend web 127.0.0.1:80 ", ["drain", "maint", "ready", "weight"]),
        ("anycastctl -s /nonexistent.sock backend ", []),
        ("anycastctl sh", ["show"]),
        ("anycastctl --j", ["--json"]),
        ("anycastctl -j show ", ["health", "peers", "proxy", "routes", "vips"]),
        ("anycastctl show v", ["vips"]),
        ("anycastctl show routes --", ["--advertised", "--peer", "--received"]),
        ("anycastctl show peers ", []),
        # No daemon behind the socket: nothing to offer, and no error printed into the line.
        ("anycastctl -s /nonexistent.sock drain ", []),
        ("anycastctl -s /nonexistent.sock show routes --peer ", []),
    ]
    bad = 0
    for line, want in cases:
        got = complete(script, ctl_dir, line)
        ok = got == want
        bad += not ok
        print(f"{'ok' if ok else 'FAIL'}: {line!r} -> {got}" + ("" if ok else f", expected {want}"))
    print("PASS" if not bad else f"{bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
