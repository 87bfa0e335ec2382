#!/usr/bin/env python3
"""Backups of a large archive (release build), on the scale benchmark's
archive (bench-out/scale-N.db): `archive backup` (SQLite's backup API in one
step) against `VACUUM INTO` by sqlite3, each timed with its peak memory; then
a backup taken while a writer commits every 50 ms, with the longest of the
writer's commits during it against its longest alone (did the backup make it
wait?); then `archive restore` of the backup.
usage: backup_bench.py [--sessions 300000]"""
import argparse, os, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import root, run, release_binaries, scale_archive, timed as common_timed, remove_archive
ap = argparse.ArgumentParser()
ap.add_argument("--sessions", type=int, default=300000)
ap.add_argument("--work", default=os.path.join(root, "bench-out"))
args = ap.parse_args()
archive, simulator = release_binaries()
db = scale_archive(args.work, archive, simulator, args.sessions)
out = os.path.join(args.work, "backup-bench")
os.makedirs(out, exist_ok=True)

def timed(cmd, clear=True):
    for name in os.listdir(out) if clear else []:
        os.remove(os.path.join(out, name))
    seconds, peak, _ = common_timed(cmd)
    return seconds, peak

size = os.path.getsize(db) / 1e6
seconds, peak = timed([archive, "backup", os.path.join(out, "copy.db"), "--db", db])
print(f"backup of {args.sessions} sessions ({size:.0f} MB), whole process:")
print(f"  archive backup (backup API, checked)  {seconds:6.2f} s  peak {peak:5.0f} MB")
vacuum_seconds, vacuum_peak = timed(["sqlite3", db, f"VACUUM INTO '{os.path.join(out, 'vacuumed.db')}'"])
print(f"  sqlite3 VACUUM INTO (unchecked)       {vacuum_seconds:6.2f} s  peak {vacuum_peak:5.0f} MB")

# A writer committing every 50 ms on the archive, alone and then during a backup.
import sqlite3
def writer(stop, waits):
    connection = sqlite3.connect(db, timeout=30, isolation_level=None)
    connection.execute("CREATE TABLE IF NOT EXISTS temp.t(x)")
    while not stop.is_set():
        start = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT OR REPLACE INTO archive_settings(name, value) VALUES ('bench_tick', ?)", (str(time.time()),))
        connection.execute("COMMIT")
        waits.append(time.perf_counter() - start)
        time.sleep(0.05)
    connection.execute("DELETE FROM archive_settings WHERE name = 'bench_tick'")
    connection.close()

for label, during in [("alone", None), ("during a backup", [archive, "backup", os.path.join(out, "copy.db"), "--db", db])]:
    stop, waits = threading.Event(), []
    thread = threading.Thread(target=writer, args=(stop, waits))
    thread.start()
    if during:
        timed(during)
    else:
        time.sleep(5)
    stop.set()
    thread.join()
    print(f"  a writer's longest commit {label:16} {1000 * max(waits):7.1f} ms over {len(waits)} commits")

restore_db = os.path.join(args.work, "restore-target.db")
remove_archive(restore_db)
run([archive, "backup", restore_db, "--db", db])
for name in os.listdir(args.work):
    if name.startswith("restore-target.db.before-restore"):
        os.remove(os.path.join(args.work, name))
seconds, peak = timed([archive, "restore", os.path.join(out, "copy.db"), "--db", restore_db], clear=False)
print(f"  archive restore (checked, previous kept) {seconds:6.2f} s  peak {peak:5.0f} MB")
