"""An independent decoder reads our bytes: a whole session with BIRD (OPEN, UPDATEs for
both families, End-of-RIB, withdraw, NOTIFICATION) captured on the test's own ports and
dissected by tshark must contain zero malformed packets."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import harness
from harness import Anycastd, Proc, check, sh, wait_until
from test_bird import Bird


def main():
    for tool in ("tshark", "bird"):
        if not shutil.which(tool):
            print(f"FAIL: {tool} is not installed (run scripts/install-deps)")
            return 1
    work = tempfile.mkdtemp(prefix="interop-tshark-")
    nva, them, nva_port, peer_port = "127.0.5.1", "127.0.5.2", 17905, 18005
    cap = os.path.join(work, "bgp.pcap")
    try:
        ts = Proc("tshark", ["tshark", "-i", "lo", "-w", cap, "-f",
                             f"tcp port {nva_port} or tcp port {peer_port}"], os.path.join(work, "tshark.log"))
        wait_until(lambda: "Capturing on" in open(ts.log).read(), 60, "tshark capturing")
        # "Capturing on" comes before the capture really starts: a session opened in
        # between went unseen once (9 packets, no OPEN). Newer tshark says when it starts.
        try:
            wait_until(lambda: "Capture started" in open(ts.log).read(), 3, "capture started")
        except harness.Fail:
            pass
        time.sleep(0.5)
        bird = Bird()
        bird.start(work, them, peer_port, nva, nva_port, peer_passive=True)
        a = Anycastd(work, nva, nva_port, them, peer_port, False)
        wait_until(lambda: bird.route(harness.VIP6), 60, "BIRD holding the IPv6 VIP")
        a.proc.signal(signal.SIGTERM)
        a.proc.p.wait(10)
        time.sleep(0.5)
        ts.signal(signal.SIGINT)
        ts.p.wait(10)
        types = sh(["tshark", "-r", cap, "-d", f"tcp.port=={nva_port},bgp", "-d",
                    f"tcp.port=={peer_port},bgp", "-Y", "bgp", "-T", "fields", "-e", "bgp.type"])
        seen = {t for line in types.split() for t in line.split(",")}
        check({"1", "2", "3", "4"} <= seen, f"tshark decoded OPEN, UPDATE, NOTIFICATION, KEEPALIVE ({sorted(seen)})")
        bad = sh(["tshark", "-r", cap, "-d", f"tcp.port=={nva_port},bgp", "-d",
                  f"tcp.port=={peer_port},bgp", "-Y", "_ws.malformed || _ws.expert.severity == error"])
        check(bad.strip() == "", "zero malformed BGP packets" + (f":\n{bad}" if bad.strip() else ""))
        return 0
    except harness.Fail as e:
        print(f"FAIL: {e}")
        harness.dump_logs(work)
        return 1
    finally:
        Proc.stop_all()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
