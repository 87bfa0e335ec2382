#!/usr/bin/env python3
"""The search benchmark (release build): the first page of a search as a
whole process, median of --repeat runs, on the sparse scale archives (15
projects over 26 years; built by `scripts/bench scale` and reused), at each
size: a rare word, common words (each in 10% of events or more), raw FTS5 with
OR and NEAR, and the filters alone and together, from one that keeps most
sessions to one that keeps none. --baseline times another binary (an
earlier build) in the same runs, interleaved; its archive is a copy, so that
a newer schema never reaches it. The ceiling: 100 ms at every size.
usage: search_bench.py [--sizes 20000,100000,300000,1000000] [--repeat 3] [--baseline BIN]"""
import argparse, os, shutil, statistics, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import root, run, release_binaries, spread_archive
ap = argparse.ArgumentParser()
ap.add_argument("--sizes", default="20000,100000,300000,1000000")
ap.add_argument("--repeat", type=int, default=3)
ap.add_argument("--baseline", help="another archive binary timed in the same runs, on a copy of each archive")
ap.add_argument("--work", default=os.path.join(root, "bench-out"))
args = ap.parse_args()
archive, simulator = release_binaries()

queries = [
    ("a rare word", ["zyzzogeton"]),
    ("renewal (common)", ["renewal"]),
    ("\"renewal clause\"", ["renewal clause"]),
    ("\"revenue forecast\"", ["revenue forecast"]),
    ("--fts renewal OR forecast", ["--fts", "renewal OR forecast"]),
    ("--fts NEAR(renewal clause, 3)", ["--fts", "NEAR(renewal clause, 3)"]),
    ("renewal --since (the newest year)", ["renewal", "--since", "NEWEST"]),
    ("renewal --until (the first 3 months)", ["renewal", "--until", "FIRST"]),
    ("renewal --project project-01 (the oldest keys)", ["renewal", "--project", "project-01"]),
    ("renewal --project proj-research (none: nothing found)", ["renewal", "--project", "proj-research"]),
    ("renewal --project project-01 --since (one month)", ["renewal", "--project", "project-01", "--since", "MONTH", "--until", "MONTHEND"]),
    ("renewal --source default --project project-02,03", ["renewal", "--source", "default", "--project", "project-02", "--project", "project-03"]),
    ("\"renewal clause\" --rank (bm25 over every match)", ["renewal clause", "--rank"]),
]

def dates(db):
    first, last = run(["sqlite3", db, "SELECT min(last_updated_at), max(last_updated_at) FROM sessions"]).stdout.strip().split("|")
    year = str(int(last[:4]))
    first_month = int(first[5:7])
    until = f"{first[:4]}-{min(12, first_month + 2):02d}-28"
    middle = int(first[:4]) + (int(last[:4]) - int(first[:4])) // 2
    return {"NEWEST": f"{year}-01-01", "FIRST": until, "MONTH": f"{middle}-01-01", "MONTHEND": f"{middle}-01-31"}

def timing(binary, db, extra):
    runs = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = subprocess.run([binary, "search", "--db", db, "--format", "json"] + extra, capture_output=True, text=True)
        runs.append(time.perf_counter() - start)
        if result.returncode != 0:
            sys.exit(f"{extra}: {result.stderr}")
    return statistics.median(runs)

def cell(seconds):
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"

sizes = [int(s) for s in args.sizes.split(",")]
results = {}
for n in sizes:
    db, _ = spread_archive(args.work, archive, simulator, "sparse", n)
    run(["sqlite3", db, "PRAGMA wal_checkpoint(TRUNCATE)"])
    copy = None
    if args.baseline:
        copy = db + ".baseline.db"
        shutil.copyfile(db, copy)
    marks = dates(db)
    for name, extra in queries:
        extra = [marks.get(part, part) for part in extra]
        results[(n, name)] = timing(archive, db, extra)
        if copy:  # an earlier build ranks every match by bm25 without being asked
            results[(n, name, "baseline")] = timing(args.baseline, copy, [part for part in extra if part != "--rank"])
    if copy:
        os.remove(copy)

print(f"\nsearch, the first page (20 results), sparse corpus: whole process, median of {args.repeat}; sizes in sessions")
print("| query | " + " | ".join(f"{n:,}" for n in sizes) + " |")
print("|---|" + "---|" * len(sizes))
for name, _ in queries:
    cells = []
    for n in sizes:
        text = cell(results[(n, name)])
        if args.baseline:
            text += f" (was {cell(results[(n, name, 'baseline')])})"
        cells.append(text)
    print(f"| {name} | " + " | ".join(cells) + " |")
worst = max((results[(n, name)], n, name) for n in sizes for name, _ in queries if "--rank" not in name)
print(f"slowest first page (newest first): {cell(worst[0])} at {worst[1]:,} sessions ({worst[2]}); ceiling 100 ms: "
      + ("holds" if worst[0] < 0.1 else "BROKEN"))
