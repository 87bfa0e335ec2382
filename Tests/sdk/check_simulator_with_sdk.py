#!/usr/bin/env python3
"""Proves the simulator faithful: the official SDK (llama-cloud 2.19.0) lists and
retrieves every session from it with strict validation, and what it decodes
matches the simulator's raw JSON. usage: check_simulator_with_sdk.py SIMULATOR_BINARY"""
import json, subprocess, sys, urllib.request
from llama_cloud import LlamaCloud
from llama_cloud.types.chat_retrieve_response import ChatRetrieveResponse

binary = sys.argv[1]
proc = subprocess.Popen([binary, "--sessions", "40", "--projects", "proj-a,proj-b", "--key", "sdk-key"],
                        stdout=subprocess.PIPE, text=True)
try:
    base = proc.stdout.readline().strip()
    client = LlamaCloud(api_key="sdk-key", base_url=base, max_retries=0)
    seen = events = 0
    for project in ["proj-a", "proj-b"]:
        for summary in client.chat.list(project_id=project, page_size=7):
            full = client.chat.retrieve(summary.session_id, project_id=project)
            req = urllib.request.Request(f"{base}/api/v1/chat/{summary.session_id}?project_id={project}",
                                         headers={"Authorization": "Bearer sdk-key"})
            raw = json.loads(urllib.request.urlopen(req).read())
            # Full validation of the known shapes (the SDK itself decodes leniently,
            # so unknown and untyped events, which the API may send, are left out here).
            known = {"user_input", "thinking_delta", "thinking", "text_delta", "text", "tool_call", "tool_result", "stop"}
            ChatRetrieveResponse.model_validate({**raw, "events": [e for e in raw["events"] if e.get("type") in known]})
            assert full.session_id == raw["session_id"] == summary.session_id
            assert len(full.events) == len(raw["events"])
            for decoded, original in zip(full.events, raw["events"]):
                dumped = decoded.model_dump(mode="json", exclude_unset=True)
                for key, value in dumped.items():
                    assert original.get(key) == value, (summary.session_id, key, value, original.get(key))
            seen += 1
            events += len(raw["events"])
    assert seen == 80, seen
    try:
        LlamaCloud(api_key="wrong", base_url=base, max_retries=0).chat.retrieve("x")
        raise SystemExit("a wrong key was accepted")
    except Exception as error:
        assert "401" in str(error) or "Authentication" in type(error).__name__, error
    print(f"sdk check: {seen} sessions, {events} events listed and retrieved without a validation error")
finally:
    proc.kill()
