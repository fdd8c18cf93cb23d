#!/usr/bin/env python3
"""How Python's json module reads JSON texts: the oracle for the differential test in
Tests/WardenCoreTests/JSONDifferentialTests.swift. Standard library only, no network.

Usage: json_oracle.py INPUTS
INPUTS holds one JSON text per line, as `=` and the text in base64 (the texts may hold any bytes;
the `=` keeps an empty text's line). For each, one line goes to standard output:

    refused <reason>
    read <tokens>

The tokens spell the value Python built, in prefix order, separated by spaces, so that nothing is
lost on the way back: n (null), t, f, i<decimal> (int), d<repr> (float), s<code points> (string:
decimal code points joined by commas, so lone surrogates stay visible), a<count> (array, then its
elements), o<count> (object, then key and value per member: every member, duplicates included, in
source order, as object_pairs_hook sees them).
"""
import base64
import sys


class Pairs(list):
    """An object's members as Python's parser saw them, before a dict would merge duplicates."""


def tokens(value, out):
    # An explicit stack: Python reads nesting deeper than its recursion limit allows a recursive walk.
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, tuple):  # a key, queued before its value
            out.append("s" + ",".join(str(ord(c)) for c in v[0]))
        elif v is None:
            out.append("n")
        elif v is True:
            out.append("t")
        elif v is False:
            out.append("f")
        elif isinstance(v, int):
            out.append("i" + str(v))
        elif isinstance(v, float):
            out.append("d" + repr(v))
        elif isinstance(v, str):
            out.append("s" + ",".join(str(ord(c)) for c in v))
        elif isinstance(v, Pairs):
            out.append("o" + str(len(v)))
            for key, member in reversed(v):
                stack.append(member)
                stack.append((key,))
        elif isinstance(v, list):
            out.append("a" + str(len(v)))
            stack.extend(reversed(v))
        else:
            raise TypeError(type(v).__name__)


def main():
    import json

    sys.setrecursionlimit(10000)
    with open(sys.argv[1], "rb") as f:
        lines = f.read().split(b"\n")
    out = sys.stdout
    for line in lines:
        if not line.startswith(b"="):
            continue
        data = base64.b64decode(line[1:])
        try:
            # Strict UTF-8, as a server reading its standard input as text does: Warden must not
            # accept bytes Python cannot decode.
            text = data.decode("utf-8")
            value = json.loads(text, object_pairs_hook=Pairs)
            parts = []
            tokens(value, parts)
            out.write("read " + " ".join(parts) + "\n")
        except (ValueError, RecursionError, MemoryError) as e:
            reason = (type(e).__name__ + ": " + str(e)).replace("\n", " ")[:200]
            out.write("refused " + reason + "\n")
    out.flush()


if __name__ == "__main__":
    main()
