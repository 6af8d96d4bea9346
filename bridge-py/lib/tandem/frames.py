"""Worker protocol frames: a 4-byte big-endian length, then one msgpack map (see docs/protocol.md).

A compact msgpack codec (stdlib only) for the envelope: maps with str keys, str, bin, int, float, bool,
nil, arrays. Bodies are `bin` and are handed over as `bytes` without further decoding.
"""

import os

from .heap import LARGE_FRAME, keep_freed_memory

MAX_FRAME_BYTES = 64 * 1024 * 1024
PROTOCOL_VERSION = 1


class ProtocolError(Exception):
    """A malformed, oversized or unexpected frame: the worker must stop."""


# ---------------------------------------------------------------- encoding

_pack_float = None


def _enc(obj, out):
    if obj is None:
        out.append(b"\xc0")
    elif obj is True:
        out.append(b"\xc3")
    elif obj is False:
        out.append(b"\xc2")
    elif type(obj) is str:
        b = obj.encode("utf-8", "surrogatepass")
        n = len(b)
        if n < 32:
            out.append(bytes((0xA0 | n,)))
        elif n < 0x100:
            out.append(bytes((0xD9, n)))
        elif n < 0x10000:
            out.append(b"\xda" + n.to_bytes(2, "big"))
        else:
            out.append(b"\xdb" + n.to_bytes(4, "big"))
        out.append(b)
    elif isinstance(obj, (bytes, bytearray, memoryview)):
        n = len(obj) if not isinstance(obj, memoryview) else obj.nbytes
        if n < 0x100:
            out.append(bytes((0xC4, n)))
        elif n < 0x10000:
            out.append(b"\xc5" + n.to_bytes(2, "big"))
        else:
            out.append(b"\xc6" + n.to_bytes(4, "big"))
        out.append(obj)
    elif isinstance(obj, int):
        if 0 <= obj < 0x80:
            out.append(bytes((obj,)))
        elif -32 <= obj < 0:
            out.append(bytes((obj & 0xFF,)))
        elif obj >= 0:
            if obj < 0x100:
                out.append(bytes((0xCC, obj)))
            elif obj < 0x10000:
                out.append(b"\xcd" + obj.to_bytes(2, "big"))
            elif obj < 0x100000000:
                out.append(b"\xce" + obj.to_bytes(4, "big"))
            elif obj < 0x10000000000000000:
                out.append(b"\xcf" + obj.to_bytes(8, "big"))
            else:
                raise ValueError("integer too large for msgpack: %d" % obj)
        else:
            if obj >= -0x80:
                out.append(b"\xd0" + obj.to_bytes(1, "big", signed=True))
            elif obj >= -0x8000:
                out.append(b"\xd1" + obj.to_bytes(2, "big", signed=True))
            elif obj >= -0x80000000:
                out.append(b"\xd2" + obj.to_bytes(4, "big", signed=True))
            elif obj >= -0x8000000000000000:
                out.append(b"\xd3" + obj.to_bytes(8, "big", signed=True))
            else:
                raise ValueError("integer too small for msgpack: %d" % obj)
    elif isinstance(obj, float):
        global _pack_float
        if _pack_float is None:
            import struct

            _pack_float = struct.Struct(">d").pack
        out.append(b"\xcb" + _pack_float(obj))
    elif isinstance(obj, dict):
        n = len(obj)
        if n < 16:
            out.append(bytes((0x80 | n,)))
        elif n < 0x10000:
            out.append(b"\xde" + n.to_bytes(2, "big"))
        else:
            out.append(b"\xdf" + n.to_bytes(4, "big"))
        for k, v in obj.items():
            _enc(k, out)
            _enc(v, out)
    elif isinstance(obj, (list, tuple)):
        n = len(obj)
        if n < 16:
            out.append(bytes((0x90 | n,)))
        elif n < 0x10000:
            out.append(b"\xdc" + n.to_bytes(2, "big"))
        else:
            out.append(b"\xdd" + n.to_bytes(4, "big"))
        for v in obj:
            _enc(v, out)
    elif isinstance(obj, str):
        _enc(str(obj), out)
    else:
        raise TypeError("cannot msgpack-encode %s" % type(obj).__name__)


def encode(obj):
    """msgpack bytes of obj."""
    out = []
    _enc(obj, out)
    return b"".join(out)


def frame_parts(obj):
    """The frame for obj as a list of byte strings (the first is the 4-byte length) and its total size.
    Large `bin` values are their own items, never copied: write the list with os.writev."""
    out = [b""]
    if type(obj) is dict and len(obj) < 16:
        # The envelope: a small map of str keys and (mostly) str / bin / nil values.
        out.append(bytes((0x80 | len(obj),)))
        for k, v in obj.items():
            kb = k.encode()
            if len(kb) < 32:
                out.append(bytes((0xA0 | len(kb),)))
                out.append(kb)
            else:
                _enc(k, out)
            tv = type(v)
            if tv is str and len(v) < 32 and v.isascii():
                out.append(bytes((0xA0 | len(v),)))
                out.append(v.encode())
            elif tv is bytes and len(v) < 0x100:
                out.append(bytes((0xC4, len(v))))
                out.append(v)
            else:
                _enc(v, out)
    else:
        _enc(obj, out)
    n = 0
    for part in out:
        n += len(part) if type(part) is not memoryview else part.nbytes
    out[0] = n.to_bytes(4, "big")
    return out, n + 4


def encode_frame(obj):
    """A complete frame (length prefix + msgpack) for obj."""
    return b"".join(frame_parts(obj)[0])


def str_header(n):
    """The msgpack header of a str of n UTF-8 bytes."""
    if n < 32:
        return bytes((0xA0 | n,))
    if n < 0x100:
        return bytes((0xD9, n))
    if n < 0x10000:
        return b"\xda" + n.to_bytes(2, "big")
    return b"\xdb" + n.to_bytes(4, "big")


def bin_header(n):
    """The msgpack header of a bin of n bytes."""
    if n < 0x100:
        return bytes((0xC4, n))
    if n < 0x10000:
        return b"\xc5" + n.to_bytes(2, "big")
    return b"\xc6" + n.to_bytes(4, "big")


def packed_str(s):
    """msgpack bytes of the str s."""
    b = s.encode("utf-8", "surrogatepass")
    return str_header(len(b)) + b


# ---------------------------------------------------------------- decoding

_unpack_f32 = _unpack_f64 = None


def _floats():
    global _unpack_f32, _unpack_f64
    import struct

    _unpack_f32 = struct.Struct(">f").unpack_from
    _unpack_f64 = struct.Struct(">d").unpack_from


def _need(buf, pos, n):
    if pos + n > len(buf):
        raise ProtocolError("truncated msgpack data")


def _dec(buf, pos):
    """Decode one value at pos; returns (value, new_pos)."""
    if pos >= len(buf):
        raise ProtocolError("truncated msgpack data")
    b = buf[pos]
    pos += 1
    if b <= 0x7F:
        return b, pos
    if b >= 0xE0:
        return b - 0x100, pos
    if 0xA0 <= b <= 0xBF:
        n = b & 0x1F
        _need(buf, pos, n)
        return _str(buf, pos, n), pos + n
    if 0x80 <= b <= 0x8F:
        return _map(buf, pos, b & 0x0F)
    if 0x90 <= b <= 0x9F:
        return _arr(buf, pos, b & 0x0F)
    if b == 0xC0:
        return None, pos
    if b == 0xC2:
        return False, pos
    if b == 0xC3:
        return True, pos
    if b in (0xC4, 0xC5, 0xC6):
        w = 1 << (b - 0xC4)
        _need(buf, pos, w)
        n = int.from_bytes(buf[pos : pos + w], "big")
        pos += w
        _need(buf, pos, n)
        return bytes(buf[pos : pos + n]), pos + n
    if b in (0xD9, 0xDA, 0xDB):
        w = 1 << (b - 0xD9)
        _need(buf, pos, w)
        n = int.from_bytes(buf[pos : pos + w], "big")
        pos += w
        _need(buf, pos, n)
        return _str(buf, pos, n), pos + n
    if 0xCC <= b <= 0xCF:
        w = 1 << (b - 0xCC)
        _need(buf, pos, w)
        return int.from_bytes(buf[pos : pos + w], "big"), pos + w
    if 0xD0 <= b <= 0xD3:
        w = 1 << (b - 0xD0)
        _need(buf, pos, w)
        return int.from_bytes(buf[pos : pos + w], "big", signed=True), pos + w
    if b == 0xCA or b == 0xCB:
        if _unpack_f64 is None:
            _floats()
        if b == 0xCA:
            _need(buf, pos, 4)
            return _unpack_f32(buf, pos)[0], pos + 4
        _need(buf, pos, 8)
        return _unpack_f64(buf, pos)[0], pos + 8
    if b == 0xDC or b == 0xDD:
        w = 2 if b == 0xDC else 4
        _need(buf, pos, w)
        return _arr(buf, pos + w, int.from_bytes(buf[pos : pos + w], "big"))
    if b == 0xDE or b == 0xDF:
        w = 2 if b == 0xDE else 4
        _need(buf, pos, w)
        return _map(buf, pos + w, int.from_bytes(buf[pos : pos + w], "big"))
    if b == 0xD4:
        # fixext 1: msgpackr writes JS `undefined` as type 0, data 0. Read it as nil.
        _need(buf, pos, 2)
        if buf[pos] == 0 and buf[pos + 1] == 0:
            return None, pos + 2
        raise ProtocolError("unsupported msgpack ext type %d" % (buf[pos] - 256 if buf[pos] > 127 else buf[pos]))
    raise ProtocolError("unsupported msgpack byte 0x%02x" % b)


def _str(buf, pos, n):
    try:
        return buf[pos : pos + n].decode()
    except UnicodeDecodeError as e:
        raise ProtocolError("invalid UTF-8 in msgpack str: %s" % e) from None


def _arr(buf, pos, n):
    if n > len(buf) - pos:
        raise ProtocolError("truncated msgpack data")
    out = []
    for _ in range(n):
        v, pos = _dec(buf, pos)
        out.append(v)
    return out, pos


def _map(buf, pos, n):
    if n > len(buf) - pos:
        raise ProtocolError("truncated msgpack data")
    out = {}
    try:
        for _ in range(n):
            # Fast paths for the envelope's shapes: fixstr keys; str, bin, nil, uint64 and small int values.
            # (A value cut short by the end of buf leaves pos past the end: decode() reports that.)
            b = buf[pos]
            if 0xA0 <= b <= 0xBF:
                end = pos + 1 + (b & 0x1F)
                k = buf[pos + 1 : end].decode()
                pos = end
            else:
                k, pos = _dec(buf, pos)
                if type(k) is not str:
                    raise ProtocolError("msgpack map key is not a string")
            b = buf[pos]
            if 0xA0 <= b <= 0xBF:
                end = pos + 1 + (b & 0x1F)
                out[k] = buf[pos + 1 : end].decode()
                pos = end
            elif b == 0xD9:
                end = pos + 2 + buf[pos + 1]
                out[k] = buf[pos + 2 : end].decode()
                pos = end
            elif b == 0xC0:
                out[k] = None
                pos += 1
            elif b == 0xC4:
                end = pos + 2 + buf[pos + 1]
                out[k] = buf[pos + 2 : end]
                pos = end
            elif b == 0xC5:
                start = pos + 3
                end = start + ((buf[pos + 1] << 8) | buf[pos + 2])
                out[k] = buf[start:end]
                pos = end
            elif b <= 0x7F:
                out[k] = b
                pos += 1
            elif 0x80 <= b <= 0x8F:
                out[k], pos = _map(buf, pos + 1, b & 0x0F)
            elif b == 0xCF:
                end = pos + 9
                out[k] = int.from_bytes(buf[pos + 1 : end], "big")
                pos = end
            else:
                out[k], pos = _dec(buf, pos)
    except UnicodeDecodeError as e:
        raise ProtocolError("invalid UTF-8 in msgpack str: %s" % e) from None
    return out, pos


def decode(buf):
    """Decode exactly one msgpack value from buf (bytes)."""
    if not isinstance(buf, bytes):
        buf = bytes(buf)
    try:
        v, pos = _dec(buf, 0)
    except IndexError:
        raise ProtocolError("truncated msgpack data") from None
    except RecursionError:
        raise ProtocolError("msgpack data nested too deeply") from None
    if pos > len(buf):
        raise ProtocolError("truncated msgpack data")
    if pos != len(buf):
        raise ProtocolError("%d trailing bytes after the msgpack value" % (len(buf) - pos))
    return v


def decode_message(buf):
    """Decode a frame payload: it must be a map with a str `t`."""
    b = buf[0] if buf else 0
    if 0x80 <= b <= 0x8F and type(buf) is bytes:
        # The envelope: a fixmap (what decode() would do, without its generic dispatch).
        try:
            msg, pos = _map(buf, 1, b & 0x0F)
        except IndexError:
            raise ProtocolError("truncated msgpack data") from None
        except RecursionError:
            raise ProtocolError("msgpack data nested too deeply") from None
        if pos != len(buf):
            if pos > len(buf):
                raise ProtocolError("truncated msgpack data")
            raise ProtocolError("%d trailing bytes after the msgpack value" % (len(buf) - pos))
    else:
        msg = decode(buf)
    if type(msg) is not dict:
        raise ProtocolError("frame is not a msgpack map")
    if type(msg.get("t")) is not str:
        raise ProtocolError("frame has no message type 't'")
    return msg


# ---------------------------------------------------------------- pipes


# Frames at least this large are read in two parts when their last value is a bin ending the frame (an
# event body): the envelope, then the body straight into its own bytes object (no copy out of the frame).
DIRECT_BODY_MIN = 128 * 1024
# Frames at least this large are written with writev: the frame's parts, without joining them.
WRITEV_MIN = 64 * 1024


def _scan_envelope(buf, n):
    """When the first bytes `buf` of an n-byte frame hold a map whose last value is a bin32 ending exactly
    at the frame's end: (the map without that value, its key, the value's offset, its length). Otherwise
    None (the caller then reads and decodes the frame whole, which reports any malformation)."""
    try:
        b = buf[0]
        if 0x80 <= b <= 0x8F:
            count = b & 0x0F
            pos = 1
        elif b == 0xDE:
            count = int.from_bytes(buf[1:3], "big")
            pos = 3
        else:
            return None
        msg = {}
        last = count - 1
        for i in range(count):
            k, pos = _dec(buf, pos)
            if type(k) is not str:
                return None
            if i == last:
                if buf[pos] != 0xC6 or len(buf) < pos + 5:
                    return None
                start = pos + 5
                size = int.from_bytes(buf[pos + 1 : start], "big")
                if start + size != n:
                    return None
                return msg, k, start, size
            v, pos = _dec(buf, pos)
            msg[k] = v
    except (ProtocolError, IndexError, RecursionError):
        return None
    return None


class FrameReader:
    """Reads frames from a file descriptor (blocking)."""

    __slots__ = ("_f", "_read", "max_bytes")

    def __init__(self, fd, max_bytes=MAX_FRAME_BYTES):
        self._f = os.fdopen(fd, "rb", buffering=65536, closefd=True)
        self._read = self._f.read
        self.max_bytes = max_bytes

    def read(self):
        """The next message (a dict), or None at EOF between frames."""
        read = self._read
        head = read(4)
        if len(head) != 4:
            if not head:
                return None
            raise ProtocolError("EOF inside a frame header")
        n = int.from_bytes(head, "big")
        if n > self.max_bytes:
            raise ProtocolError("frame of %d bytes exceeds the limit of %d bytes" % (n, self.max_bytes))
        if n >= DIRECT_BODY_MIN:
            if n >= LARGE_FRAME:
                keep_freed_memory()
            found = _scan_envelope(self._f.peek(), n)
            if found is not None:
                msg, key, start, size = found
                read(start)  # the envelope, decoded above from the peeked bytes
                body = read(size)
                if len(body) != size:
                    raise ProtocolError("EOF inside a frame (%d of %d bytes)" % (start + len(body), n))
                msg[key] = body
                if type(msg.get("t")) is not str:
                    raise ProtocolError("frame has no message type 't'")
                return msg
        data = read(n)
        if len(data) != n:
            raise ProtocolError("EOF inside a frame (%d of %d bytes)" % (len(data), n))
        return decode_message(data)


def write_all(fd, parts, total):
    """Write the byte strings `parts` (`total` bytes together) to fd: one syscall unless interrupted."""
    if total >= LARGE_FRAME:
        keep_freed_memory()
    if total < WRITEV_MIN:
        data = b"".join(parts)
        n = os.write(fd, data)
    else:
        data = None
        n = os.writev(fd, parts)
    if n == total:
        return
    view = memoryview(data if data is not None else b"".join(parts))[n:]
    while view:
        n = os.write(fd, view)
        view = view[n:]


_RESULT_HEAD = b"\x84\xa1t\xa6result\xa2id"
_CT_KEY = b"\xabcontentType"
_BODY_KEY = b"\xa4body"
_PACKED_CT = {ct: packed_str(ct) for ct in ("application/json", "application/unknown")}


class FrameWriter:
    """Writes frames to a file descriptor with blocking writes (backpressure comes from the pipe)."""

    __slots__ = ("fd", "max_bytes")

    def __init__(self, fd, max_bytes=MAX_FRAME_BYTES):
        self.fd = fd
        self.max_bytes = max_bytes

    def write(self, msg):
        parts, total = frame_parts(msg)
        if total - 4 > self.max_bytes:
            raise ProtocolError("outgoing frame of %d bytes exceeds the limit" % (total - 4))
        write_all(self.fd, parts, total)

    def write_result(self, msg_id, content_type, body):
        """`{t: "result", id, contentType, body}` (the same bytes write() produces), built directly."""
        ct = _PACKED_CT.get(content_type)
        if ct is None:
            ct = packed_str(content_type)
        n = len(body)
        head = _RESULT_HEAD + packed_str(msg_id) + _CT_KEY + ct + _BODY_KEY + bin_header(n)
        total = len(head) + n
        if total > self.max_bytes:
            raise ProtocolError("outgoing frame of %d bytes exceeds the limit" % total)
        write_all(self.fd, (total.to_bytes(4, "big"), head, body), total + 4)

    def write_raw(self, data):
        fd = self.fd
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
