#!/usr/bin/env python3
"""The scale benchmark (release build): how cost grows with the archive. For
each spread and size, generates the corpus (the simulator's shape), imports
it (time, peak memory, size), then times every report as a whole process,
median of --repeat runs: tokens by day, week, month (in a quarter-hour zone
and a half-hour one), project and index; tools; status; sessions by tokens;
a rare word's search; the HTML report; and count(*) of the events view.

Spreads (sessions in time and groups):
  default  one session every 1-50 minutes, no project (the corpus of earlier versions)
  dense    3 projects, each a session every 0-3 minutes: many sessions share a quarter hour
  sparse   15 projects, each a session every 15-1350 minutes (together one every 1-90
           minutes, 26 years at 300,000), about 300 project-and-index groups

Archives are kept in bench-out/scale-SPREAD-N.db with their import figures
beside them (.json) and reused; --fresh imports again. Corpora are generated
straight into `archive import -`, never stored, so generation runs beside
the import on the other core (the import figures of `scripts/bench import`
are the ones to compare with the Python peer).
usage: scale_bench.py [--spreads dense,sparse] [--sizes 20000,100000,300000,1000000] [--repeat 3] [--fresh]"""
import argparse, json, os, re, statistics, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import root, run, release_binaries, spread_archive
ap = argparse.ArgumentParser()
ap.add_argument("--spreads", default="dense,sparse")
ap.add_argument("--sizes", default="20000,100000,300000,1000000")
ap.add_argument("--repeat", type=int, default=3)
ap.add_argument("--fresh", action="store_true")
ap.add_argument("--work", default=os.path.join(root, "bench-out"))
args = ap.parse_args()
os.makedirs(args.work, exist_ok=True)

archive, simulator = release_binaries()

def imported(spread, n):
    return spread_archive(args.work, archive, simulator, spread, n, fresh=args.fresh)

queries = [
    ("tokens --by day (Asia/Kathmandu)", ["tokens", "--by", "day", "--tz", "Asia/Kathmandu"]),
    ("tokens --by week (Asia/Kolkata)", ["tokens", "--by", "week", "--tz", "Asia/Kolkata"]),
    ("tokens --by month (Europe/Berlin)", ["tokens", "--by", "month", "--tz", "Europe/Berlin"]),
    ("tokens --by month (Pacific/Chatham)", ["tokens", "--by", "month", "--tz", "Pacific/Chatham"]),
    ("tokens --by project", ["tokens", "--by", "project"]),
    ("tokens --by index", ["tokens", "--by", "index"]),
    ("tokens --by project,month", ["tokens", "--by", "project,month"]),
    ("tokens --by project,day", ["tokens", "--by", "project,day"]),
    ("tools", ["tools"]),
    ("status", ["status"]),
    ("sessions --order tokens --limit 20", ["sessions", "--order", "tokens", "--limit", "20"]),
    ("search (a rare word)", ["search", "zyzzyva"]),
    ("tokens --by session --limit 20 (priced)", ["tokens", "--by", "session", "--limit", "20", "--price-input", "3", "--price-output", "15"]),
    ("report (HTML, priced)", ["report", "--out", os.path.join(args.work, "report.html"), "--price-input", "3", "--price-output", "15"]),
    ("tokens --by session (every session)", ["tokens", "--by", "session"]),
    ("sql count(*) from events", ["sql", "SELECT count(*) FROM events"]),
]

def timing(db, extra):
    runs = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        run([archive] + extra + ["--db", db] + ([] if extra[0] == "report" else ["--format", "json"]))
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)

def cell(value, name):
    if name == "import":
        return f"{value:.1f} s"
    if name in ("peak", "size"):
        return f"{value:,.0f} MB"
    if name in ("groups", "rollup rows"):
        return f"{value:,}"
    if name == "span":
        return value
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"

sizes = [int(s) for s in args.sizes.split(",")]
for spread in args.spreads.split(","):
    results = {}
    for n in sizes:
        db, figures = imported(spread, n)
        results[n] = dict(figures)
        results[n]["span"] = f"{figures['first'][:4]}–{figures['last'][:4]}"
        for name, extra in queries:
            results[n][name] = timing(db, extra)
    print(f"\nscale, {spread} corpus: whole process, median of {args.repeat}; sizes in sessions")
    print("| | " + " | ".join(f"{n:,}" for n in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    labels = {"import": "import (generated alongside)", "peak": "import peak memory", "size": "archive size",
              "span": "years", "groups": "project-and-index groups", "rollup rows": "quarter-hour rollup rows"}
    for name in ["span", "groups", "rollup rows", "import", "peak", "size"] + [q[0] for q in queries]:
        print(f"| {labels.get(name, name)} | " + " | ".join(cell(results[n][name], name) for n in sizes) + " |")
    if len(sizes) >= 2:
        a, b = sizes[-2], sizes[-1]
        worst = max((results[b][q[0]] / results[a][q[0]], q[0]) for q in queries[:11])
        print(f"{b:,} / {a:,} sessions: import {results[b]['import'] / results[a]['import']:.2f}x; "
              f"largest report ratio (tokens, tools, status, sessions, search) {worst[0]:.2f}x ({worst[1]})")
