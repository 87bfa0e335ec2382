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
ap.add_argument("--two-sources", action="store_true",
                help="also: a second simulator as a second region, both synced in one run from [[sources]], against one run each")
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
    if args.two_sources:
        # A second region of the same size and latency; its own key and seed (ids overlap).
        other = subprocess.Popen([simulator, "--sessions", str(args.sessions), "--projects", project, "--key", "eu-key",
                                  "--latency-ms", str(args.latency_ms), "--seed", "7"], stdout=subprocess.PIPE, text=True)
        try:
            other_base = other.stdout.readline().strip()
            home = os.path.join(work, "config")
            os.makedirs(os.path.join(home, "llamacloud-archive"), exist_ok=True)
            with open(os.path.join(home, "llamacloud-archive", "config.toml"), "w") as f:
                f.write(f'[[sources]]\nname = "na"\nbase_url = "{base}"\napi_key_env = "NA_KEY"\nprojects = ["{project}"]\n\n'
                        f'[[sources]]\nname = "eu"\nbase_url = "{other_base}"\napi_key_env = "EU_KEY"\nprojects = ["{project}"]\n')
            both_env = dict(os.environ, XDG_CONFIG_HOME=home, NA_KEY=key, EU_KEY="eu-key")
            together, apart = [], []
            for i in range(args.repeat):
                db = os.path.join(work, f"two-{i}.db")
                seconds, out = timed([archive, "sync", "--db", db, "--json", "--concurrency", "8"], env=both_env)
                assert all(s["new"] == args.sessions for s in json.loads(out)["sources"]), out
                together.append(seconds)
                db = os.path.join(work, f"apart-{i}.db")
                first, _ = timed([archive, "sync", "--db", db, "--json", "--concurrency", "8", "--source", "na"], env=both_env)
                second, _ = timed([archive, "sync", "--db", db, "--json", "--concurrency", "8", "--source", "eu"], env=both_env)
                apart.append(first + second)
            print(f"  two sources of {args.sessions} sessions, 8 in flight in all: one run {statistics.median(together):.2f} s, "
                  f"one run each {statistics.median(apart):.2f} s")
        finally:
            other.kill()
finally:
    sim.kill()
