"""Streaming a handler's response (docs/streaming-python.md, protocol.md "Streaming and backpressure").

A handler that returns a generator, an iterator, an async generator or a `tandem.StreamingResponse` has
its output sent as `streamStart`, `chunk`… (each ≤ 1 MiB), then `streamEnd` or `streamError`.

The first item is written at once. After that an item is written at once too while Node keeps up (the pipe
holds nothing unread and no write is under way); while Node has not read what was sent before, items are
gathered and a small flusher thread writes them as one `chunk` frame (≤ 64 KiB) as soon as it gets to run
(the generator blocking or sleeping lets it run at once; a busy generator at the latest after the
interpreter's switch interval). More than 1 MiB waiting makes the generator wait: backpressure is kept."""

import os
import threading

from . import StreamingResponse, DEFAULT_STREAM_CONTENT_TYPE
from .frames import WRITEV_MIN, bin_header, packed_str, write_all

CHUNK_LIMIT = 1024 * 1024
GATHER_LIMIT = WRITEV_MIN  # items gathered into one frame: up to 64 KiB together

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


try:
    import fcntl as _fcntl
    import termios as _termios

    _FIONREAD = _termios.FIONREAD
except ImportError:  # pragma: no cover (not Linux)
    _fcntl = None


def _unread(fd, buf=bytearray(4)):
    """Whether the pipe fd still holds bytes Node has not read (False when that cannot be told)."""
    if _fcntl is None:
        return False
    try:
        _fcntl.ioctl(fd, _FIONREAD, buf, True)
    except OSError:
        return False
    return buf != b"\0\0\0\0"


class _Coalescer:
    """send(item) / finish(): the items of one stream, written at once while Node keeps up, gathered into
    one frame while it does not (see the module doc). Bytes are never reordered: once anything is waiting
    or being written by the flusher, every later item goes behind it."""

    def __init__(self, fd, send_one):
        self.fd = fd
        self.send_one = send_one
        self.first = True
        self.cond = None  # threading.Condition, once the flusher exists
        self.pending = []
        self.pending_bytes = 0
        self.busy = False  # the flusher is writing
        self.closing = False
        self.error = None
        self.thread = None

    def send(self, data, n):
        if self.first:
            self.first = False
            self.send_one(data, n)
            return
        cond = self.cond
        if cond is None:
            if not _unread(self.fd):
                self.send_one(data, n)
                return
            cond = self.cond = threading.Condition(threading.Lock())
            self.thread = threading.Thread(target=self._flush_loop, name="tandem-stream-flusher", daemon=True)
            self.thread.start()
        with cond:
            if self.error is None and not self.pending and not self.busy and not _unread(self.fd):
                self.busy = True
                direct = True
            else:
                direct = False
                while self.pending_bytes and self.pending_bytes + n > CHUNK_LIMIT and self.error is None:
                    cond.wait()
                if self.error is not None:
                    raise PipeGone(self.error)
                self.pending.append(data)
                self.pending_bytes += n
                cond.notify_all()
        if direct:
            try:
                self.send_one(data, n)
            finally:
                with cond:
                    self.busy = False
                    cond.notify_all()

    def _flush_loop(self):
        cond = self.cond
        while True:
            with cond:
                while not self.pending and not self.closing:
                    cond.wait()
                if not self.pending:
                    return
                while self.busy:  # the generator's thread is finishing a direct write
                    cond.wait()
                pending = self.pending
                # Gather at most GATHER_LIMIT bytes (one item if it is larger): a large frame would make
                # Node wait for all of it before passing any on.
                n = len(pending[0])
                k = 1
                while k < len(pending) and n + len(pending[k]) <= GATHER_LIMIT:
                    n += len(pending[k])
                    k += 1
                parts = pending[:k]
                del pending[:k]
                self.pending_bytes -= n
                self.busy = True
                cond.notify_all()
            try:
                data = parts[0] if len(parts) == 1 else b"".join(parts)
                self.send_one(data, n)
            except OSError as e:
                with cond:
                    self.error = e
                    self.busy = False
                    self.pending = []
                    self.pending_bytes = 0
                    cond.notify_all()
                return
            with cond:
                self.busy = False
                cond.notify_all()

    def finish(self):
        """Wait until everything sent so far is written (raises PipeGone if the pipe broke)."""
        cond = self.cond
        if cond is None:
            return
        with cond:
            self.closing = True
            cond.notify_all()
        self.thread.join()
        self.cond = None
        if self.error is not None:
            raise PipeGone(self.error)


def _sender(writer, invoke_id):
    """(send(item), finish()): `chunk` frames (items split at CHUNK_LIMIT, gathered by _Coalescer), each
    written with one syscall. The frame's bytes are those of `writer.write({"t": "chunk", "id": invoke_id, "data": data})`, with the
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

    coalescer = _Coalescer(fd, send_one)
    put = coalescer.send

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
                put(data, n)
                return
            view = memoryview(data)
            for start in range(0, n, CHUNK_LIMIT):
                part = view[start : start + CHUNK_LIMIT]
                put(part, part.nbytes)
        except OSError as e:
            raise PipeGone(e)

    return send, coalescer.finish


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
    send, finish = _sender(writer, invoke_id)
    try:
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
    finally:
        # Everything yielded is written before streamEnd/streamError (and before a SystemExit ends the
        # worker). A broken pipe raises PipeGone here.
        finish()


def _drain_async(body, send):
    import asyncio

    async def drain():
        async for item in body:
            send(item)

    asyncio.run(drain())
