"""Result encoding and event decoding: AWS's observed behaviour (docs/python-worker.md, JSON), on simplejson when it is
importable and on the stdlib emulation always; the emulation is checked against simplejson when both exist."""

import collections
import datetime
import decimal
import sys
import unittest
import uuid


from tandem import jsonemu, marshal
from tandem.errors import FaultException

try:
    import simplejson
except ImportError:
    simplejson = None

NT = collections.namedtuple("NT", "a b")


class AsDict(object):
    def _asdict(self):
        return {"k": 1}


class StrOverride(str):
    pass


def gen():
    yield 1


SUCCESS = [
    (None, "null"),
    ("plain string", '"plain string"'),
    ({"a": 1}, '{"a": 1}'),
    ({"u": "h\u00e9llo \u00a3 \U0001F600"}, '{"u": "h\\u00e9llo \\u00a3 \\ud83d\\ude00"}'),
    (decimal.Decimal("19.99"), "19.99"),
    (decimal.Decimal("1E+3"), "1E+3"),
    (decimal.Decimal("-0.00"), "-0.00"),
    (decimal.Decimal("Infinity"), "Infinity"),
    (decimal.Decimal("NaN"), "NaN"),
    (decimal.Decimal("-NaN"), "NaN"),
    (decimal.Decimal("sNaN"), "NaN"),
    (float("nan"), "NaN"),
    (float("inf"), "Infinity"),
    (float("-inf"), "-Infinity"),
    (10**30, "1000000000000000000000000000000"),
    ((1, 2), "[1, 2]"),
    (0.1, "0.1"),
    (1e16, "1e+16"),
    (NT(1, 2), '{"a": 1, "b": 2}'),
    ([NT(1, [NT(2, 3)])], '[{"a": 1, "b": [{"a": 2, "b": 3}]}]'),
    (AsDict(), '{"k": 1}'),
    ({"b": b"abc"}, '{"b": "abc"}'),
    ([b"caf\xc3\xa9"], '["caf\\u00e9"]'),
    ({1: "a", 2.5: "b", None: "d", False: "f"}, '{"1": "a", "2.5": "b", "null": "d", "false": "f"}'),
    ({True: "t", -7: 1}, '{"true": "t", "-7": 1}'),
    ({b"k": 1}, '{"k": 1}'),
    ({float("nan"): 1, float("inf"): 2}, '{"NaN": 1, "Infinity": 2}'),
    ("\x00\x1f\x7f", '"\\u0000\\u001f\\u007f"'),
    ("tab\tnl\ncr\r\"q\" \\ /", '"tab\\tnl\\ncr\\r\\"q\\" \\\\ /"'),
    ([], "[]"),
    ({}, "{}"),
    ({"a": [], "b": {}, "c": ()}, '{"a": [], "b": {}, "c": []}'),
    (StrOverride("x"), '"x"'),
    (True, "true"),
    ([1, True, None, 2.5, -3], "[1, true, null, 2.5, -3]"),
]

ERRORS = [
    ({1, 2}, "Object of type set is not JSON serializable"),
    (frozenset(), "Object of type frozenset is not JSON serializable"),
    (datetime.datetime(2020, 1, 1), "Object of type datetime is not JSON serializable"),
    (datetime.date(2020, 1, 1), "Object of type date is not JSON serializable"),
    (uuid.UUID(int=1), "Object of type UUID is not JSON serializable"),
    (gen(), "Object of type generator is not JSON serializable"),
    (bytearray(b"x"), "Object of type bytearray is not JSON serializable"),
    ({"b": b"\xff"}, "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"),
    ({(1, 2): 1}, "keys must be str, int, float, bool or None, not tuple"),
    ({decimal.Decimal(1): 1}, "keys must be str, int, float, bool or None, not decimal.Decimal"),
    ({NT(1, 2): 1}, "keys must be str, int, float, bool or None, not NT"),
]

DECODE_ERRORS = [
    b"",
    b"not json",
    b'{"a": 1}x',
    b"  ",
    b"{",
    b'{"a"',
    b'{"a":',
    b'{"a":1',
    b"[1,",
    b"[1 2]",
    b'"abc',
    b'"a\x01"',
    b"\xff",
    b"{1:2}",
    b"1.",
    b"01",
    b'\n\n {"a" 1}',
    b'{"a":1}{"b":2}',
    b'"\xc3"',
    b"[]]",
    b"\xef\xbb\xbf",
    b"\xef\xbb\xbf x",
    b'\xef\xbb\xbf{"a":1}x',
    b'{"a":[1,2}',
    b'[{"a":1]',
    b'{"a":{"b":1]}',
    b'"a\n"',
    b'{"x": "\\\\"]',
    b'{"\xc3\xa9":1}x',
    b'{"a": "}", "b" 1}',
    b'["{", 1 2]',
    b"{ ",
    b"{]",
    b"[{",
    b"{\n",
    b'{"a":1, ',
]

# simplejson >= 3.19 (what awslambdaric 4.0.1 requires: >= 3.20.1) changed these; the emulation follows it.
DECODE_ERRORS_MODERN = [
    (b'"\\q"', "Invalid \\X escape sequence 'q': line 1 column 3 (char 2)"),
    (b'"\\u12"', 'Invalid \\uXXXX escape sequence: line 1 column 2 (char 1)'),
    (b'"\\ud800\\u12"', 'Invalid \\uXXXX escape sequence: line 1 column 8 (char 7)'),
    (b'["a", "\\q"]', "Invalid \\X escape sequence 'q': line 1 column 9 (char 8)"),
    (b'[-Infinity]', 'Expecting value: line 1 column 2 (char 1)'),
    (b'{"a":NaN}', 'Expecting value: line 1 column 6 (char 5)'),
    (b'["NaN", NaN]', 'Expecting value: line 1 column 9 (char 8)'),
    (b'[1,\n Infinity]', 'Expecting value: line 2 column 2 (char 5)'),
    (b'\xef\xbb\xbfNaN', 'Expecting value: line 1 column 2 (char 1)'),
    (b'{"a":1,}', 'Illegal trailing comma before end of object: line 1 column 7 (char 6)'),
    (b'[1,]', 'Illegal trailing comma before end of array: line 1 column 3 (char 2)'),
    (b'[1, ]', 'Illegal trailing comma before end of array: line 1 column 3 (char 2)'),
    (b'{"a":[1,]}', 'Illegal trailing comma before end of array: line 1 column 8 (char 7)'),
    (b'[,]', 'Expecting value: line 1 column 2 (char 1)'),
    (b'{,}', 'Expecting property name enclosed in double quotes: line 1 column 2 (char 1)'),
]

DECODE_OK = [
    (b'{"a": 1}', {"a": 1}),
    (b"\xef\xbb\xbf[1]", [1]),
    (b'{"a": 1, "a": 2}', {"a": 2}),
    (b"123456789012345678901234567890", 123456789012345678901234567890),
    (b" 1.5 ", 1.5),
]


def emulated_dumps(ensure_ascii=True):
    return jsonemu.make_dumps(ensure_ascii)


class FastPath(unittest.TestCase):
    """The stdlib fast path for plain data gives the emulation's bytes, and defers everything else."""

    def test_same_bytes(self):
        for ensure_ascii in (True, False):
            fast = jsonemu.make_fast_dumps(ensure_ascii, jsonemu.make_dumps(ensure_ascii))
            slow = jsonemu.make_dumps(ensure_ascii)
            for value, _ in SUCCESS:
                with self.subTest(value=repr(value), ensure_ascii=ensure_ascii):
                    self.assertEqual(slow(value), fast(value))
            for value, message in ERRORS:
                with self.subTest(value=repr(value)):
                    self.assertEqual(_run(slow, value), _run(fast, value))

    def test_plain_detection(self):
        shared = [1]
        circular = []
        circular.append(circular)
        self.assertTrue(jsonemu.is_plain({"a": [1, 2.5, "x", None, True, {"b": []}]}))
        for value in ({1: 2}, [(1,)], {"a": b"x"}, [decimal.Decimal(1)], {"a": shared, "b": shared}, circular, NT(1, 2)):
            self.assertFalse(jsonemu.is_plain(value), value)


class EmulationTable(unittest.TestCase):
    def test_success_table(self):
        dumps = emulated_dumps()
        for value, expected in SUCCESS:
            with self.subTest(value=repr(value)):
                self.assertEqual(expected, dumps(value))

    def test_errors(self):
        dumps = emulated_dumps()
        for value, message in ERRORS:
            with self.subTest(value=repr(value)):
                with self.assertRaises((TypeError, ValueError)) as cm:
                    dumps(value)
                self.assertEqual(message, str(cm.exception))

    def test_circular(self):
        a = []
        a.append(a)
        d = {}
        d["d"] = d
        for value in (a, d):
            with self.assertRaises(ValueError) as cm:
                emulated_dumps()(value)
            self.assertEqual("Circular reference detected", str(cm.exception))

    def test_ensure_ascii_false(self):
        self.assertEqual('{"u": "h\u00e9llo \u00a3"}', emulated_dumps(False)({"u": "h\u00e9llo \u00a3"}))
        self.assertEqual('"\\u0000\x7f"', emulated_dumps(False)("\x00\x7f"))

    def test_decode(self):
        self.assertEqual(
            "Extra data: line 1 column 9 - line 1 column 10 (char 8 - 9)", _err(jsonemu.loads, b'{"a": 1}x')
        )
        self.assertEqual("Expecting value: line 1 column 1 (char 0)", _err(jsonemu.loads, b""))
        for body, value in DECODE_OK:
            self.assertEqual(value, jsonemu.loads(body))
        for body, message in DECODE_ERRORS_MODERN:
            with self.subTest(body=body):
                self.assertEqual(message, _err(jsonemu.loads, body))


@unittest.skipIf(simplejson is None, "simplejson is not installed for this interpreter")
class EmulationMatchesSimplejson(unittest.TestCase):
    def test_encode(self):
        for ensure_ascii in (True, False):
            _, sj_dumps = marshal._simplejson_codec(simplejson, ensure_ascii)
            dumps = emulated_dumps(ensure_ascii)
            for value, _expected in SUCCESS + [(v, None) for v, _ in ERRORS]:
                with self.subTest(value=repr(value), ensure_ascii=ensure_ascii):
                    self.assertEqual(_run(sj_dumps, value), _run(dumps, value))

    def test_plain_fast_path_matches_simplejson(self):
        from tandem.plainjson import make_fast_dumps

        plain = [
            {"a": [1, 2.5, -0.0, 1e300, float("nan"), float("-inf"), 10**30, True, None, {}]},
            ["\u00e9\u2028\x00\x7f\U0001F600", "", "q\"\\/\n"],
            "just a string", 12, 1.1, None,
        ]
        for ensure_ascii in (True, False):
            _, sj_dumps = marshal._simplejson_codec(simplejson, ensure_ascii)
            fast = make_fast_dumps(ensure_ascii, sj_dumps)
            for value in plain + [v for v, _ in SUCCESS] + [v for v, _ in ERRORS]:
                with self.subTest(value=repr(value), ensure_ascii=ensure_ascii):
                    self.assertEqual(_run(sj_dumps, value), _run(fast, value))

    def test_decode(self):
        bodies = DECODE_ERRORS + [b for b, _ in DECODE_OK]
        if _simplejson_version() >= (3, 19):
            bodies += [b for b, _ in DECODE_ERRORS_MODERN]
        for body in bodies:
            with self.subTest(body=body):
                self.assertEqual(_run(simplejson.loads, body, repr), _run(jsonemu.loads, body, repr))


def _simplejson_version():
    return tuple(int(x) for x in simplejson.__version__.split(".")[:2])


def _run(fn, value, fmt=str):
    try:
        return "ok", fmt(fn(value))
    except Exception as e:
        return "error", str(e)


def _err(fn, value):
    try:
        fn(value)
    except Exception as e:
        return str(e)
    raise AssertionError("no error")


class MarshalApi(unittest.TestCase):
    """The AWS-facing functions, on whichever codec this interpreter has."""

    def test_response(self):
        self.assertEqual((b"raw", "application/unknown"), marshal.marshal_response(b"raw"))
        self.assertEqual((b'{"a": 1}', "application/json"), marshal.marshal_response({"a": 1}))
        expected = b'"\\u00e9"' if sys.version_info < (3, 12) else '"\u00e9"'.encode()
        self.assertEqual(expected, marshal.marshal_response("\u00e9")[0])

    def test_marshal_error(self):
        with self.assertRaises(FaultException) as cm:
            marshal.marshal_response({1, 2})
        self.assertEqual("Runtime.MarshalError", cm.exception.exception_type)
        self.assertEqual("Unable to marshal response: Object of type set is not JSON serializable", cm.exception.msg)

    def test_unmarshal(self):
        self.assertEqual(b"\xff\x00", marshal.unmarshal_request(b"\xff\x00", "application/octet-stream"))
        self.assertEqual(b"{}", marshal.unmarshal_request(b"{}", None))
        self.assertEqual(b"{}", marshal.unmarshal_request(b"{}", "application/json; charset=utf-8"))
        self.assertEqual({"a": [1]}, marshal.unmarshal_request(b'{"a": [1]}', "application/json"))
        with self.assertRaises(FaultException) as cm:
            marshal.unmarshal_request(b'{"a": 1}x', "application/json")
        self.assertEqual(
            "Unable to unmarshal input: Extra data: line 1 column 9 - line 1 column 10 (char 8 - 9)", cm.exception.msg
        )
        self.assertEqual("Runtime.UnmarshalError", cm.exception.exception_type)

    def test_ensure_ascii_rule(self):
        import os

        saved = os.environ.get("AWS_EXECUTION_ENV")
        try:
            os.environ["AWS_EXECUTION_ENV"] = "AWS_Lambda_python3.11"
            self.assertTrue(marshal._ensure_ascii())
            os.environ["AWS_EXECUTION_ENV"] = "AWS_Lambda_python3.12"
            self.assertFalse(marshal._ensure_ascii())
            os.environ["AWS_EXECUTION_ENV"] = "AWS_Lambda_nodejs22.x"
            self.assertEqual(sys.version_info < (3, 12), marshal._ensure_ascii())
            del os.environ["AWS_EXECUTION_ENV"]
            self.assertEqual(sys.version_info < (3, 12), marshal._ensure_ascii())
        finally:
            if saved is None:
                os.environ.pop("AWS_EXECUTION_ENV", None)
            else:
                os.environ["AWS_EXECUTION_ENV"] = saved


if __name__ == "__main__":
    unittest.main()
