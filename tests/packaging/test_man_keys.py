#!/usr/bin/env python3
"""Every key the configuration loader accepts is described in anycastd.yaml(5).

The loader names its keys in its only_keys() calls (they are what "unknown key" errors
list); each must appear in the man page as a literal (bold) word, alone or as the last
part of a dotted name such as degrade.prepend.
usage: test_man_keys.py SRC_DIR MAN_PAGE
"""
import pathlib
import re
import sys

src, page = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]).read_text()
keys = {}
for f in sorted((src / "src" / "config").glob("*.cpp")):
    text = f.read_text()
    for m in re.finditer(r"\.only_keys\((.*?)\}\)", text, re.S):
        body = m.group(1)
        brace = body.find("{")
        for k in re.findall(r'"([^"]+)"', body[brace:]):
            keys.setdefault(k, f"{f.name}:{text[:m.start()].count(chr(10)) + 1}")
if len(keys) < 50:
    sys.exit(f"FAIL: found only {len(keys)} keys in the loader: has only_keys() changed shape?")

literal = set()
for span in re.findall(r"\\fB(.*?)\\fR", page):
    word = span.replace("\\-", "-")
    for part in re.split(r"[^A-Za-z0-9_.-]+", word):
        for piece in part.split("."):
            literal.add(piece.strip("-"))
missing = sorted(k for k in keys if k not in literal)
for k in missing:
    print(f"FAIL: key '{k}' ({keys[k]}) is not described in anycastd.yaml(5) (docs/configuration.md)")
if missing:
    sys.exit(1)
print(f"PASS: all {len(keys)} keys of the loader are in anycastd.yaml(5)")
