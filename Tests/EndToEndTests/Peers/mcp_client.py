"""Drives an MCP server with the official Python SDK client, for Warden's end-to-end tests.

Usage: mcp_client.py SPEC_JSON
SPEC: {"command": [...], "steps": [STEP, ...]}, or {"url": U, "headers": {...}, "steps": [...]} for a
      Streamable HTTP server
STEP: {"op": "list"} | {"op": "prompts"} | {"op": "sleep", "seconds": S}
      {"op": "wait_file", "path": P, "seconds": S}   # until P exists (a test's signal), at most S
      {"op": "read", "uri": U} | {"op": "prompt", "name": N}       # resources/read, prompts/get
      {"op": "call", "name": N, "arguments": {...}, "progress": bool, "timeout": seconds}
      {"op": "concurrent", "calls": [CALL, ...]}   # calls at once; results in request order
      spec "sampling_answer": text the client's model "answers" sampling requests with
Prints one JSON object: {"server": {...}, "results": [...]} with per-call timings in ms, plus
"sampled" (sampling requests the client received) and "logs" (log notifications it received).
A step whose request fails records {"error": {...}} in place of its result.
"""
import asyncio
import json
import os
import sys
import time
from datetime import timedelta

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import McpError
import mcp.types as types


async def do_call(session, step):
    progress = []

    async def on_progress(value, total, message):
        progress.append({"progress": value, "message": message})

    started = time.monotonic()
    try:
        result = await session.call_tool(
            step["name"],
            step.get("arguments", {}),
            read_timeout_seconds=timedelta(seconds=step.get("timeout", 60)),
            progress_callback=on_progress if step.get("progress") else None,
        )
        out = {"result": result.model_dump(mode="json", exclude_none=True, by_alias=True)}
    except McpError as error:
        out = {"error": {"code": error.error.code, "message": error.error.message}}
    out["ms"] = round((time.monotonic() - started) * 1000, 1)
    out["name"] = step["name"]
    if progress:
        out["progress"] = progress
    return out


async def main():
    spec = json.loads(sys.argv[1])
    report = {"results": [], "sampled": [], "logs": []}

    async def on_sampling(context, request):
        report["sampled"].append(request.model_dump(mode="json", exclude_none=True, by_alias=True))
        return types.CreateMessageResult(role="assistant", model="test-model",
                                         content=types.TextContent(type="text", text=spec.get("sampling_answer", "4")))

    async def on_log(params):
        report["logs"].append(params.model_dump(mode="json", exclude_none=True, by_alias=True))

    async def guarded(step, request):
        try:
            return await request()
        except McpError as error:
            return {"error": {"code": error.error.code, "message": error.error.message}}

    if "url" in spec and spec.get("sse"):
        from mcp.client.sse import sse_client
        transport = sse_client(spec["url"], headers=spec.get("headers"))
    elif "url" in spec:
        from mcp.client.streamable_http import streamablehttp_client
        transport = streamablehttp_client(spec["url"], headers=spec.get("headers"))
    else:
        command = spec["command"]
        transport = stdio_client(StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ)))
    async with transport as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write, sampling_callback=on_sampling, logging_callback=on_log) as session:
            init = await session.initialize()
            report["server"] = init.serverInfo.model_dump(mode="json", exclude_none=True)
            report["protocolVersion"] = init.protocolVersion
            for step in spec["steps"]:
                if step["op"] == "list":
                    async def listed():
                        tools = await session.list_tools()
                        return {"tools": [t.model_dump(mode="json", exclude_none=True, by_alias=True) for t in tools.tools]}
                    report["results"].append(await guarded(step, listed))
                elif step["op"] == "read":
                    async def read_resource():
                        r = await session.read_resource(step["uri"])
                        return {"read": r.model_dump(mode="json", exclude_none=True, by_alias=True)}
                    report["results"].append(await guarded(step, read_resource))
                elif step["op"] == "prompt":
                    async def get_prompt():
                        r = await session.get_prompt(step["name"])
                        return {"prompt": r.model_dump(mode="json", exclude_none=True, by_alias=True)}
                    report["results"].append(await guarded(step, get_prompt))
                elif step["op"] == "wait_file":
                    deadline = time.monotonic() + step.get("seconds", 60)
                    while not os.path.exists(step["path"]) and time.monotonic() < deadline:
                        await asyncio.sleep(0.05)
                    report["results"].append({"waited": os.path.exists(step["path"])})
                elif step["op"] == "sleep":
                    await asyncio.sleep(step["seconds"])
                    report["results"].append({"slept": step["seconds"]})
                elif step["op"] == "prompts":
                    prompts = await session.list_prompts()
                    report["results"].append(
                        {"prompts": [p.model_dump(mode="json", exclude_none=True, by_alias=True) for p in prompts.prompts]})
                elif step["op"] == "call":
                    report["results"].append(await do_call(session, step))
                elif step["op"] == "concurrent":
                    report["results"].append(
                        {"concurrent": await asyncio.gather(*(do_call(session, c) for c in step["calls"]))})
    print(json.dumps(report, sort_keys=True))


asyncio.run(main())
