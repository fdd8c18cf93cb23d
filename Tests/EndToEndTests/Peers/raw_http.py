"""What the hand-written HTTP fixtures (hostile_http.py, hostile_sse.py) share: reading a request,
writing an answer, and serving on loopback. Not an HTTP server: just enough to misbehave on purpose."""
import asyncio


async def respond(writer, status, headers, body=b""):
    head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    writer.write(head.encode() + body)
    await writer.drain()


async def read_request(reader):
    """(method, target, lower-case headers, body), or None at the connection's end."""
    request_line = await reader.readline()
    if not request_line:
        return None
    parts = request_line.split(b" ")
    headers = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        k, _, v = line.decode().partition(":")
        headers[k.strip().lower()] = v.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return parts[0].decode(), parts[1].decode() if len(parts) > 1 else "/", headers, body


def serve(handle, port, hosts=("127.0.0.1",)):
    """Serves `handle(reader, writer)` on `port`; a broken connection ends only its handler.
    Prints "listening PORT" once connections are accepted."""
    async def guarded(reader, writer):
        try:
            await handle(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            try:
                writer.close()
            except Exception:
                pass

    async def main():
        server = await asyncio.start_server(guarded, list(hosts), port)
        print("listening", port, flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(main())
