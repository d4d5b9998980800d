#!/usr/bin/env python3
"""The lab's HTML report, rendered by headless Chromium as a person would see it: the
timeline must be drawn -- long runs of each region's colour where that region answered --
and the page must carry the MSEE table and the verdict.

usage: test_report.py ANYCAST_LAB TOPOLOGY"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

# The report's palette: the first two regions, and failed requests.
COLOURS = {"north-europe": (0x1F, 0x77, 0xB4), "west-europe": (0x2C, 0xA0, 0x2C), "lost": (0xD6, 0x27, 0x28)}


def png_pixels(path):
    """Decodes an 8-bit RGB/RGBA PNG (what Chromium writes) into rows of pixel tuples."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6), f"unexpected PNG format {depth}/{ctype}"
            channels = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        rows.append([tuple(line[x * channels:x * channels + 3]) for x in range(width)])
        prev = line
    return rows


def main():
    lab, topology = sys.argv[1], sys.argv[2]
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("FAIL: chromium is not installed (scripts/install-deps installs it)")
        return 1
    with tempfile.TemporaryDirectory() as d:
        html, png = os.path.join(d, "report.html"), os.path.join(d, "report.png")
        r = subprocess.run([lab, topology, "-q", "--report", html], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            print(f"FAIL: anycast-lab exited {r.returncode}\n{r.stdout}\n{r.stderr}")
            return 1
        page = open(html).read()
        for needed in ("<svg id=\"timeline\"", "PASS", "172.16.158.12*", "stop BGP on nva-ne"):
            if needed not in page:
                print(f"FAIL: the report lacks {needed!r}")
                return 1
        for forbidden in ("<script", "http://", "https://"):
            if forbidden in page:
                print(f"FAIL: the report is not self-contained: {forbidden!r}")
                return 1
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--window-size=1100,900", f"--user-data-dir={d}/profile",
                        f"--screenshot={png}", "file://" + html],
                       capture_output=True, timeout=90)
        if not os.path.exists(png):
            print("FAIL: chromium wrote no screenshot")
            return 1
        rows = png_pixels(png)
    counts = {k: 0 for k in COLOURS}
    longest = {k: 0 for k in COLOURS}
    for row in rows:
        run = {k: 0 for k in COLOURS}
        for px in row:
            for k, c in COLOURS.items():
                if all(abs(p - q) <= 6 for p, q in zip(px, c)):
                    counts[k] += 1
                    run[k] += 1
                    longest[k] = max(longest[k], run[k])
                else:
                    run[k] = 0
    print(f"pixels per colour {counts}, longest horizontal runs {longest}")
    # Primary-failure: North Europe answers for about two thirds of the run and West Europe
    # for a third, so both draw long horizontal bars in the timeline.
    ok = longest["north-europe"] > 150 and longest["west-europe"] > 150
    ok &= counts["north-europe"] > counts["west-europe"] > 2000
    print("PASS" if ok else "FAIL: the timeline is not in the picture")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
