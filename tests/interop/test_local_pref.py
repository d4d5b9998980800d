"""LOCAL_PREF from a real peer (RFC 4271 5.1.5): ExaBGP, over two eBGP sessions and one iBGP
session, sends the same prefix from two external neighbours. Neighbour a puts LOCAL_PREF 500
on a longer AS path (ExaBGP run by exabgp_lp_ebgp.py, which makes it send LOCAL_PREF on eBGP
as a careless router would), b a shorter path without one. anycastd must ignore a's LOCAL_PREF, choose b's shorter path, and
say so once per session at debug level, while the iBGP neighbour's LOCAL_PREF is kept."""
import json
import os
import shutil
import subprocess
import sys

from harness import ANYCASTD, Proc, check, run_test, wait_until

NET = 21
NVA = f"127.0.{NET}.1"
EXT_A, EXT_B, INT_C = (f"127.0.{NET}.{i}" for i in (2, 3, 4))
NVA_PORT, PEER_PORT = 17900 + NET, 18000 + NET
AS, AS_A, AS_B = 65010, 4200000002, 4200000003
CONTESTED = f"198.18.{100 + NET}.0/24"
SECOND = f"198.18.{110 + NET}.0/24"  # a second UPDATE from a, to show "once per session"
INTERNAL = f"198.18.{120 + NET}.0/24"
CTL = os.environ.get("ANYCASTCTL", os.path.join(os.path.dirname(ANYCASTD), "anycastctl"))


def exabgp_python():
    """The interpreter ExaBGP is installed for, from its launcher's #! line."""
    with open(shutil.which("exabgp")) as f:
        return f.readline()[2:].strip()


def exabgp(work):
    conf = os.path.join(work, "exabgp.conf")

    def neighbor(addr, local_as, routes):
        return f"""neighbor {NVA} {{
  router-id {addr.replace('127.0', '198.18')};
  local-address {addr};
  local-as {local_as};
  peer-as {AS};
  hold-time 9;
  connect {NVA_PORT};
  family {{ ipv4 unicast; }}
  static {{ {routes} }}
}}
"""
    lp500 = "local-preference 500"
    with open(conf, "w") as f:
        f.write(neighbor(EXT_A, AS_A,
                         f"route {CONTESTED} next-hop {EXT_A} as-path [ {AS_A} 64999 64998 ] {lp500}; "
                         f"route {SECOND} next-hop {EXT_A} as-path [ {AS_A} ] med 7 origin incomplete {lp500};"))
        f.write(neighbor(EXT_B, AS_B, f"route {CONTESTED} next-hop {EXT_B} as-path [ {AS_B} ];"))
        f.write(neighbor(INT_C, AS, f"route {INTERNAL} next-hop {INT_C} local-preference 50;"))
    env = {"exabgp.daemon.user": "root", "exabgp.daemon.drop": "false", "exabgp.api.cli": "false",
           "exabgp.log.destination": os.path.join(work, "exabgp-daemon.log"),
           "exabgp.tcp.bind": "", "exabgp.tcp.port": str(PEER_PORT)}
    wrapper = os.path.join(os.path.dirname(os.path.abspath(__file__)), "exabgp_lp_ebgp.py")
    Proc("exabgp", [exabgp_python(), wrapper, conf], os.path.join(work, "exabgp.log"), env=env)


def routes(sock, prefix):
    out = subprocess.run([CTL, "-s", sock, "-j", "show", "routes", prefix], capture_output=True,
                         text=True, timeout=20).stdout
    try:
        return json.loads(out)["routes"]
    except (ValueError, KeyError):
        return []


def scenario(work):
    sock = os.path.join(work, "ctl.sock")
    cfg = os.path.join(work, "anycastd.yaml")
    peers = "".join(f"  - {{address: {a}, remote-as: {r}, port: {PEER_PORT}, passive: true, "
                    f"hold-time: 9, import: accept}}\n" for a, r in ((EXT_A, AS_A), (EXT_B, AS_B), (INT_C, AS)))
    with open(cfg, "w") as f:
        f.write(f"router-id: 198.18.{NET}.1\nlocal-as: {AS}\nlisten: {{address: {NVA}, "
                f"port: {NVA_PORT}}}\npeers:\n{peers}control: {{socket: {sock}}}\n")
    log = os.path.join(work, "anycastd.log")
    Proc("anycastd", [ANYCASTD, "-c", cfg, "--log-level", "debug"], log)
    exabgp(work)

    got = wait_until(lambda: len(routes(sock, CONTESTED)) == 2 and routes(sock, CONTESTED), 40,
                     f"anycastd holding {CONTESTED} from both external neighbours")
    by = {r["from"]: r for r in got}
    check(by[EXT_A]["as_path"] == f"{AS_A} 64999 64998", f"a's path {by[EXT_A]['as_path']}")
    check(by[EXT_A]["local_pref"] in (None, 100),
          f"a's LOCAL_PREF 500 not used (Loc-RIB shows {by[EXT_A]['local_pref']})")
    check(by[EXT_B]["best"] and not by[EXT_A]["best"],
          "b's shorter path is best; a's LOCAL_PREF did not outrank it")

    second = wait_until(lambda: routes(sock, SECOND), 30, f"anycastd holding {SECOND}")
    check(second[0]["med"] == 7 and second[0]["local_pref"] in (None, 100),
          f"{SECOND} kept (route kept, attribute discarded): {second[0]}")
    # ORIGIN as the API names it (RFC 4271): ExaBGP's default, and what it was told.
    check(by[EXT_A].get("origin") == "igp" and second[0].get("origin") == "incomplete",
          f"ORIGIN shown: {by[EXT_A].get('origin')}, {second[0].get('origin')}")
    rc = subprocess.run([CTL, "-s", sock, "-j", "show", "routes", "--peer", EXT_A, "--received"],
                        capture_output=True, text=True, timeout=20).stdout
    received = json.loads(rc)["routes"]
    check(len(received) == 2 and all(r["local_pref"] is None for r in received),
          "a's received routes carry no LOCAL_PREF after import")

    internal = wait_until(lambda: routes(sock, INTERNAL), 30, f"anycastd holding {INTERNAL}")
    check(internal[0]["local_pref"] == 50, f"iBGP LOCAL_PREF kept: {internal[0]['local_pref']}")

    with open(log) as f:
        text = f.read()
    notes = [line for line in text.splitlines() if "LOCAL_PREF from an external peer ignored" in line]
    check(len(notes) == 1 and EXT_A in notes[0],
          f"one debug line for a's session, none for b or c: {notes}")


if __name__ == "__main__":
    sys.exit(run_test("local_pref", scenario, needs=("exabgp",)))
