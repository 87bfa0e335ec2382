#!/usr/bin/env python3
"""Listing cost (release build): a sync that changes nothing over an archive
of N sessions still lists every page (the API has no updated-since filter).
The archive imports the simulator's corpus (seed 2026, the scale benchmark's
default one); the simulator serves the same N sessions from memory (about
23 KB each); then no-op syncs with --page-size 100 (the default before this
version) and with the page size found by halving from 1000, first run (which
finds it) and second (which starts from the remembered size).
usage: listing_bench.py [--sessions 300000] [--latency-ms 0]"""
import argparse, json, os, shutil, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import root, run, release_binaries, scale_archive, remove_archive
ap = argparse.ArgumentParser()
ap.add_argument("--sessions", type=int, default=300000)
ap.add_argument("--latency-ms", type=int, default=0)
ap.add_argument("--work", default=os.path.join(root, "bench-out"))
args = ap.parse_args()
archive, simulator = release_binaries()
db = scale_archive(args.work, archive, simulator, args.sessions)
copy = os.path.join(args.work, "listing-bench.db")
remove_archive(copy)
shutil.copyfile(db, copy)
run([archive, "status", "--db", copy])  # upgrades the copy once, outside the timings

key = "bench-key"
started = time.perf_counter()
sim = subprocess.Popen([simulator, "--sessions", str(args.sessions), "--seed", "2026", "--key", key,
                        "--latency-ms", str(args.latency_ms)], stdout=subprocess.PIPE, text=True)
base = sim.stdout.readline().strip()
print(f"simulator serving {args.sessions:,} sessions after {time.perf_counter() - started:.0f} s")
env = dict(os.environ, LLAMA_CLOUD_API_KEY=key, LLAMA_CLOUD_BASE_URL=base)
try:
    print("| no-op sync | list requests | retrieves | time |")
    print("|---|---|---|---|")
    for label, extra in [("--page-size 100", ["--page-size", "100"]), ("page size found (first run)", []),
                         ("page size remembered", [])]:
        start = time.perf_counter()
        result = subprocess.run([archive, "sync", "--db", copy, "--json"] + extra, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if result.returncode != 0:
            sys.exit(result.stderr)
        summary = json.loads(result.stdout)
        print(f"| {label} | {summary['requests'] - summary['retrieved']:,} | {summary['retrieved']:,} | {seconds:.2f} s |")
finally:
    sim.kill()
