#!/usr/bin/env bash
# DuckDB, ClickHouse (chdb, its in-process engine) and Spark (pyspark in
# local mode, on the machine's Java) load a dataset exported from a demo
# archive, before and after changes and an incremental export, and answer as
# the archive does (Tests/dataset/check_dataset.py). Installs them into a
# virtual environment of its own (.build-venv/dataset): about 90 s.
. "$(dirname "$0")/../check_prelude.sh" dataset 'import duckdb, chdb, pyspark' duckdb chdb pyspark
"$venv/bin/python" Tests/dataset/check_dataset.py "$archive" "$work" 2> >(grep -v -e WARN -e 'log4j' -e 'setLogLevel' -e 'pandas' -e 'require_minimum' >&2)
