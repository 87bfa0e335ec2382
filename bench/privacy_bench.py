#!/usr/bin/env python3
"""Forgetting and pruning at scale (release build), whole process, with peak
memory: `archive forget` of one session and of 10,000 sessions in a
100,000-session archive, and `archive prune` of the oldest year's content in
the 300,000-session one (bench-out/scale-300000.db, made by `scripts/bench
scale` or here). Each runs on a fresh copy of the archive, so every figure
includes the search index's merge and the WAL's truncation.
usage: privacy_bench.py [--sessions 100000] [--large 300000]"""
import argparse, os, shutil, sqlite3, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import root, run, release_binaries, scale_archive, timed as common_timed, remove_archive
ap = argparse.ArgumentParser()
ap.add_argument("--sessions", type=int, default=100000)
ap.add_argument("--large", type=int, default=300000)
ap.add_argument("--work", default=os.path.join(root, "bench-out"))
args = ap.parse_args()
archive, simulator = release_binaries()

def archive_of(n):
    return scale_archive(args.work, archive, simulator, n)

def fresh_copy(db):
    copy = os.path.join(args.work, "privacy-copy.db")
    remove_archive(copy)
    shutil.copyfile(db, copy)
    # A copy written by an earlier version is rewritten whole by its first removal; measure the removal alone.
    connection = sqlite3.connect(copy)
    connection.execute("DELETE FROM archive_settings WHERE name = 'content_may_linger'")
    connection.commit()
    connection.close()
    return copy

def timed(cmd):
    seconds, peak, out = common_timed(cmd)
    return seconds, peak, out.strip().splitlines()[-1]

def nth_oldest_time(db, n):
    connection = sqlite3.connect(db)
    value = connection.execute("SELECT last_updated_at FROM sessions ORDER BY last_updated_at LIMIT 1 OFFSET ?", (n - 1,)).fetchone()[0]
    first = connection.execute("SELECT min(last_updated_at) FROM sessions").fetchone()[0]
    connection.close()
    return value, first

db = archive_of(args.sessions)
# Upgrade the cached archive once, outside the timings.
run([archive, "status", "--db", db])
size = os.path.getsize(db) / 1e6
print(f"forget and prune, whole process, on a fresh copy each ({args.sessions:,} sessions, {size:.0f} MB):")
connection = sqlite3.connect(db)
one = connection.execute("SELECT session_id FROM sessions ORDER BY session_key LIMIT 1 OFFSET 5000").fetchone()[0]
connection.close()
seconds, peak, line = timed([archive, "forget", one, "--db", fresh_copy(db)])
print(f"  forget 1 session          {seconds:6.2f} s  peak {peak:5.0f} MB   {line}")
cut, _ = nth_oldest_time(db, 10001)  # --until a time is exclusive: the 10,000 before it
seconds, peak, line = timed([archive, "forget", "--until", cut, "--db", fresh_copy(db)])
print(f"  forget 10,000 sessions    {seconds:6.2f} s  peak {peak:5.0f} MB   {line}")
seconds, peak, line = timed([archive, "forget", "--until", cut, "--keep-usage", "--db", fresh_copy(db)])
print(f"  forget 10,000, keep usage {seconds:6.2f} s  peak {peak:5.0f} MB   {line}")

large = archive_of(args.large)
run([archive, "status", "--db", large])
_, first = nth_oldest_time(large, 1)
year_end = f"{int(first[:4]) + 1}{first[4:10]}"
size = os.path.getsize(large) / 1e6
seconds, peak, line = timed([archive, "prune", "--content-older-than", year_end, "--db", fresh_copy(large)])
print(f"  prune the oldest year of {args.large:,} sessions ({size:.0f} MB, before {year_end}): {seconds:.2f} s, peak {peak:.0f} MB")
print(f"    {line}")
os.remove(os.path.join(args.work, "privacy-copy.db"))
