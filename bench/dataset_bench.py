#!/usr/bin/env python3
"""The dataset export at scale (release build), whole process with peak
memory: `archive export --dataset` of the scale benchmark's archive
(bench-out/scale-N.db, made here if missing) into a new folder, its size next
to the archive's; then 1,000 of its sessions changed (a run added, imported
through the archive's save path, as a sync would save them) and an
incremental export: time and files written; then 1 and 10,000 sessions
forgotten and the export that rewrites the files holding them (time, files
rewritten). Works on a copy of the archive.
usage: dataset_bench.py [--sessions 300000] [--changed 1000] [--forget 1,10000]"""
import argparse, json, os, shutil, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import root, run, release_binaries, scale_archive, timed as common_timed
ap = argparse.ArgumentParser()
ap.add_argument("--sessions", type=int, default=300000)
ap.add_argument("--changed", type=int, default=1000)
ap.add_argument("--forget", default="1,10000")
ap.add_argument("--work", default=os.path.join(root, "bench-out"))
args = ap.parse_args()
archive, simulator = release_binaries()
source = scale_archive(args.work, archive, simulator, args.sessions)
run([archive, "status", "--db", source])  # upgraded once, outside the timings
db = os.path.join(args.work, "dataset-bench.db")
dataset = os.path.join(args.work, "dataset-bench")
for path in (db, db + "-wal", db + "-shm", db + ".lock"):
    if os.path.exists(path):
        os.remove(path)
shutil.rmtree(dataset, ignore_errors=True)
shutil.copyfile(source, db)

def timed(cmd):
    seconds, peak, out = common_timed(cmd)
    return seconds, peak, json.loads(out)



def folder_size(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)

seconds, peak, first = timed([archive, "export", "--dataset", dataset, "--db", db, "--json"])
print(f"dataset export of {args.sessions:,} sessions, whole process:")
print(f"  full export          {seconds:7.2f} s  peak {peak:5.0f} MB  {first['files']:,} files, "
      f"{folder_size(dataset) / 1e6:.0f} MB (the archive: {os.path.getsize(db) / 1e6:.0f} MB); "
      f"{first['events']:,} events, {first['runs']:,} runs")

# 1,000 sessions changed: exported, a run added and last_updated_at moved on, imported back.
ids = subprocess.run([archive, "sql", "--db", db, "--format", "jsonl",
                      f"SELECT session_id FROM sessions ORDER BY random() LIMIT {args.changed}"],
                     capture_output=True, text=True, check=True).stdout.split("\n")
ids = [json.loads(line)["session_id"] for line in ids if line]
exported = subprocess.run([archive, "export", "--db", db] + sum((["--session", i] for i in ids), []),
                          capture_output=True, text=True, check=True).stdout.splitlines()
changes = os.path.join(args.work, "dataset-bench-changes.jsonl")
with open(changes, "w") as out:
    for n, line in enumerate(exported):
        session = json.loads(line)
        # As a day's syncs find them: after everything archived, on one day.
        session["last_updated_at"] = "2099-01-01T%02d:%02d:00Z" % (n // 60 % 24, n % 60)
        session["events"] = (session.get("events") or []) + [
            {"type": "user_input", "content": "one more question"},
            {"type": "stop", "usage": {"total_input_tokens": 100, "total_output_tokens": 10}}]
        out.write(json.dumps(session) + "\n")
run([archive, "import", "--db", db, changes])
seconds, peak, second = timed([archive, "export", "--dataset", dataset, "--db", db, "--json"])
print(f"  incremental export   {seconds:7.2f} s  peak {peak:5.0f} MB  after {args.changed:,} changed sessions: "
      f"{second['sessions']:,} sessions, {second['files']:,} files written ({second['bytes'] / 1e6:.1f} MB)")
seconds, peak, third = timed([archive, "export", "--dataset", dataset, "--db", db, "--json"])
print(f"  nothing changed      {seconds:7.2f} s  peak {peak:5.0f} MB  {third['files']} files")
for count in [int(n) for n in args.forget.split(",")]:
    ids = subprocess.run([archive, "sql", "--db", db, "--format", "jsonl",
                          f"SELECT session_id FROM sessions WHERE source_key = 1 ORDER BY random() LIMIT {count}"],
                         capture_output=True, text=True, check=True).stdout.split("\n")
    ids = [json.loads(line)["session_id"] for line in ids if line]
    forgotten = subprocess.run([archive, "forget", "--db", db, "--yes", "--json"] + ids, capture_output=True, text=True)
    if forgotten.returncode not in (0, 2):
        sys.exit(forgotten.stderr)
    seconds, peak, purged = timed([archive, "export", "--dataset", dataset, "--db", db, "--json"])
    print(f"  after forgetting {count:>6,}  {seconds:7.2f} s  peak {peak:5.0f} MB  {purged['rewritten']:,} earlier files rewritten, "
          f"{purged['deletions']:,} tombstones")
for path in (db, db + "-wal", db + "-shm", db + ".lock", changes):
    if os.path.exists(path):
        os.remove(path)
shutil.rmtree(dataset, ignore_errors=True)
