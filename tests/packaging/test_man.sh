#!/usr/bin/env bash
# The generated man pages: mandoc's lint and groff's warnings find nothing, `man -l` renders
# each one, every page the package installs exists, and anycastd.yaml(5) describes every key
# the configuration loader accepts.
set -euo pipefail
build=$1 src=$2
fail() { echo "FAIL: $*"; exit 1; }
for page in anycastd.8 anycastctl.8 anycast-lab.1 anycastd.yaml.5; do
  f=$build/man/$page
  [ -f "$f" ] && [ -f "$f.gz" ] || fail "$f(.gz) not generated"
  out=$(mandoc -T lint -W warning "$f" 2>&1) || fail "mandoc -T lint $page: $out"
  [ -z "$out" ] || fail "mandoc -T lint $page: $out"
  out=$(LC_ALL=C.UTF-8 groff -ww -man -Tutf8 -z "$f" 2>&1)
  [ -z "$out" ] || fail "groff -ww $page: $out"
  out=$(MANWIDTH=80 LC_ALL=C.UTF-8 man -l "$f.gz" 2>&1 >/dev/null)
  [ -z "$out" ] || fail "man -l $page: $out"
  lines=$(MANWIDTH=80 LC_ALL=C.UTF-8 man -l "$f.gz" 2>/dev/null | wc -l)
  [ "$lines" -gt 30 ] || fail "man -l $page rendered only $lines lines"
  echo "  ok: $page: mandoc and groff clean, $lines lines"
done
python3 "$src/tests/packaging/test_man_keys.py" "$src" "$build/man/anycastd.yaml.5"
echo PASS
