"""What the benchmarks share: a release build, its binaries, and the
simulator's deterministic corpora, cached in the work folder."""
import os, subprocess

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)

def release_binaries():
    """Builds in release mode; returns the paths of archive and chat-simulator."""
    run(["swift", "build", "-c", "release"], cwd=root)
    bindir = run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=root).stdout.strip()
    return os.path.join(bindir, "archive"), os.path.join(bindir, "chat-simulator")

def corpus(work, simulator, n):
    """The JSONL of n generated sessions (seed 2026), made once."""
    path = os.path.join(work, f"corpus-v2-{n}.jsonl")
    if not os.path.exists(path):
        run([simulator, "--corpus", path, "--sessions", str(n), "--seed", "2026"])
    return path

def remove_archive(db, extra=()):
    """Removes an archive file and its -wal, -shm and .lock (and any extra suffixes)."""
    for suffix in ("", "-wal", "-shm", ".lock") + tuple(extra):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)

def timed(cmd):
    """Runs cmd under /usr/bin/time -v: (seconds, peak memory in MB, stdout); exits on failure."""
    import re, sys, time
    start = time.perf_counter()
    result = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(result.stderr)
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr).group(1)) / 1024
    return seconds, peak, result.stdout

def scale_archive(work, archive, simulator, n):
    """bench-out/scale-N.db: the scale benchmark's archive of n sessions,
    imported here (and its WAL folded in) when it is missing."""
    db = os.path.join(work, f"scale-{n}.db")
    if not os.path.exists(db):
        run([archive, "import", "--db", db, corpus(work, simulator, n)])
        run(["sqlite3", db, "PRAGMA wal_checkpoint(TRUNCATE)"])
    return db

# spread: (projects, seconds apart within a project); no project names: imported without --project
SPREADS = {
    "default": ([None], "60-3000"),
    "dense": ([f"team-{i}" for i in range(1, 4)], "0-180"),
    "sparse": ([f"project-{i:02d}" for i in range(1, 16)], "900-81000"),
}

def spread_archive(work, archive, simulator, spread, n, fresh=False):
    """bench-out/scale-SPREAD-N.db, imported from the generated corpus (and
    its figures beside it, .json) when missing or `fresh`; reused otherwise."""
    import json, re, sys, time
    db = os.path.join(work, f"scale-{spread}-{n}.db")
    figures = db + ".json"
    if not fresh and os.path.exists(db) and os.path.exists(figures):
        run([archive, "status", "--db", db])  # upgrades an archive of an earlier schema, once
        with open(figures) as f:
            return db, json.load(f)
    remove_archive(db, extra=(".json",))
    projects, apart = SPREADS[spread]
    seconds, peak = 0.0, 0.0
    for index, project in enumerate(projects):
        count = n // len(projects) + (1 if index < n % len(projects) else 0)
        generator = subprocess.Popen([simulator, "--corpus", "-", "--sessions", str(count), "--seed", str(2026 + index),
                                      "--seconds-apart", apart], stdout=subprocess.PIPE)
        command = ["/usr/bin/time", "-v", archive, "import", "--db", db] + (["--project", project] if project else []) + ["-"]
        start = time.perf_counter()
        result = subprocess.run(command, stdin=generator.stdout, capture_output=True, text=True)
        seconds += time.perf_counter() - start
        generator.stdout.close()
        if generator.wait() != 0 or result.returncode != 0:
            sys.exit(result.stderr)
        peak = max(peak, int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr).group(1)) / 1024)
    run(["sqlite3", db, "PRAGMA wal_checkpoint(TRUNCATE)"])
    shape = run(["sqlite3", db, "SELECT min(last_updated_at), max(last_updated_at), (SELECT count(*) FROM rollup_groups), "
                 "(SELECT count(*) FROM usage_rollup) FROM sessions"]).stdout.strip().split("|")
    result = {"import": seconds, "peak": peak, "size": os.path.getsize(db) / 1e6, "first": shape[0][:10], "last": shape[1][:10],
              "groups": int(shape[2]), "rollup rows": int(shape[3])}
    with open(figures, "w") as f:
        json.dump(result, f)
    return db, result
