#!/usr/bin/env bash
# Checks what scripts/package wrote under dist/, as a host without Swift would
# meet it: unpacked with dpkg-deb, run with an empty environment, its shared
# libraries all the system's (none of Swift's or Foundation's).
set -uo pipefail
cd "$(dirname "$0")/../.."
passed=0 failed=0
check() {  # check NAME COMMAND...
  if "${@:2}" >/tmp/package-check.out 2>&1; then passed=$((passed + 1)); echo "ok   $1"
  else failed=$((failed + 1)); echo "FAIL $1"; sed 's/^/     /' /tmp/package-check.out | head -20; fi
}

deb=$(ls dist/llamacloud-archive_*_amd64.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { echo "no package under dist/: run scripts/package first"; echo "0 passed, 1 failed"; exit 1; }
version=$(dpkg-deb -f "$deb" Version)
tarball="dist/llamacloud-archive-${version}-linux-x86_64.tar.gz"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
dpkg-deb -x "$deb" "$root/pkg"
archive="$root/pkg/usr/bin/archive"
mkdir -p "$root/home"

check "--version prints the package's version" \
  bash -c "[ \"\$(env -i PATH=/usr/bin:/bin '$archive' --version)\" = '$version' ]"
check "the man page names the same version" \
  bash -c "zcat '$root/pkg/usr/share/man/man1/archive.1.gz' | grep -qx '.Os llamacloud-archive $version'"
check "demo runs with an empty environment" \
  bash -c "env -i PATH=/usr/bin:/bin HOME='$root/home' '$archive' demo --db '$root/demo.db' | grep -q '^second sync: '"
check "the demo archive answers queries" \
  bash -c "env -i PATH=/usr/bin:/bin '$archive' sql --db '$root/demo.db' 'SELECT count(*) > 100 FROM sessions' --format csv | tail -1 | tr -d '\\r' | grep -qx 1"
check "no Swift or Foundation library is needed" \
  bash -c "! ldd '$archive' | grep -Ei 'swift|foundation|dispatch|BlocksRuntime|not found'"
check "only the system's libsqlite3, libcurl, zlib and C runtime are linked directly" \
  bash -c "[ -z \"\$(readelf -d '$archive' | sed -n 's/.*Shared library: \\[\\(.*\\)\\]/\\1/p' | grep -Ev '^(libsqlite3\\.so\\.0|libcurl\\.so\\.4|libz\\.so\\.1|libc\\.so\\.6|libm\\.so\\.6|libstdc\\+\\+\\.so\\.6|libgcc_s\\.so\\.1|ld-linux-x86-64\\.so\\.2)$')\" ]"
check "the package depends on libsqlite3-0, libcurl4 and zlib1g" \
  bash -c "dpkg-deb -f '$deb' Depends | grep -q 'libsqlite3-0' && dpkg-deb -f '$deb' Depends | grep -q 'libcurl4' && dpkg-deb -f '$deb' Depends | grep -q 'zlib1g'"
check "the man page documents every command" \
  bash -c "zcat '$root/pkg/usr/share/man/man1/archive.1.gz' > '$root/archive.1' && for c in sync sessions show search tokens tools sql import export status demo; do grep -q \"\$c\" '$root/archive.1' || exit 1; done"
check "shell completions are where Debian looks" \
  bash -c "bash -n '$root/pkg/usr/share/bash-completion/completions/archive' && [ -s '$root/pkg/usr/share/zsh/vendor-completions/_archive' ] && [ -s '$root/pkg/usr/share/fish/vendor_completions.d/archive.fish' ]"
check "README, the guide, the references and the cron and systemd examples are shipped" \
  bash -c "cd '$root/pkg/usr/share/doc/llamacloud-archive' && [ -s README.md ] && [ -s docs/sync.md ] && [ -s docs/reference/cli.md ] && [ -s CHANGELOG.md ] && grep -q '^Persistent=true' examples/archive-sync.timer && grep -q -- '--api-key-file' examples/archive-sync.service && grep -q '/usr/bin/archive' examples/cron.example"
check "the tarball holds the same files" \
  bash -c "diff <(tar -tzf '$tarball' | grep -v '/$' | sed 's|^\\./||' | sort) <(dpkg-deb -c '$deb' | awk '{print \$6}' | grep -v '/$' | sed 's|^\\./||' | sort)"
check "SHA256SUMS verifies both" bash -c "cd dist && sha256sum -c SHA256SUMS"

echo "package check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
