"""Streaming a handler's response (docs/streaming-python.md, protocol.md "Streaming and backpressure").

A handler that returns a generator, an iterator, an async generator or a `tandem.StreamingResponse` has
its output sent as `streamStart`, `chunk`… (each ≤ 1 MiB, sent as soon as it is yielded), then `streamEnd`
or `streamError`."""

import os

from . import StreamingResponse, DEFAULT_STREAM_CONTENT_TYPE
from .frames import WRITEV_MIN, bin_header, packed_str, write_all

CHUNK_LIMIT = 1024 * 1024

_NOT_STREAMS = (str, bytes, bytearray, dict, list, tuple, int, float, type(None))


def is_stream(value):
    if isinstance(value, _NOT_STREAMS):
        return False
    if isinstance(value, StreamingResponse):
        return True
    t = type(value)
    return hasattr(t, "__next__") or hasattr(t, "__anext__")


class PipeGone(BaseException):
    """Writing to Node failed: the peer is gone. Not an Exception, so no handler-level code catches it."""


def _as_bytes(item):
    if isinstance(item, bytes):
        return item
    if isinstance(item, str):
        return item.encode("utf-8")
    if isinstance(item, (bytearray, memoryview)):
        return bytes(item)
    raise TypeError("a streamed response must yield bytes or str, not %s" % type(item).__name__)


_CHUNK_HEAD = b"\x83\xa1t\xa5chunk\xa2id"
_DATA_KEY = b"\xa4data"


def _sender(writer, invoke_id):
    """send(item): one `chunk` frame per item (split at CHUNK_LIMIT), each written with one syscall. The
    frame's bytes are those of `writer.write({"t": "chunk", "id": invoke_id, "data": data})`, with the
    envelope built once per stream."""
    fd = writer.fd
    prefix = _CHUNK_HEAD + packed_str(invoke_id) + _DATA_KEY
    small = len(prefix) + 2  # frame size without the data, for data < 256 bytes (bin8 header)
    write = os.write

    def send_one(data, n):
        if n < 0x100:
            frame = (small + n).to_bytes(4, "big") + prefix + bytes((0xC4, n)) + data
            total = small + n + 4
            if write(fd, frame) != total:
                write_all(fd, (frame,), total)
        elif n < WRITEV_MIN:
            head = bin_header(n)
            size = len(prefix) + len(head) + n
            frame = size.to_bytes(4, "big") + prefix + head + data
            if write(fd, frame) != size + 4:
                write_all(fd, (frame,), size + 4)
        else:
            head = bin_header(n)
            size = len(prefix) + len(head) + n
            write_all(fd, (size.to_bytes(4, "big") + prefix + head, data), size + 4)

    def send(item):
        if type(item) is bytes:
            data = item
        else:
            data = _as_bytes(item)
        n = len(data)
        if n == 0:
            return
        try:
            if n <= CHUNK_LIMIT:
                send_one(data, n)
                return
            view = memoryview(data)
            for start in range(0, n, CHUNK_LIMIT):
                part = view[start : start + CHUNK_LIMIT]
                send_one(part, part.nbytes)
        except OSError as e:
            raise PipeGone(e)

    return send


def stream(value, writer, invoke_id):
    """Send the whole stream. Returns None on success, or the exception the body raised (the caller
    reports it as a streamError). Protocol-level failures (the pipe) propagate."""
    if isinstance(value, StreamingResponse):
        content_type = value.stream_content_type()
        body = value.body
        prelude = value.prelude()
    else:
        content_type = DEFAULT_STREAM_CONTENT_TYPE
        body = value
        prelude = b""
    writer.write({"t": "streamStart", "id": invoke_id, "contentType": content_type})
    send = _sender(writer, invoke_id)
    if prelude:
        send(prelude)
    try:
        if isinstance(body, (bytes, str, bytearray, memoryview)):
            send(body)
        elif hasattr(type(body), "__anext__") or hasattr(type(body), "__aiter__"):
            _drain_async(body, send)
        else:
            for item in body:
                send(item)
    except Exception as exc:
        return exc
    return None


def _drain_async(body, send):
    import asyncio

    async def drain():
        async for item in body:
            send(item)

    asyncio.run(drain())
