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
