"""Serves a stdio MCP server on a stream socket, for `warden wrap --connect` tests.

Usage: socket_server.py (unix:PATH | tcp:HOST:PORT) [--drop-after-calls N] -- CMD [ARGS...]
Each connection gets its own CMD process; bytes are piped both ways unchanged, newline-delimited
JSON-RPC as the MCP stdio transport speaks it. With port 0 the chosen port is printed on stdout as
"listening PORT" (always printed, once the socket listens). --drop-after-calls N closes the
connection abruptly after the Nth tools/call request reaches the server, before it can answer.
"""
import asyncio
import os
import socket
import sys


async def pipe_to_process(reader, proc, drop_after):
    calls = 0
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            if drop_after is not None and b'"tools/call"' in line:
                calls += 1
                if calls >= drop_after:
                    return "drop"
            proc.stdin.write(line)
            await proc.stdin.drain()
    finally:
        if proc.stdin and not proc.stdin.is_closing():
            proc.stdin.close()
    return "eof"


async def pipe_from_process(proc, writer):
    try:
        while True:
            chunk = await proc.stdout.read(65536)
            if not chunk:
                break
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass


async def serve(command, drop_after, reader, writer):
    proc = await asyncio.create_subprocess_exec(*command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    out = asyncio.ensure_future(pipe_from_process(proc, writer))
    how = await pipe_to_process(reader, proc, drop_after)
    if how == "drop":
        # Abruptly: a reset, not an orderly close.
        sock = writer.get_extra_info("socket")
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            pass
        writer.transport.abort()
        proc.kill()
        return
    try:
        await asyncio.wait_for(out, timeout=10)
    except asyncio.TimeoutError:
        proc.kill()
    try:
        writer.close()
    except (ConnectionError, OSError):
        pass


async def main():
    args = sys.argv[1:]
    split = args.index("--")
    options, command = args[:split], args[split + 1:]
    target = options[0]
    drop_after = None
    if "--drop-after-calls" in options:
        drop_after = int(options[options.index("--drop-after-calls") + 1])
    handler = lambda r, w: serve(command, drop_after, r, w)
    if target.startswith("unix:"):
        path = target[5:]
        if os.path.exists(path):
            os.unlink(path)
        server = await asyncio.start_unix_server(handler, path=path)
        print("listening", path, flush=True)
    else:
        host, port = target[4:].rsplit(":", 1)
        server = await asyncio.start_server(handler, host=host.strip("[]"), port=int(port))
        print("listening", server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
