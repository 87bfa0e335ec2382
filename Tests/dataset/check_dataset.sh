#!/usr/bin/env bash
# DuckDB, ClickHouse (chdb, its in-process engine) and Spark (pyspark in
# local mode, on the machine's Java) load a dataset exported from a demo
# archive, before and after changes and an incremental export, and answer as
# the archive does (Tests/dataset/check_dataset.py). Installs them into a
# virtual environment of its own (.build-venv/dataset): about 90 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.build-venv/dataset
if ! "$venv/bin/python" -c 'import duckdb, chdb, pyspark' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q duckdb chdb pyspark
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
swift build -q 2>/dev/null || swift build
archive=$(swift build --show-bin-path)/archive
"$archive" demo --db "$work/archive.db" >/dev/null
"$venv/bin/python" Tests/dataset/check_dataset.py "$archive" "$work" 2> >(grep -v -e WARN -e 'log4j' -e 'setLogLevel' -e 'pandas' -e 'require_minimum' >&2)
