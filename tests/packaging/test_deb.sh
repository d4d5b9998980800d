#!/usr/bin/env bash
# `make package`'s .deb: built with CPack from this build tree, its contents and metadata
# checked with dpkg-deb, and lintian finds no error and no warning in it; as root it is
# also installed with apt, the installed daemon checks the shipped configuration, man finds
# the pages, systemd-analyze checks the unit, and the package is purged.
set -euo pipefail
build=$1
work=$(mktemp -d /tmp/anycastd-deb.XXXXXX)
installed=0
cleanup() {
  if [ "$installed" = 1 ]; then apt-get purge -y anycastd >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "  ok: $*"; }

(cd "$work" && cpack -G DEB --config "$build/CPackConfig.cmake" >cpack.log 2>&1) ||
  { cat "$work/cpack.log"; fail "cpack"; }
deb=$(ls "$work"/anycastd_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "no .deb produced"
ok "built $(basename "$deb")"

contents=$(dpkg-deb -c "$deb")
for f in ./usr/sbin/anycastd ./usr/sbin/anycastctl ./usr/bin/anycast-lab \
         ./usr/lib/systemd/system/anycastd.service ./etc/anycastd/anycastd.yaml \
         ./usr/share/doc/anycastd/configuration.md ./usr/share/doc/anycastd/copyright \
         ./usr/share/doc/anycastd/changelog.gz ./usr/share/man/man8/anycastd.8.gz \
         ./usr/share/man/man8/anycastctl.8.gz ./usr/share/man/man1/anycast-lab.1.gz \
         ./usr/share/man/man5/anycastd.yaml.5.gz ./usr/share/bash-completion/completions/anycastctl \
         ./usr/share/anycastd/contrib/grafana/anycastd-fleet.json \
         ./usr/share/anycastd/contrib/grafana/anycastd-nva.json \
         ./usr/share/anycastd/contrib/prometheus/anycastd-alerts.yml \
         ./usr/share/doc/anycastd/examples/seed-004.yaml; do
  grep -q " $f\$" <<<"$contents" || fail "$f missing from the package"
done
ok "the package holds the three programs, the unit, the configuration, docs, copyright, changelog, man pages, completion and contrib/"
version=$("$build/apps/anycastd" --version | awk '{print $2}')
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] ||
  fail "package version $(dpkg-deb -f "$deb" Version) is not anycastd --version's $version"
for p in anycastctl anycast-lab; do
  [ "$("$build/apps/$p" --version)" = "$p $version" ] || fail "$p --version: $("$build/apps/$p" --version)"
done
ok "the package and all three programs say version $version"
[ "$(dpkg-deb -f "$deb" Description | wc -l)" -ge 3 ] || fail "no extended description"
ok "the description has a summary and an extended part"
if command -v lintian >/dev/null; then
  report=$(lintian --no-tag-display-limit --display-level '>=warning' "$deb" 2>&1) || true
  if grep -E '^[EW]: ' <<<"$report"; then fail "lintian reports errors or warnings (above)"; fi
  ok "lintian: no error, no warning"
else
  fail "lintian missing (scripts/install-deps installs it)"
fi
grep -qx "/etc/anycastd/anycastd.yaml" <(dpkg-deb -I "$deb" conffiles) ||
  fail "the configuration is not a conffile"
ok "/etc/anycastd/anycastd.yaml is a conffile (local edits survive upgrades)"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libyaml-cpp libspdlog libmnl libsystemd; do
  grep -q "$lib" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
ok "Depends names the shared libraries: $depends"

if [ "$(id -u)" != 0 ]; then
  echo "SKIP: installing needs root"
  exit 0
fi
if dpkg -s anycastd >/dev/null 2>&1; then
  echo "SKIP: an anycastd package is already installed here; not touching it"
  exit 0
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y "$deb" >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log"; fail "apt-get install ./$(basename "$deb")"; }
installed=1
ok "apt-get install ./$(basename "$deb")"
/usr/sbin/anycastd -c /etc/anycastd/anycastd.yaml --check-config || fail "check-config"
ok "the installed anycastd accepts the shipped configuration"
/usr/sbin/anycastctl --help >/dev/null || fail "anycastctl --help"
for page in anycastd anycastctl anycast-lab anycastd.yaml; do
  man -w "$page" >/dev/null 2>&1 || fail "man $page: not found after install"
done
ok "man finds anycastd(8), anycastctl(8), anycast-lab(1), anycastd.yaml(5)"
if command -v systemd-analyze >/dev/null; then
  out=$(systemd-analyze verify /usr/lib/systemd/system/anycastd.service 2>&1 || true)
  grep -qi "anycastd.service" <<<"$out" && fail "systemd-analyze: $out"
  ok "systemd-analyze verify finds nothing wrong with the unit"
fi
echo PASS
