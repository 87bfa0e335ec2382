#!/usr/bin/env python3
"""`archive mcp` on a large archive (release build): start-up to the first
answer, and the latency of search and tokens calls, median of --repeat, as
a client sees them over the pipes. The archive is the scale benchmark's
(bench-out/scale-N.db), imported here when it is missing.
usage: mcp_bench.py [--sessions 300000] [--repeat 5]"""
import argparse, json, os, statistics, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import root, run, release_binaries, scale_archive
ap = argparse.ArgumentParser()
ap.add_argument("--sessions", type=int, default=300000)
ap.add_argument("--repeat", type=int, default=5)
ap.add_argument("--work", default=os.path.join(root, "bench-out"))
args = ap.parse_args()
os.makedirs(args.work, exist_ok=True)
archive, simulator = release_binaries()

db = scale_archive(args.work, archive, simulator, args.sessions)

class Server:
    def __init__(self):
        self.started = time.perf_counter()
        self.process = subprocess.Popen([archive, "mcp", "--db", db], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.next = 0

    def ask(self, method, params):
        self.next += 1
        self.process.stdin.write(json.dumps({"jsonrpc": "2.0", "id": self.next, "method": method, "params": params}) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        if "error" in answer or answer["result"].get("isError"):
            sys.exit(f"{method} {params}: {answer}")
        return answer["result"]

    def timed(self, name, arguments):
        runs = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            self.ask("tools/call", {"name": name, "arguments": arguments})
            runs.append(1000 * (time.perf_counter() - start))
        return statistics.median(runs)

starts = []
for _ in range(args.repeat):
    server = Server()
    server.ask("initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}})
    server.ask("tools/call", {"name": "list_sessions", "arguments": {"limit": 1}})
    starts.append(1000 * (time.perf_counter() - server.started))
    server.process.stdin.close()
    server.process.wait()
server = Server()
server.ask("initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}})
sessions = int(run([archive, "sql", "SELECT count(*) FROM sessions", "--db", db, "--format", "csv"]).stdout.split()[1])
print(f"archive mcp on {sessions} sessions, median of {args.repeat}, as a client sees it over the pipes:")
print(f"  start-up to the first tool answer   {statistics.median(starts):7.1f} ms")
for name, arguments in [("search", {"query": "renewal clause"}), ("search", {"query": "zyzzyva"}),
                        ("tokens", {"by": "day", "tz": "UTC"}), ("tokens", {"by": "project,month", "tz": "Europe/Berlin"}),
                        ("list_sessions", {"order": "tokens", "limit": 20}), ("tools_report", {})]:
    print(f"  {name} {json.dumps(arguments):45} {server.timed(name, arguments):7.1f} ms")
server.process.stdin.close()
server.process.wait()
