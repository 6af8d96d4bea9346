"""`call` messages through a real worker: the one-or-two-parameter rule, caching, errors."""

import json
import unittest

from .helpers import TaskRoot
from .workerproc import Worker, base_env, handshake

MODULES = {
    "pkg/__init__.py": "",
    "pkg/tools.py": """
        import decimal
        LOADS = []
        LOADS.append(1)

        def one(payload):
            return {"got": payload, "loads": len(LOADS)}

        def two(payload, context):
            return {"rid": context.aws_request_id, "arn": context.invoked_function_arn,
                    "tenant": context.tenant_id, "left": context.get_remaining_time_in_millis() > 0}

        def defaulted(payload, context=None):
            return context is not None

        def star(*args):
            return len(args)

        def price(payload):
            return decimal.Decimal("1.10")

        def boom(payload):
            raise KeyError("nope")

        class Thing:
            def __call__(self, payload):
                return "called"

        thing = Thing()
        value = 3
    """,
}


class Calls(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.root_ctx = TaskRoot(MODULES)
        root = self.root_ctx.__enter__()
        self.addCleanup(self.root_ctx.__exit__)
        self.w = Worker(root, base_env(root, "unused.handler", {"TANDEM_MODE": "calls"}))
        self.addCleanup(self.w.close)
        self.assertEqual("ready", handshake(self.w)[1]["t"])

    def call(self, fn, payload, context=None, raw=None):
        self.w.send({"t": "call", "id": "c", "fn": fn, "body": raw if raw is not None else json.dumps(payload).encode(), "context": context})
        return self.w.recv()

    def test_one_param(self):
        r = self.call("pkg.tools.one", {"a": [1]})
        self.assertEqual({"t": "result", "id": "c", "contentType": "application/json", "body": b'{"got": {"a": [1]}, "loads": 1}'}, r)
        r = self.call("pkg/tools.one", None)  # slash form, module cached: imported once
        self.assertEqual(b'{"got": null, "loads": 1}', r["body"])

    def test_two_params_get_context(self):
        ctx = {"requestId": "rid-9", "deadlineMs": 9999999999999, "functionArn": "arn:x", "traceId": None, "tenantId": "t1"}
        r = self.call("pkg.tools.two", {}, ctx)
        self.assertEqual({"rid": "rid-9", "arn": "arn:x", "tenant": "t1", "left": True}, json.loads(r["body"]))
        self.assertEqual(b"true", self.call("pkg.tools.defaulted", 1)["body"])
        self.assertEqual(b"2", self.call("pkg.tools.star", 1)["body"])
        self.assertEqual(b'"called"', self.call("pkg.tools.thing", 1)["body"])

    def test_same_encoder(self):
        self.assertEqual(b"1.10", self.call("pkg.tools.price", None)["body"])

    def test_errors(self):
        r = self.call("pkg.tools.boom", {}, {"requestId": "rid-1"})
        self.assertEqual("error", r["t"])
        self.assertEqual("KeyError", r["errorType"])
        body = json.loads(r["body"])
        self.assertEqual("'nope'", body["errorMessage"])
        self.assertEqual("rid-1", body["requestId"])
        self.assertEqual(1, len(body["stackTrace"]))
        self.assertIn("in boom", body["stackTrace"][0])
        r = self.call("pkg.tools.missing", {})
        self.assertEqual("AttributeError", r["errorType"])
        self.assertEqual("module 'pkg.tools' has no function 'missing'", json.loads(r["body"])["errorMessage"])
        r = self.call("pkg.tools.value", {})
        self.assertEqual("TypeError", r["errorType"])
        r = self.call("nomodule.fn", {})
        self.assertEqual("ModuleNotFoundError", r["errorType"])
        r = self.call("pkg.tools.one", None, raw=b"{bad")
        self.assertEqual("Runtime.UnmarshalError", r["errorType"])
        # the worker is still fine
        self.assertEqual("result", self.call("pkg.tools.one", 1)["t"])


if __name__ == "__main__":
    unittest.main()
