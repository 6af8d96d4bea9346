"""Helper for test/msgpack-vectors.test.ts: decodes frames from stdin with tandem's codec and answers each
with a frame holding {"value": <the value re-encoded>, "types": <a JSON description of the Python types>}.
With the argument `emit`, writes frames of fixed Python values instead."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))

from tandem import frames  # noqa: E402


def describe(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return {"bool": v}
    if isinstance(v, int):
        return {"int": str(v)}
    if isinstance(v, float):
        return {"float": repr(v)}
    if isinstance(v, str):
        return {"str": v}
    if isinstance(v, bytes):
        return {"bin": v.hex()}
    if isinstance(v, list):
        return [describe(x) for x in v]
    if isinstance(v, dict):
        return {"map": [[k, describe(x)] for k, x in v.items()]}
    raise TypeError(type(v).__name__)


EMIT = [
    {"t": "hello", "v": 1, "pid": 12345, "python": "3.11.7"},
    {"t": "result", "id": "r", "contentType": "application/json", "body": b'{"a": 1}'},
    {"t": "chunk", "id": "r", "data": b""},
    {"t": "error", "id": "r", "errorType": "E", "body": b"\x00\xff", "xrayCause": None},
    {"ints": [0, 127, 128, -1, -32, -33, 255, 256, 65535, 65536, -129, -32769, 2**31, -2**31 - 1, 2**32 - 1]},
    {"big": [2**32, 2**63, 2**64 - 1, -2**63]},
    {"floats": [1.5, -0.25, 1e300], "bools": [True, False], "nil": None},
    {"strs": ["", "a" * 31, "b" * 32, "c" * 300, "\u00e9\U0001F600"], "nested": {"m": {"n": [b"\x01", {}]}}},
]


def main():
    out = sys.stdout.buffer
    if len(sys.argv) > 1 and sys.argv[1] == "emit":
        for v in EMIT:
            out.write(frames.encode_frame(v))
        out.flush()
        return
    inp = sys.stdin.buffer
    while True:
        head = inp.read(4)
        if not head:
            break
        data = inp.read(int.from_bytes(head, "big"))
        try:
            value = frames.decode(data)
            reply = {"value": value, "types": json.dumps(describe(value))}
        except frames.ProtocolError as e:
            reply = {"error": str(e)}
        out.write(frames.encode_frame(reply))
        out.flush()


if __name__ == "__main__":
    main()
