"""A stdlib-only stand-in for simplejson as AWS's runtime uses it: the same bytes out, the same errors.

The target is simplejson >= 3.19 (awslambdaric requires >= 3.20.1): events holding NaN/Infinity are
rejected (`Expecting value`), escape errors use its wording and positions. Decoding runs the stdlib C
scanner and rewrites its error messages into simplejson's wording. Encoding is
a small walker with simplejson's rules: namedtuple/_asdict as objects, nested bytes decoded as UTF-8,
Decimal written raw, NaN/Infinity allowed, simplejson's key coercion.
"""

import json
from json import JSONDecodeError
from json.decoder import WHITESPACE

_ws = WHITESPACE.match


def _lc(doc, pos):
    line = doc.count("\n", 0, pos) + 1
    col = pos + 1 if line == 1 else pos - doc.rindex("\n", 0, pos)
    return line, col


class SimplejsonDecodeError(ValueError):
    pass


_Error = SimplejsonDecodeError


class _Constant(Exception):
    """NaN/Infinity met: simplejson >= 3.19 rejects them by default."""


def _reject_constant(name):
    raise _Constant(name)


_decoder = json.JSONDecoder(parse_constant=_reject_constant)
_raw_decode = _decoder.raw_decode


def _constant_position(doc, start):
    """Where the first NaN/Infinity/-Infinity token outside strings begins (everything before it parsed)."""
    i = start
    n = len(doc)
    while i < n:
        c = doc[i]
        if c == '"':
            i += 1
            while i < n and doc[i] != '"':
                i += 2 if doc[i] == "\\" else 1
        elif c == "N" or c == "I":
            return i - 1 if i > 0 and doc[i - 1] == "-" else i
        i += 1
    return start


def _simplejson_error(msg, doc, pos, end=None):
    line, col = _lc(doc, pos)
    if end is None:
        return _Error("%s: line %d column %d (char %d)" % (msg, line, col, pos))
    eline, ecol = _lc(doc, end)
    return _Error(
        "%s: line %d column %d - line %d column %d (char %d - %d)" % (msg, line, col, eline, ecol, pos, end)
    )


def _container_at(doc, pos):
    """'{' or '[': the innermost open container at pos (strings skipped)."""
    stack = []
    i = 0
    in_str = False
    while i < pos:
        c = doc[i]
        if in_str:
            if c == "\\":
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c == "{" or c == "[":
            stack.append(c)
        elif c == "}" or c == "]":
            if stack:
                stack.pop()
        i += 1
    return stack[-1] if stack else ""


def _prev_token(doc, pos):
    """Index of the last non-whitespace character before pos (-1 if none)."""
    j = pos - 1
    while j >= 0 and doc[j] in " \t\n\r":
        j -= 1
    return j


def _translate(e, doc):
    msg, pos = e.msg, e.pos
    if msg == "Expecting ',' delimiter":
        msg = "Expecting ',' delimiter or '}'" if _container_at(doc, pos) == "{" else "Expecting ',' delimiter or ']'"
    elif msg == "Expecting property name enclosed in double quotes":
        j = _prev_token(doc, pos)
        if j >= 0 and doc[j] == "{" and pos >= len(doc):
            msg = "Expecting property name enclosed in double quotes or '}'"
        elif j >= 0 and doc[j] == "," and doc[pos : pos + 1] == "}":
            msg, pos = "Illegal trailing comma before end of object", j
    elif msg == "Expecting value" and doc[pos : pos + 1] == "]":
        j = _prev_token(doc, pos)
        if j >= 0 and doc[j] == "," and _prev_token(doc, j) >= 0 and doc[_prev_token(doc, j)] not in "[,":
            msg, pos = "Illegal trailing comma before end of array", j
    elif msg == "Invalid control character at":
        msg = "Invalid control character %r at" % (doc[pos],)
    elif msg == "Invalid \\escape":
        pos += 1
        msg = "Invalid \\X escape sequence %r" % (doc[pos],)
    elif msg == "Invalid \\uXXXX escape":
        pos -= 1
        msg = "Invalid \\uXXXX escape sequence"
    return _simplejson_error(msg, doc, pos)


def loads(body):
    """simplejson.loads(bytes) semantics."""
    if isinstance(body, (bytes, bytearray, memoryview)):
        doc = str(body, "utf-8")
    else:
        doc = body
    idx = 1 if doc.startswith("\ufeff") else 0
    idx = _ws(doc, idx).end()
    try:
        obj, end = _raw_decode(doc, idx)
    except JSONDecodeError as e:
        raise _translate(e, doc) from None
    except _Constant:
        raise _simplejson_error("Expecting value", doc, _constant_position(doc, idx)) from None
    end = _ws(doc, end).end()
    if end != len(doc):
        raise _simplejson_error("Extra data", doc, end, len(doc))
    return obj


_INF = float("inf")
_KEY_ERROR = "keys must be str, int, float, bool or None, not "


def _tp_name(key):
    """The C-level type name simplejson's speedups print (`decimal.Decimal` for a C type, `Foo` for a
    class): the stdlib C encoder words its key error with the same name, so ask it."""
    try:
        json.JSONEncoder().encode({key: 0})
    except TypeError as e:
        msg = str(e)
        if msg.startswith(_KEY_ERROR):
            return msg[len(_KEY_ERROR) :]
    return type(key).__name__


def make_dumps(ensure_ascii):
    import sys
    from json.encoder import encode_basestring, encode_basestring_ascii

    modules = sys.modules

    def is_decimal(o):
        # A Decimal can only exist once `decimal` is imported: no need to import it ourselves.
        decimal = modules.get("decimal")
        return decimal is not None and isinstance(o, decimal.Decimal)

    enc_str = encode_basestring_ascii if ensure_ascii else encode_basestring
    float_repr = float.__repr__
    int_repr = int.__repr__

    def floatstr(o):
        if o != o:
            return "NaN"
        if o == _INF:
            return "Infinity"
        if o == -_INF:
            return "-Infinity"
        return float_repr(o)

    def key_str(key):
        if isinstance(key, str):
            return key
        if isinstance(key, bytes):
            return str(key, "utf-8")
        if isinstance(key, float):
            return floatstr(key)
        if key is True:
            return "true"
        if key is False:
            return "false"
        if key is None:
            return "null"
        if isinstance(key, int):
            return int_repr(key)
        raise TypeError(_KEY_ERROR + _tp_name(key))

    def default(o):
        if is_decimal(o):
            if o.is_nan():
                return "NaN"
            return str(o)
        raise TypeError("Object of type %s is not JSON serializable" % o.__class__.__name__)

    def walk(o, out, markers):
        if isinstance(o, str):
            out.append(enc_str(o))
        elif isinstance(o, bytes):
            out.append(enc_str(str(o, "utf-8")))
        elif o is None:
            out.append("null")
        elif o is True:
            out.append("true")
        elif o is False:
            out.append("false")
        elif isinstance(o, int):
            out.append(int_repr(o))
        elif isinstance(o, float):
            out.append(floatstr(o))
        elif isinstance(o, list):
            walk_list(o, out, markers)
        else:
            asdict = getattr(o, "_asdict", None)
            if asdict is not None and callable(asdict):
                d = asdict()
                if not isinstance(d, dict):
                    raise TypeError("_asdict() must return a dict, not %s" % (type(d).__name__,))
                walk_dict(d, out, markers)
            elif isinstance(o, tuple):
                walk_list(o, out, markers)
            elif isinstance(o, dict):
                walk_dict(o, out, markers)
            else:
                oid = id(o)
                if oid in markers:
                    raise ValueError("Circular reference detected")
                markers[oid] = o
                r = default(o)
                if is_decimal(o):
                    out.append(r)
                else:
                    walk(r, out, markers)
                del markers[oid]

    def walk_list(o, out, markers):
        if not o:
            out.append("[]")
            return
        oid = id(o)
        if oid in markers:
            raise ValueError("Circular reference detected")
        markers[oid] = o
        out.append("[")
        first = True
        for v in o:
            if first:
                first = False
            else:
                out.append(", ")
            walk(v, out, markers)
        out.append("]")
        del markers[oid]

    def walk_dict(o, out, markers):
        if not o:
            out.append("{}")
            return
        oid = id(o)
        if oid in markers:
            raise ValueError("Circular reference detected")
        markers[oid] = o
        out.append("{")
        first = True
        for k, v in o.items():
            k = key_str(k)
            if first:
                first = False
            else:
                out.append(", ")
            out.append(enc_str(k))
            out.append(": ")
            walk(v, out, markers)
        out.append("}")
        del markers[oid]

    def dumps(o):
        # Fast paths for the common flat cases.
        if isinstance(o, str):
            return enc_str(o)
        out = []
        walk(o, out, {})
        return "".join(out)

    return dumps


# Plain data goes through the stdlib C encoder (tandem/plainjson.py); re-exported for the tests.
from .plainjson import is_plain, make_fast_dumps  # noqa: E402,F401
