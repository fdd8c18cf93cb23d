"""Sends raw HTTP requests to an MCP endpoint, for the gateway's door tests (what a client that
is not an SDK, or a web page, would send).

Usage: http_probe.py SPEC_JSON
SPEC: {"url": U, "requests": [{"method": M, "headers": {...}, "body": TEXT_OR_JSON, "repeat": N,
       "session": true, "read": BYTES}]}
  "session": true sends the Mcp-Session-Id the last answer carried; "repeat" makes the body N
  copies of a string (for oversized messages); "events": N reads an event stream until N events
  have come, then closes it; "hold": true keeps the answer open and unread until the probe ends;
  {"sleep": SECONDS} as a request waits.
Prints one JSON object: {"answers": [{"status": S, "headers": {...lower-case...}, "body": TEXT}]}.
"""
import http.client
import json
import sys
from urllib.parse import urlsplit

spec = json.loads(sys.argv[1])
url = urlsplit(spec["url"])
answers, session, held = [], None, []
for request in spec["requests"]:
    if "sleep" in request:
        import time
        time.sleep(request["sleep"])
        continue
    headers = dict(request.get("headers", {}))
    if request.get("session") and session:
        headers["Mcp-Session-Id"] = session
    body = request.get("body")
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    if body is not None and request.get("repeat"):
        body = body * request["repeat"]
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    connection.putrequest(request.get("method", "POST"), url.path, skip_host="Host" in headers, skip_accept_encoding=True)
    for name, value in headers.items():
        connection.putheader(name, value)
    data = body.encode() if body is not None else None
    if data is not None:
        connection.putheader("Content-Length", str(len(data)))
    connection.endheaders(data)
    response = connection.getresponse()
    if request.get("hold"):
        held.append(connection)
        answers.append({"status": response.status, "headers": {k.lower(): v for k, v in response.getheaders()}, "body": ""})
        continue
    wanted = request.get("events")
    if wanted:
        lines = []
        while sum(line.startswith(b"data:") for line in lines) < wanted:
            line = response.fp.readline()
            if not line:
                break
            lines.append(line)
        text = b"".join(lines).decode(errors="replace")
    else:
        text = response.read().decode(errors="replace")
    answer_headers = {k.lower(): v for k, v in response.getheaders()}
    session = answer_headers.get("mcp-session-id", session)
    answers.append({"status": response.status, "headers": answer_headers, "body": text})
    connection.close()
print(json.dumps({"answers": answers}))
