# Sourced by the checks that drive the archive from Python tools
# (Tests/datasette, Tests/mcp, Tests/dataset):
#   . Tests/check_prelude.sh VENV_NAME 'python import line' PACKAGE...
# Installs the packages into .build-venv/VENV_NAME unless the import already
# works there, builds the archive, and leaves $venv, $work (removed on exit),
# $archive, and a demo archive at $work/archive.db.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
venv=.build-venv/$1
if ! "$venv/bin/python" -c "$2" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "${@:3}"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
swift build -q 2>/dev/null || swift build
archive=$(swift build --show-bin-path)/archive
"$archive" demo --db "$work/archive.db" >/dev/null
