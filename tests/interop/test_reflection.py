"""Route reflection against BIRD (RFC 4456): anycastd reflects between two BIRD iBGP
clients. Client b must receive client a's route with its next hop, AS path and LOCAL_PREF
unchanged, ORIGINATOR_ID set to a's router id and CLUSTER_LIST to anycastd's router id;
and anycastd must not send the route back to a."""
import os
import re
import sys

from harness import ANYCASTD, Proc, check, run_test, sh, wait_until

NET = 19
RR = f"127.0.{NET}.1"
CLIENTS = {"a": f"127.0.{NET}.2", "b": f"127.0.{NET}.3"}
RR_ID = f"198.18.{NET}.1"
IDS = {"a": f"198.18.{NET}.2", "b": f"198.18.{NET}.3"}
BIRD_PORT, RR_PORT = 18000 + NET, 17900 + NET
AS = 65010
PREFIX = f"198.18.{100 + NET}.0/24"


def bird(work, name):
    announce = f"protocol static announce {{ ipv4 {{ table t4; }}; route {PREFIX} blackhole; }}\n" \
        if name == "a" else ""
    conf = os.path.join(work, f"bird-{name}.conf")
    with open(conf, "w") as f:
        f.write(f"""router id {IDS[name]};
log stderr all;
protocol device {{}}
ipv4 table t4;
{announce}protocol bgp reflector {{
  local {CLIENTS[name]} port {BIRD_PORT} as {AS};
  neighbor {RR} port {RR_PORT} as {AS};
  strict bind on; multihop; error wait time 1,2;
  ipv4 {{ table t4; import all; export {'all' if name == 'a' else 'none'}; }};
}}
""")
    sock = os.path.join(work, f"bird-{name}.ctl")
    Proc(f"bird-{name}", ["bird", "-f", "-c", conf, "-s", sock], os.path.join(work, f"bird-{name}.log"))
    return sock


def route(sock):
    return sh(["birdc", "-s", sock, "show", "route", PREFIX, "table", "t4", "all"])


def attr(text, name):
    m = re.search(rf"BGP\.{name}: (.*)", text)
    return m.group(1).strip() if m else None


def scenario(work):
    cfg = os.path.join(work, "anycastd.yaml")
    peers = "".join(f"  - {{address: {a}, remote-as: {AS}, port: {BIRD_PORT}, passive: true, "
                    f"route-reflector-client: true, hold-time: 9}}\n" for a in CLIENTS.values())
    with open(cfg, "w") as f:
        f.write(f"router-id: {RR_ID}\nlocal-as: {AS}\nlisten: {{address: {RR}, port: {RR_PORT}}}\n"
                f"peers:\n{peers}control: {{socket: {work}/ctl.sock}}\n")
    Proc("anycastd", [ANYCASTD, "-c", cfg, "--log-level", "debug"], os.path.join(work, "anycastd.log"))
    bird(work, "a")
    sb = bird(work, "b")
    wait_until(lambda: PREFIX in route(sb), 30, f"client b holding {PREFIX} through the reflector")
    got = route(sb)
    print(got)
    check(attr(got, "originator_id") == IDS["a"], f"ORIGINATOR_ID is a's router id {IDS['a']}")
    check(attr(got, "cluster_list") == RR_ID, f"CLUSTER_LIST is anycastd's router id {RR_ID}")
    check(attr(got, "next_hop") == CLIENTS["a"], f"next hop unchanged ({CLIENTS['a']})")
    check(attr(got, "as_path") == "", "AS path unchanged (empty inside the AS)")
    check(attr(got, "local_pref") == "100", "LOCAL_PREF 100")
    # BIRD would drop its own route coming back (ORIGINATOR_ID), so ask anycastd what it sent.
    ctl = os.environ.get("ANYCASTCTL", os.path.join(os.path.dirname(ANYCASTD), "anycastctl"))
    sent = {n: sh([ctl, "-s", os.path.join(work, "ctl.sock"), "-j", "show", "routes", "--peer", a,
                   "--advertised"]) for n, a in CLIENTS.items()}
    check(PREFIX in sent["b"] and PREFIX not in sent["a"],
          "anycastd advertised the route to b and not back to a, the client it came from")


def main():
    return run_test("reflection", scenario, needs=("bird", "birdc"))


if __name__ == "__main__":
    sys.exit(main())
