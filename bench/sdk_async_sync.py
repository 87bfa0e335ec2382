#!/usr/bin/env python3
"""The stronger peer for sync: the official SDK's async client (AsyncLlamaCloud)
as a careful user would write it, with the same number of retrieves in flight
as the archive (a semaphore), storing each payload in SQLite as the
sequential peer (../shared/peers/sdk_sync.py) does.
usage: sdk_async_sync.py BASE_URL KEY DB CONCURRENCY PROJECT..."""
import asyncio, sqlite3, sys
from llama_cloud import AsyncLlamaCloud

base, key, dbp, concurrency, projects = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:]


async def main():
    client = AsyncLlamaCloud(api_key=key, base_url=base)
    db = sqlite3.connect(dbp)
    db.execute("CREATE TABLE IF NOT EXISTS sessions(session_id TEXT PRIMARY KEY, last_updated_at TEXT, raw TEXT)")
    gate = asyncio.Semaphore(concurrency)
    count = 0

    async def fetch(summary, project):
        nonlocal count
        async with gate:
            full = await client.chat.retrieve(summary.session_id, project_id=project)
        with db:
            db.execute("INSERT OR REPLACE INTO sessions VALUES(?,?,?)",
                       (summary.session_id, summary.last_updated_at, full.to_json()))
        count += 1

    tasks = []
    for project in projects:
        async for summary in client.chat.list(project_id=project, page_size=100):
            row = db.execute("SELECT last_updated_at FROM sessions WHERE session_id=?", (summary.session_id,)).fetchone()
            if row and row[0] == summary.last_updated_at:
                continue
            tasks.append(asyncio.create_task(fetch(summary, project)))
    await asyncio.gather(*tasks)
    await client.close()
    print(count, "retrieved")


asyncio.run(main())
