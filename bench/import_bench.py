#!/usr/bin/env python3
"""The import benchmark (release build). Generates the corpus once, then times
in the same run: `archive import` into a new archive, the Python peer
(../shared/peers/python_import.py), and the C floor (bench/floor.c); a re-import
of the unchanged corpus; archive size against the JSONL; peak memory at two
corpus sizes; and the query commands on the archive. Medians of --repeat runs.
usage: import_bench.py [--sessions 20000] [--small 5000] [--repeat 3] [--query-sessions 50000]"""
import argparse, os, re, shutil, statistics, struct, subprocess, sys, tempfile, time, json

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import root, run, release_binaries, corpus as common_corpus, remove_archive
ap = argparse.ArgumentParser()
ap.add_argument("--sessions", type=int, default=20000)
ap.add_argument("--small", type=int, default=5000)
ap.add_argument("--repeat", type=int, default=3)
ap.add_argument("--query-sessions", type=int, default=0, help="also time the queries on an archive of this many sessions")
ap.add_argument("--peer", default=os.path.join(root, "..", "shared", "peers", "python_import.py"))
ap.add_argument("--work", default=os.path.join(root, "bench-out"))
ap.add_argument("--baseline", help="another archive binary, timed in the same rounds")
ap.add_argument("--profile", action="store_true", help="also one import with ARCHIVE_PROFILE=1: time by phase")
args = ap.parse_args()
os.makedirs(args.work, exist_ok=True)

archive, simulator = release_binaries()
floor = os.path.join(args.work, "floor")
run(["cc", "-O2", "-o", floor, os.path.join(root, "bench", "floor.c"), "-lsqlite3"])

def corpus(n):
    return common_corpus(args.work, simulator, n)

def rows_file(jsonl):
    """The floor's input: the event rows, extracted untimed."""
    path = jsonl + ".rows"
    if os.path.exists(path):
        return path
    with open(jsonl, encoding="utf-8") as src, open(path, "wb") as out:
        def field(value):
            if value is None:
                out.write(struct.pack("<I", 0xFFFFFFFF))
            else:
                data = str(value).encode("utf-8")
                out.write(struct.pack("<I", len(data)) + data)
        for line in src:
            s = json.loads(line)
            turn = -1
            for seq, e in enumerate(s["events"]):
                if e.get("type") == "user_input":
                    turn += 1
                rest = {k: v for k, v in e.items() if k not in ("type", "content", "call_id", "name")}
                for v in (s["session_id"], seq, max(turn, 0), e.get("type"), e.get("content"), e.get("call_id"), e.get("name"),
                          json.dumps(rest, ensure_ascii=False, separators=(",", ":")) if rest else None):
                    field(v)
    return path

def timed(cmd, db=None):
    if db:
        remove_archive(db)
    start = time.perf_counter()
    result = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{result.stderr}")
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr).group(1))
    return seconds, peak_kb

def median_run(cmd, db=None, repeat=None):
    runs = [timed(cmd, db) for _ in range(repeat or args.repeat)]
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)

big = corpus(args.sessions)
events = sum(len(json.loads(l)["events"]) for l in open(big, encoding="utf-8"))
jsonl_bytes = os.path.getsize(big)
db = os.path.join(args.work, "archive.db")
peer_db = os.path.join(args.work, "peer.db")
floor_db = os.path.join(args.work, "floor.db")
rows = rows_file(big)

# Interleaved rounds (archive, peer, floor, archive, ...): the machines are
# noisy, and a busy minute then weighs on all three alike.
rounds = {"archive": [], "peer": [], "floor": [], "baseline": []}
baseline_db = os.path.join(args.work, "baseline.db")
for _ in range(args.repeat):
    rounds["archive"].append(timed([archive, "import", "--db", db, big], db))
    if args.baseline:
        rounds["baseline"].append(timed([args.baseline, "import", "--db", baseline_db, big], baseline_db))
    rounds["peer"].append(timed([sys.executable, args.peer, big, peer_db], peer_db))
    rounds["floor"].append(timed([floor, rows, floor_db], floor_db))
def summary(runs):
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)
archive_s, archive_kb = summary(rounds["archive"])
peer_s, peer_kb = summary(rounds["peer"])
floor_s, floor_kb = summary(rounds["floor"])
ratios = [a[0] / p[0] for a, p in zip(rounds["archive"], rounds["peer"])]
reimport_s, _ = median_run([archive, "import", "--db", db, big])
run(["sqlite3", db, "PRAGMA wal_checkpoint(TRUNCATE)"])
archive_bytes = os.path.getsize(db)

small = corpus(args.small)
small_db = os.path.join(args.work, "small.db")
small_s, small_kb = median_run([archive, "import", "--db", small_db, small], small_db, repeat=1)

print(f"corpus: {args.sessions} sessions, {events} events, {jsonl_bytes / 1e6:.1f} MB of JSONL; median of {args.repeat}")
print(f"  archive import   {archive_s:6.2f} s  {events / archive_s:9.0f} events/s  peak {archive_kb / 1024:5.0f} MB")
print(f"  python peer      {peer_s:6.2f} s  {events / peer_s:9.0f} events/s  peak {peer_kb / 1024:5.0f} MB")
print(f"  C floor          {floor_s:6.2f} s  {events / floor_s:9.0f} events/s  peak {floor_kb / 1024:5.0f} MB")
print(f"  archive / peer   {archive_s / peer_s:.2f}x      archive / floor {archive_s / floor_s:.2f}x")
print(f"  archive / peer, round by round: {' '.join(f'{r:.2f}' for r in ratios)}")
print(f"  re-import (unchanged) {reimport_s:.2f} s = {reimport_s / archive_s:.2f}x of the first import")
print(f"  archive size     {archive_bytes / 1e6:.1f} MB = {archive_bytes / jsonl_bytes:.2f}x the JSONL (search index included)")
print(f"  peak memory      {small_kb / 1024:.0f} MB at {args.small} sessions, {archive_kb / 1024:.0f} MB at {args.sessions}")
if args.baseline:
    baseline_s, baseline_kb = summary(rounds["baseline"])
    run(["sqlite3", baseline_db, "PRAGMA wal_checkpoint(TRUNCATE)"])
    by_round = [a[0] / b[0] for a, b in zip(rounds["archive"], rounds["baseline"])]
    print(f"  baseline import  {baseline_s:6.2f} s  peak {baseline_kb / 1024:5.0f} MB  size {os.path.getsize(baseline_db) / 1e6:.1f} MB ({args.baseline})")
    print(f"  archive / baseline {archive_s / baseline_s:.3f}x (medians); round by round: {' '.join(f'{r:.3f}' for r in by_round)}")
if args.profile:
    remove_archive(db)
    profiled = subprocess.run([archive, "import", "--db", db, big], capture_output=True, text=True,
                              env={**os.environ, "ARCHIVE_PROFILE": "1"})
    print("profile of one import (ARCHIVE_PROFILE=1):")
    print("\n".join("  " + line for line in profiled.stderr.splitlines() if line.strip()))

def query_times(path, label):
    queries = [
        ("tokens --by day", ["tokens", "--by", "day", "--tz", "Europe/Berlin"]),
        ("search \"renewal clause\"", ["search", "renewal clause"]),
        ("sessions --limit 50", ["sessions", "--limit", "50"]),
    ]
    print(f"queries on {label} (whole process, median of 5):")
    for name, extra in queries:
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            run([archive] + extra + ["--db", path, "--format", "json"])
            runs.append(time.perf_counter() - start)
        print(f"  {name:28s} {statistics.median(runs) * 1000:7.1f} ms")

query_times(db, f"the {args.sessions}-session archive")
if args.query_sessions:
    qdb = os.path.join(args.work, f"query-{args.query_sessions}.db")
    if not os.path.exists(qdb):
        run([archive, "import", "--db", qdb, corpus(args.query_sessions)])
    query_times(qdb, f"a {args.query_sessions}-session archive")
