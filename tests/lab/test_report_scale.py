#!/usr/bin/env python3
"""The lab's HTML report at 3 and 50 regions, rendered by headless Chromium at a 1100-pixel
window as a person would see it (issue 18): every region's card on the screen (the drawing
wraps, the MSEE in it), every region its own colour, fault labels apart, a single lost
request drawn taller than the answered ones, and each step's drawing showing the NVAs'
AS paths, the gateway the MSEE prefers and the backends' state at that step.

usage: test_report_scale.py ANYCAST_LAB"""
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_report import png_pixels  # noqa: E402

LOST = (0xD6, 0x27, 0x28)


def topology(n):
    out = ["name: regions-%d" % n, "description: %d regions, region 1 preferred, each next one prepends once more." % n,
           "seed: 1", "circuits:", "  - name: london", "    msee: {asn: 12076}", "regions:"]
    for i in range(1, n + 1):
        b = "10.%d.%d" % (i // 200, i % 200)
        out += ["  - name: region-%d" % i, "    latency: 0.%03d" % (2 + i % 7), "    hub:",
                "      name: hub-%d" % i, "      prefixes: [%s.0/24]" % b,
                "      route-server: {instances: [%s.4, %s.5]}" % (b, b),
                "      er-gateway: {instances: [%s.12, %s.13]}" % (b, b),
                "    nvas:", "      - name: nva-%d" % i, "        address: %s.70" % b, "        config:",
                "          router-id: %s.70" % b, "          local-as: 65010", "          checks:",
                "            web: {type: http, address: %s.69, port: 80, interval: 1, fall: 2, rise: 2}" % b,
                "          vips:", "            - prefix: 9.9.9.9/32", "              prepend: %d" % min(i - 1, 32),
                "              health: {checks: [web]}", "    backends:",
                "      - {name: web-%d, address: %s.69, port: 80, answer: \"region %d\"}" % (i, b, i)]
    out += ["routers:", "  - {name: onprem, asn: 133937, address: 169.254.41.169, circuits: [london]}",
            "clients:", "  - {name: pc, router: onprem, target: 9.9.9.9, port: 80, rate: 20}",
            "scenarios:", "  - name: failover", "    end: 30", "    steps:",
            "      - {at: 5, note: baseline, expect: {served-by: {pc: region-1}}}",
            "      - {at: 10, do: {fail-backend: web-1}}",
            "      - {at: 10.2, do: {stop-bgp: nva-2}}",
            "      - {at: 10.4, do: {crash: web-3}}" if n >= 4 else "",
            "      - {at: 15, note: failed over, expect: {served-by: {pc: region-%d}}}" % (4 if n >= 4 else n),
            "      - {at: 20, do: [{restore-backend: web-1}, {start-bgp: nva-2}]}",
            "      - {at: 25, note: back, expect: {served-by: {pc: region-1}}}"]
    return "\n".join(l for l in out if l) + "\n"


def rgb(hexcolour):
    return tuple(int(hexcolour[i:i + 2], 16) for i in (1, 3, 5))


def near(px, c, tol=6):
    return all(abs(p - q) <= tol for p, q in zip(px, c))


def check(lab, chromium, n, d):
    problems = []
    yaml, page, png = (os.path.join(d, f"r{n}.{x}") for x in ("yaml", "html", "png"))
    open(yaml, "w").write(topology(n))
    r = subprocess.run([lab, yaml, "-q", "--report", page], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        return [f"anycast-lab exited {r.returncode}: {r.stdout[-1500:]} {r.stderr[-500:]}"]
    text = open(page).read()
    for forbidden in ("<script", "http://", "https://"):
        if forbidden in text:
            problems.append(f"not self-contained: {forbidden!r}")
    widths = [int(w) for w in re.findall(r'<svg[^>]* width="(\d+)"', text)]
    if not widths or max(widths) > 1060:
        problems.append(f"a drawing is wider than the page: {widths}")
    # The key: one colour per region, all distinct, none the lost colour.
    key = text[text.index('class="key"'):text.index("</p>", text.index('class="key"'))]
    colours = re.findall(r'background:(#[0-9a-f]{6})"></span>\d+ region-', key)
    if len(colours) != n or len(set(colours)) != n or "#d62728" in colours:
        problems.append(f"{len(set(colours))} distinct region colours for {n} regions")
    # Fault labels: none overlaps another on the same line (10-pixel text, 6 pixels a char).
    timeline = text[text.index('<svg id="timeline"'):]
    timeline = timeline[:timeline.index("</svg>")]
    labels = [(int(x), int(y), html.unescape(t)) for x, y, t in
              re.findall(r'<text class="sub" x="(\d+)" y="(\d+)">([^<]*)<title>', timeline)]
    for i, (x1, y1, t1) in enumerate(labels):
        for x2, y2, t2 in labels[i + 1:]:
            if y1 == y2 and x1 < x2 + 6 * len(t2) and x2 < x1 + 6 * len(t1):
                problems.append(f"labels overlap: {t1!r} and {t2!r}")
    if len(labels) < 3:
        problems.append(f"expected 3 fault labels or more, found {labels}")
    # Each step's drawing: the state at that step.
    views = re.split(r'<div class="view" id="topo\d+">', text)[1:]
    steps = re.findall(r'<label for="step\d+">t=([0-9.]+) s', text)
    view = dict(zip(steps, views))
    if "MSEE prefers GW 10.0.1.12" not in view.get("5.000", ""):
        problems.append("the baseline drawing does not show region 1's gateway preferred")
    if "VIP 9.9.9.9/32 path 65010 x3" not in view.get("5.000", ""):
        problems.append("the baseline drawing does not show region 3's prepended path")
    if "web-1 failing (503)" not in view.get("10.200", ""):
        problems.append("the drawing at t=10.2 does not show web-1 failing")
    if "web-1 failing" in view.get("5.000", "x"):
        problems.append("the baseline drawing shows web-1 failing already")
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1100,2400", f"--user-data-dir={d}/profile{n}",
                    f"--screenshot={png}", "file://" + page], capture_output=True, timeout=90)
    if not os.path.exists(png):
        return problems + ["chromium wrote no screenshot"]
    rows = png_pixels(png)
    # The last card of the first row (region 3, or 5 at 50) is on the screen: its header.
    last = colours[min(n, 5) - 1]
    seen = sum(1 for row in rows for px in row if near(px, rgb(last)))
    if seen < 1500:
        problems.append(f"region {min(n, 5)}'s card is not on the screen ({seen} pixels of {last})")
    # A lone lost request: a red mark only a few pixels wide but taller than a row (24 px).
    height = {}
    for y, row in enumerate(rows):
        for x, px in enumerate(row):
            if near(px, LOST):
                lo, hi = height.get(x, (y, y))
                height[x] = (min(lo, y), max(hi, y))
    tall = sorted(x for x, (lo, hi) in height.items() if hi - lo + 1 >= 30)
    runs, start = [], None
    for i, x in enumerate(tall):
        if start is None:
            start = x
        if i + 1 == len(tall) or tall[i + 1] != x + 1:
            runs.append((start, x))
            start = None
    thin = [(a, b) for a, b in runs if b - a + 1 <= 6]
    if not thin:
        problems.append(f"no thin lost-request mark taller than a row: runs {runs}")
    print(f"{n} regions: {len(set(colours))} colours, {len(labels)} labels, red runs {runs}")
    return problems


def main():
    lab = sys.argv[1]
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("FAIL: chromium is not installed (scripts/install-deps installs it)")
        return 1
    problems = []
    with tempfile.TemporaryDirectory() as d:
        for n in (3, 50):
            problems += [f"{n} regions: {p}" for p in check(lab, chromium, n, d)]
    for p in problems:
        print("FAIL:", p)
    print("PASS" if not problems else "FAIL")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
