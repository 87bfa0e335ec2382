#!/usr/bin/env python3
"""The Datasette benchmark: Tests/datasette/check_datasette.sh over a copy of
each sparse scale archive (built by `scripts/bench scale` and reused; the copy
takes the planted session), so every page datasette.yml names or the database
page links is fetched from a real Datasette and timed. The limit is the one
the issue sets: 0.5 s a page up to 20,000 sessions, 1 s above.
usage: datasette_bench.py [--sizes 20000,300000]"""
import argparse, os, shutil, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import root, release_binaries, spread_archive
ap = argparse.ArgumentParser()
ap.add_argument("--sizes", default="20000,300000")
ap.add_argument("--work", default=os.path.join(root, "bench-out"))
args = ap.parse_args()
archive, simulator = release_binaries()
status = 0
for n in [int(s) for s in args.sizes.split(",")]:
    db, _ = spread_archive(args.work, archive, simulator, "sparse", n)
    copy = os.path.join(args.work, f"datasette-{n}.db")
    shutil.copyfile(db, copy)
    limit = "0.5" if n <= 20000 else "1.0"
    print(f"\n{n:,} sessions, limit {limit} s a page")
    sys.stdout.flush()
    status |= subprocess.run([os.path.join(root, "Tests/datasette/check_datasette.sh"), "--db", copy, "--limit", limit]).returncode
    for leftover in [copy, copy + "-wal", copy + "-shm", copy + ".lock"]:
        if os.path.exists(leftover):
            os.remove(leftover)
sys.exit(status)
