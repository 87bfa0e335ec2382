#!/usr/bin/env python3
"""The scale benchmark (release build): how cost grows with the archive. For
each size, generates the corpus once (the simulator's shape), imports it
(time, peak memory, size), then times every report as a whole process,
median of --repeat runs: tokens by day, week, month (in a quarter-hour zone
and a half-hour one), project and index; tools; status; sessions by tokens;
a rare word's search; and count(*) of the events view for scale.
usage: scale_bench.py [--sizes 20000,100000,300000] [--repeat 5]"""
import argparse, os, re, statistics, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import root, run, release_binaries, corpus as common_corpus
ap = argparse.ArgumentParser()
ap.add_argument("--sizes", default="20000,100000,300000")
ap.add_argument("--repeat", type=int, default=5)
ap.add_argument("--work", default=os.path.join(root, "bench-out"))
args = ap.parse_args()
os.makedirs(args.work, exist_ok=True)

archive, simulator = release_binaries()

def corpus(n):
    return common_corpus(args.work, simulator, n)

def imported(n):
    db = os.path.join(args.work, f"scale-{n}.db")
    for suffix in ("", "-wal", "-shm", ".lock"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    start = time.perf_counter()
    result = subprocess.run(["/usr/bin/time", "-v", archive, "import", "--db", db, corpus(n)], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(result.stderr)
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr).group(1)) / 1024
    run(["sqlite3", db, "PRAGMA wal_checkpoint(TRUNCATE)"])
    return db, seconds, peak, os.path.getsize(db) / 1e6

queries = [
    ("tokens --by day (Asia/Kathmandu)", ["tokens", "--by", "day", "--tz", "Asia/Kathmandu"]),
    ("tokens --by week (Asia/Kolkata)", ["tokens", "--by", "week", "--tz", "Asia/Kolkata"]),
    ("tokens --by month (Europe/Berlin)", ["tokens", "--by", "month", "--tz", "Europe/Berlin"]),
    ("tokens --by project", ["tokens", "--by", "project"]),
    ("tokens --by index", ["tokens", "--by", "index"]),
    ("tokens --by project,day", ["tokens", "--by", "project,day"]),
    ("tools", ["tools"]),
    ("status", ["status"]),
    ("sessions --order tokens --limit 20", ["sessions", "--order", "tokens", "--limit", "20"]),
    ("search (a rare word)", ["search", "zyzzyva"]),
    ("tokens --by session (every session)", ["tokens", "--by", "session"]),
    ("tokens --by session --limit 20 (priced)", ["tokens", "--by", "session", "--limit", "20", "--price-input", "3", "--price-output", "15"]),
    ("report (HTML, priced)", ["report", "--out", os.path.join(args.work, "report.html"), "--price-input", "3", "--price-output", "15"]),
    ("sql count(*) from events", ["sql", "SELECT count(*) FROM events"]),
]

def peak_memory(db, extra):
    result = subprocess.run(["/usr/bin/time", "-v", archive] + extra + ["--db", db, "--format", "json"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr).group(1)) / 1024

def timing(db, extra):
    runs = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        run([archive] + extra + ["--db", db] + ([] if extra[0] == "report" else ["--format", "json"]))
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)

sizes = [int(s) for s in args.sizes.split(",")]
results = {}
for n in sizes:
    db, seconds, peak, megabytes = imported(n)
    results[n] = {"import": seconds, "peak": peak, "size": megabytes}
    for name, extra in queries:
        results[n][name] = timing(db, extra)
    results[n]["session peak"] = peak_memory(db, ["tokens", "--by", "session"])

def cell(n, name):
    value = results[n][name]
    if name == "import":
        return f"{value:.1f} s"
    if name in ("peak", "session peak"):
        return f"{value:.0f} MB"
    if name == "size":
        return f"{value:.0f} MB"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"

print(f"scale: whole process, median of {args.repeat}; sizes in sessions")
print("| | " + " | ".join(f"{n:,}" for n in sizes) + " |")
print("|---|" + "---|" * len(sizes))
for name in ["import", "peak", "size"] + [q[0] for q in queries] + ["session peak"]:
    label = {"import": "import", "peak": "import peak memory", "size": "archive size",
             "session peak": "tokens --by session peak memory"}.get(name, name)
    print(f"| {label} | " + " | ".join(cell(n, name) for n in sizes) + " |")
if len(sizes) >= 2:
    a, b = sizes[-2], sizes[-1]
    print(f"import {b:,} / {a:,}: {results[b]['import'] / results[a]['import']:.2f}x the time for {b / a:.1f}x the sessions")
