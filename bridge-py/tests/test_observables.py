"""What a handler can observe of the runtime's own objects, compared with a recorded portrait
(tests/data/observables.json): the context object and its parts, the wrapped stdout/stderr, the root logger's
handler, filter, formatter and log sink (class names, bases, attributes, __slots__, dir() beyond `object`'s,
vars() order, repr, signatures), and the bytes of the log records and uncaught-error records in TEXT, JSON and
telemetry-fd mode. The portrait holds nothing that differs by Python version, so it is the same on 3.9-3.13.

These objects copy AWS's observable surface (the conformance cases pin the public parts against AWS's own
recordings); the portrait pins the rest, so the code behind them can change without a handler noticing.

    python3 -m tests.test_observables             # the test (also run by `node scripts/pytest.mjs`)
    python3 -m tests.test_observables --write     # record the portrait again (review the diff!)
"""

import json
import os
import re
import sys
import tempfile
import unittest

from .helpers import TaskRoot
from .workerproc import Worker, base_env, handshake, invoke_msg

PORTRAIT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "observables.json")

HANDLER = r'''
import inspect
import logging
import sys
import time

logging.getLogger("init").error("at import")


def describe_class(cls, beyond=object):
    own = sorted(set(dir(cls)) - set(dir(beyond)) - {"__firstlineno__", "__static_attributes__"})
    return {
        "name": cls.__name__,
        "module": cls.__module__,
        "bases": [b.__module__ + "." + b.__qualname__ for b in cls.__bases__],
        "own": own,
        "slots": getattr(cls, "__slots__", None),
        "doc": cls.__doc__ is not None,
    }


def methods(cls, names):
    out = {}
    for name in names:
        fn = getattr(cls, name, None)
        if callable(fn):
            try:
                out[name] = str(inspect.signature(fn))
            except (TypeError, ValueError):
                out[name] = "<no signature>"
    return out


def portrait(event, context):
    root = logging.getLogger()
    handler = root.handlers[0]
    sink = handler.log_sink
    formatter = handler.formatter
    ctx_cls = type(context)
    parts = [context.identity, context.client_context, context.client_context and context.client_context.client]
    out = {
        "context": {
            "class": describe_class(ctx_cls),
            "init": str(inspect.signature(ctx_cls.__init__)),
            "methods": methods(ctx_cls, ["get_remaining_time_in_millis", "log", "__repr__"]),
            "dir": sorted(set(dir(context)) - set(dir(object())) - {"__firstlineno__", "__static_attributes__"}),
            "vars": list(vars(context)),
            "repr": repr(context),
            "remaining_type": type(context.get_remaining_time_in_millis()).__name__,
            "parts": [None if p is None else {"class": describe_class(type(p)), "repr": repr(p)} for p in parts],
        },
        "streams": {
            name: {
                "class": describe_class(type(stream)),
                "vars": list(vars(stream)),
                "wraps_original": stream.stream is getattr(sys, "__%s__" % name),
                "passes_through": [hasattr(stream, a) for a in ("buffer", "encoding", "fileno", "isatty")],
                "methods": methods(type(stream), ["write", "writelines", "__getattr__", "__enter__", "__exit__"]),
            }
            for name, stream in (("stdout", sys.stdout), ("stderr", sys.stderr))
        },
        "logging": {
            "root_level": root.level,
            "handlers": len(root.handlers),
            "handler": describe_class(type(handler), logging.Handler),
            "handler_methods": methods(type(handler), ["__init__", "emit"]),
            "handler_has_log_sink": "log_sink" in vars(handler),
            "handler_level": handler.level,
            "filters": [describe_class(type(f), logging.Filter) for f in handler.filters],
            "formatter": describe_class(type(formatter), logging.Formatter),
            "formatter_vars": sorted(set(vars(formatter)) - set(vars(logging.Formatter()))),
            "fmt": formatter._fmt,
            "datefmt": formatter.datefmt,
            "converter_is_gmtime": logging.Formatter.converter is time.gmtime,
            "sink": describe_class(type(sink)),
            "sink_vars": list(vars(sink)),
            "sink_methods": methods(type(sink), ["log", "log_error", "__enter__", "__exit__"]),
        },
    }
    return out


def records(event, context):
    log = logging.getLogger("app.records")
    log.setLevel(logging.DEBUG)
    log.debug("debug %s", 1)
    log.info("info\nsecond line")
    log.warning("warning with unicode caf\u00e9 \u2615")
    log.log(25, "custom level 25")
    log.error("error with extra", extra={"order_id": 7, "tags": ["a", "b"]})
    log.critical("critical")
    try:
        raise ValueError("logged")
    except ValueError:
        log.exception("exception")
    context.log("context.log line\n")
    context.log({"not": "a string"})
    print("printed")
    if event.get("fail"):
        raise KeyError("failed")
    return "ok"
'''

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")


def normalise(text, root):
    return TIMESTAMP.sub("<TS>", text.replace(root, "/var/task"))


def read_frames(data, root):
    frames = []
    while data:
        kind = int.from_bytes(data[0:4], "big")
        size = int.from_bytes(data[4:8], "big")
        frames.append(["%08X" % kind, normalise(data[16 : 16 + size].decode("utf-8"), root)])
        data = data[16 + size :]
    return frames


def take_portrait():
    """The portrait of the runtime under test (a real worker per configuration)."""
    out = {}
    configs = {
        "text": {},
        "text_level": {"AWS_LAMBDA_LOG_LEVEL": "debug"},
        "json": {"AWS_LAMBDA_LOG_FORMAT": "JSON"},
        "json_level": {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "WARN"},
    }
    headers = {
        "clientContext": json.dumps(
            {"client": {"installation_id": "i-1", "app_title": "T"}, "custom": {"k": 1}, "env": {"e": "x"}}
        ),
        "cognitoIdentity": json.dumps({"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"}),
        "tenantId": "tenant-1",
    }
    for name, env in configs.items():
        for telemetry in (False, True):
            key = name + ("+telemetry" if telemetry else "")
            with TaskRoot({"lambda_function.py": HANDLER}) as root:
                sink = tempfile.TemporaryFile()
                extra_fds = ()
                env = dict(env)
                if telemetry:
                    env["_LAMBDA_TELEMETRY_LOG_FD"] = str(sink.fileno())
                    extra_fds = (sink.fileno(),)
                w = Worker(root, base_env(root, "lambda_function.portrait", env), extra_fds=extra_fds)
                try:
                    if handshake(w)[1]["t"] != "ready":
                        raise AssertionError("worker not ready: %s" % w.stderr())
                    w.send(invoke_msg("rid-portrait", b"{}", **headers))
                    described = json.loads(normalise(w.recv()["body"].decode("utf-8"), root))
                    w.close_input()
                    w.wait()
                finally:
                    w.close()
                w = Worker(root, base_env(root, "lambda_function.records", env), extra_fds=extra_fds)
                try:
                    handshake(w)
                    replies = []
                    for i, event in enumerate(({}, {"fail": True})):
                        w.send(invoke_msg("rid-%d" % i, json.dumps(event).encode()))
                        reply = w.recv()
                        replies.append({k: reply[k] for k in ("t", "errorType") if k in reply})
                    w.close_input()
                    w.wait()
                    stdout = normalise(w.stdout().decode("utf-8"), root)
                finally:
                    w.close()
                sink.seek(0)
                frames = read_frames(sink.read(), root)
                sink.close()
            out[key] = {"portrait": described, "replies": replies, "stdout": stdout.split("\n"), "frames": frames}
    return out


class Observables(unittest.TestCase):
    maxDiff = None

    def test_portrait(self):
        with open(PORTRAIT) as f:
            expected = json.load(f)
        got = take_portrait()
        self.assertEqual(sorted(expected), sorted(got))
        for key in expected:
            for part in expected[key]:
                with self.subTest(config=key, part=part):
                    self.assertEqual(expected[key][part], got[key][part])


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        os.makedirs(os.path.dirname(PORTRAIT), exist_ok=True)
        with open(PORTRAIT, "w") as f:
            json.dump(take_portrait(), f, indent=1, ensure_ascii=False, sort_keys=False)
            f.write("\n")
        print("wrote", PORTRAIT)
    else:
        unittest.main()
