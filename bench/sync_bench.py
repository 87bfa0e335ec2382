#!/usr/bin/env python3
"""Sync benchmark (release build): a first sync of N sessions over a simulator
with L ms of latency per request, against the official SDK used as a cron
script would (../shared/peers/sdk_sync.py), in the same run; then the no-op
re-sync. Each timing is the median of R runs.
Also against the SDK's async client with the same concurrency (bench/sdk_async_sync.py)
and the latency floor: (list pages + retrieves / concurrency) x latency.
usage: sync_bench.py [--sessions 300] [--latency-ms 40] [--repeat 3] [--concurrency 8 16]"""
import argparse, json, math, os, statistics, subprocess, sys, tempfile, time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ap = argparse.ArgumentParser()
ap.add_argument("--sessions", type=int, default=300)
ap.add_argument("--latency-ms", type=int, default=40)
ap.add_argument("--repeat", type=int, default=3)
ap.add_argument("--concurrency", type=int, nargs="+", default=[8, 16])
ap.add_argument("--peer", default=os.path.join(root, "..", "shared", "peers", "sdk_sync.py"))
ap.add_argument("--async-peer", default=os.path.join(root, "bench", "sdk_async_sync.py"))
ap.add_argument("--baseline", help="another archive binary (an earlier build, say) timed in the same runs, interleaved")
args = ap.parse_args()

subprocess.run(["swift", "build", "-c", "release", "--product", "archive"], cwd=root, check=True, stdout=subprocess.DEVNULL)
subprocess.run(["swift", "build", "-c", "release", "--product", "chat-simulator"], cwd=root, check=True, stdout=subprocess.DEVNULL)
bindir = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=root, check=True,
                        capture_output=True, text=True).stdout.strip()
archive, simulator = os.path.join(bindir, "archive"), os.path.join(bindir, "chat-simulator")
key, project = "bench-key", "bench"
sim = subprocess.Popen([simulator, "--sessions", str(args.sessions), "--projects", project, "--key", key,
                        "--latency-ms", str(args.latency_ms)], stdout=subprocess.PIPE, text=True)
base = sim.stdout.readline().strip()
env = dict(os.environ, LLAMA_CLOUD_API_KEY=key, LLAMA_CLOUD_BASE_URL=base)
work = tempfile.mkdtemp(prefix="sync-bench-")

def timed(cmd, **kw):
    start = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)
    return time.perf_counter() - start, out.stdout

try:
    peer_times = []
    for i in range(args.repeat):
        seconds, out = timed([sys.executable, args.peer, base, key, os.path.join(work, f"peer{i}.db"), project])
        assert out.split()[0] == str(args.sessions), out
        peer_times.append(seconds)
    peer = statistics.median(peer_times)
    print(f"{args.sessions} sessions, {args.latency_ms} ms latency per request, median of {args.repeat}")
    print(f"  peer (official SDK, sequential): {peer:.2f} s")
    for concurrency in args.concurrency:
        async_times = []
        for i in range(args.repeat):
            seconds, out = timed([sys.executable, args.async_peer, base, key, os.path.join(work, f"async{concurrency}-{i}.db"),
                                  str(concurrency), project])
            assert out.split()[0] == str(args.sessions), out
            async_times.append(seconds)
        async_peer = statistics.median(async_times)
        pages = math.ceil(args.sessions / 100)
        floor = (pages + math.ceil(args.sessions / concurrency)) * args.latency_ms / 1000
        print(f"  peer (official SDK, async, {concurrency} in flight): {async_peer:.2f} s; latency floor {floor:.2f} s")
        binaries = [("archive", archive)] + ([("baseline", args.baseline)] if args.baseline else [])
        firsts, noops, requests = {name: [] for name, _ in binaries}, {name: [] for name, _ in binaries}, None
        for i in range(args.repeat):
            for name, binary in binaries:
                db = os.path.join(work, f"{name}-{concurrency}-{i}.db")
                cmd = [binary, "sync", "--db", db, "--project-id", project, "--json", "--concurrency", str(concurrency)]
                seconds, out = timed(cmd, env=env)
                summary = json.loads(out)
                assert summary["new"] == args.sessions, summary
                firsts[name].append(seconds)
                seconds, out = timed(cmd, env=env)
                summary = json.loads(out)
                assert summary["retrieved"] == 0, summary
                noops[name].append(seconds)
                requests = summary["requests"]
        for name, _ in binaries:
            first = statistics.median(firsts[name])
            print(f"  {name} sync --concurrency {concurrency}: first {first:.2f} s = "
                  + (f"{first / floor:.2f}x the floor, " if floor > 0 else "")
                  + f"{first / async_peer:.2f}x the async SDK, {first / peer:.3f}x the sequential SDK; "
                  f"no-op re-sync {statistics.median(noops[name]):.2f} s with {requests} requests (0 retrieves)")
finally:
    sim.kill()
