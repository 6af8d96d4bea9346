"""Streaming a handler's response (docs/streaming-python.md, protocol.md "Streaming and backpressure").

A handler that returns a generator, an iterator, an async generator or a `tandem.StreamingResponse` has
its output sent as `streamStart`, `chunk`… (each ≤ 1 MiB, sent as soon as it is yielded), then `streamEnd`
or `streamError`."""

from . import StreamingResponse, DEFAULT_STREAM_CONTENT_TYPE

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


class _Sender(object):
    __slots__ = ("writer", "invoke_id")

    def __init__(self, writer, invoke_id):
        self.writer = writer
        self.invoke_id = invoke_id

    def send(self, item):
        data = _as_bytes(item)
        n = len(data)
        if n == 0:
            return
        write = self.writer.write
        try:
            if n <= CHUNK_LIMIT:
                write({"t": "chunk", "id": self.invoke_id, "data": data})
                return
            view = memoryview(data)
            for start in range(0, n, CHUNK_LIMIT):
                write({"t": "chunk", "id": self.invoke_id, "data": view[start : start + CHUNK_LIMIT]})
        except OSError as e:
            raise PipeGone(e)


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
    sender = _Sender(writer, invoke_id)
    if prelude:
        sender.send(prelude)
    try:
        if isinstance(body, (bytes, str, bytearray, memoryview)):
            sender.send(body)
        elif hasattr(type(body), "__anext__") or hasattr(type(body), "__aiter__"):
            _drain_async(body, sender)
        else:
            for item in body:
                sender.send(item)
    except Exception as exc:
        return exc
    return None


def _drain_async(body, sender):
    import asyncio

    async def drain():
        async for item in body:
            sender.send(item)

    asyncio.run(drain())
