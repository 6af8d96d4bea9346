"""The worker protocol through a real worker process: handshake, fds, init outcomes, invokes, exits,
protocol errors (docs/protocol.md)."""

import json
import os
import unittest

from .helpers import TaskRoot
from .workerproc import Worker, base_env, handshake, invoke_msg
from tandem import frames

HANDLER = """
import os, sys

def lambda_handler(event, context):
    return {
        "event": event,
        "env_fds": [k for k in os.environ if k.startswith("TANDEM_FD")],
        "mode": os.environ.get("TANDEM_MODE"),
        "stdout_type": type(sys.stdout).__name__,
        "stderr_type": type(sys.stderr).__name__,
        "path0": sys.path[0],
        "rid": context.aws_request_id,
    }

def exits(event, context):
    print("bye")
    sys.exit(event["code"])

def not_callable_target(event, context):
    pass

def one_arg(event):
    return event

not_callable = {"a": 1}

def interrupted(event, context):
    raise KeyboardInterrupt()

def paths(event, context):
    import vendored_mod
    return {"path": sys.path, "pythonpath": os.environ.get("PYTHONPATH"), "vendored": vendored_mod.X}

def trace(event, context):
    return [os.environ.get("_X_AMZN_TRACE_ID"), context.tenant_id, context._epoch_deadline_time_in_ms]
"""

FDS = """
import os
def lambda_handler(event, context):
    fds = sorted(int(x) for x in os.listdir("/proc/self/fd"))
    flags = {}
    for fd in event["fds"]:
        try:
            import fcntl
            flags[str(fd)] = bool(fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC)
        except OSError:
            flags[str(fd)] = None
    return flags
"""


class WorkerProtocol(unittest.TestCase):
    maxDiff = None

    def start(self, root, handler="lambda_function.lambda_handler", env=None, **kw):
        w = Worker(root, base_env(root, handler, env), **kw)
        self.addCleanup(w.close)
        return w

    def test_handshake_and_invoke(self):
        with TaskRoot({"lambda_function.py": HANDLER}) as root:
            w = self.start(root)
            hello, ready = handshake(w)
            self.assertEqual("hello", hello["t"])
            self.assertEqual(1, hello["v"])
            self.assertEqual(w.proc.pid, hello["pid"])
            self.assertRegex(hello["python"], r"^3\.\d+\.\d+$")
            # The interpreter's real path (behind a pyenv shim too): absolute and executable.
            self.assertTrue(os.path.isabs(hello["exe"]), hello["exe"])
            self.assertTrue(os.access(hello["exe"], os.X_OK), hello["exe"])
            self.assertEqual({"t": "ready"}, ready)
            w.send(invoke_msg("req-1", b'{"x": 1}'))
            reply = w.recv()
            self.assertEqual("result", reply["t"])
            self.assertEqual("req-1", reply["id"])
            self.assertEqual("application/json", reply["contentType"])
            body = json.loads(reply["body"])
            self.assertEqual({"x": 1}, body["event"])
            self.assertEqual([], body["env_fds"])
            self.assertEqual("Unbuffered", body["stdout_type"])
            self.assertEqual("Unbuffered", body["stderr_type"])
            self.assertEqual(root, body["path0"])
            self.assertEqual("req-1", body["rid"])
            w.close_input()
            self.assertEqual(0, w.wait())

    def test_trace_env_and_empty_headers(self):
        with TaskRoot({"lambda_function.py": HANDLER}) as root:
            w = self.start(root, "lambda_function.trace")
            handshake(w)
            w.send(invoke_msg("r1", b"{}", traceId="Root=1", tenantId="t", deadlineMs=1795754822644.0))
            self.assertEqual(b'["Root=1", "t", 1795754822644]', w.recv()["body"])
            w.send(invoke_msg("r2", b"{}", traceId="", tenantId=""))
            self.assertEqual(b"[null, null,", w.recv()["body"][:12])
            w.send(invoke_msg("r3", b"{}", traceId=None, deadlineMs=None))
            self.assertEqual(b"[null, null, 0]", w.recv()["body"])

    def test_default_fds_moved_away_and_cloexec(self):
        # The pipes arrive on fds 3/4 and are moved to free fds from 200 up (close-on-exec): 3 and 4 are
        # free for the function, as on AWS's runtime, and code using them by number cannot hit the pipes.
        with TaskRoot({"lambda_function.py": FDS}) as root:
            w = self.start(root, default_fds=True)
            hello, _ = handshake(w)
            fd_in = hello["inFd"]
            self.assertGreaterEqual(fd_in, 200)
            w.send(invoke_msg("r", json.dumps({"fds": [3, 4, fd_in, fd_in + 1]}).encode()))
            reply = w.recv()
            self.assertEqual("result", reply["t"], reply)
            expected = {"3": None, "4": None, str(fd_in): True, str(fd_in + 1): True}
            self.assertEqual(expected, json.loads(reply["body"]))
            w.send({"t": "shutdown"})
            self.assertEqual(0, w.wait())

    def test_python_prefix_and_nested_handler(self):
        files = {"pkg/mod.py": "def h(event, context):\n    return __name__\n"}
        with TaskRoot(files) as root:
            w = self.start(root, "python:pkg/mod.h")
            self.assertEqual("ready", handshake(w)[1]["t"])
            w.send(invoke_msg("r", b"{}"))
            self.assertEqual(b'"pkg.mod"', w.recv()["body"])

    def test_sys_exit_in_handler(self):
        with TaskRoot({"lambda_function.py": HANDLER}) as root:
            w = self.start(root, "lambda_function.exits")
            handshake(w)
            w.send(invoke_msg("r", b'{"code": 7}'))
            self.assertIsNone(w.recv())
            self.assertEqual(7, w.wait())
            self.assertEqual(b"bye\n", w.stdout())

    def test_keyboard_interrupt_is_not_caught(self):
        import signal

        with TaskRoot({"lambda_function.py": HANDLER}) as root:
            w = self.start(root, "lambda_function.interrupted")
            handshake(w)
            w.send(invoke_msg("r", b"{}"))
            self.assertIsNone(w.recv())
            self.assertEqual(-signal.SIGINT, w.wait())
            self.assertEqual(b"", w.stdout())

    def test_sys_path_and_pth_files(self):
        import site

        from . import RUNTIME_DIR

        files = {"lambda_function.py": HANDLER, "vendor/vendored_mod.py": "X = 42\n", "extra.pth": "vendor\n"}
        with TaskRoot(files) as root:
            env = {"PYTHONPATH": None}
            w = self.start(root, "lambda_function.paths", env=env)
            handshake(w)
            w.send(invoke_msg("r", b"{}"))
            body = json.loads(w.recv()["body"])
            self.assertEqual(root, body["path"][0])
            self.assertRegex(body["path"][1], r"^/opt/python/lib/python3\.\d+/site-packages$")
            self.assertEqual("/opt/python", body["path"][2])
            # Then the interpreter's site-packages (as AWS's /var/lang/lib/python3.11/site-packages), then the
            # runtime dir (as AWS's /var/runtime), which is also what child processes get as PYTHONPATH.
            site_dirs = site.getsitepackages()
            runtime_at = body["path"].index(RUNTIME_DIR)
            self.assertTrue(all(p in site_dirs for p in body["path"][3:runtime_at]), body["path"])
            self.assertEqual(RUNTIME_DIR, body["pythonpath"])
            self.assertEqual(42, body["vendored"])

    def test_started_through_a_symlink(self):
        # Python puts the symlink-free folder of the script on sys.path: it goes too, only lib/ stays.
        from .workerproc import BRIDGE_DIR

        with TaskRoot({"lambda_function.py": HANDLER, "vendor/vendored_mod.py": "X = 1\n", "x.pth": "vendor\n"}) as root:
            link = os.path.join(root, "runtime-link")
            os.symlink(BRIDGE_DIR, link)
            w = self.start(root, "lambda_function.paths", script=os.path.join(link, "worker.py"))
            handshake(w)
            w.send(invoke_msg("r", b"{}"))
            body = json.loads(w.recv()["body"])
            self.assertNotIn(BRIDGE_DIR, body["path"])
            self.assertNotIn(link, body["path"])
            self.assertIn(os.path.join(link, "lib"), body["path"])

    def test_not_callable_reports_one_runtime_frame(self):
        with TaskRoot({"lambda_function.py": HANDLER}) as root:
            for handler, message in (
                ("lambda_function.not_callable", "'dict' object is not callable"),
                ("lambda_function.one_arg", "one_arg() takes 1 positional argument but 2 were given"),
            ):
                w = self.start(root, handler)
                handshake(w)
                w.send(invoke_msg("r", b"{}"))
                reply = w.recv()
                self.assertEqual("error", reply["t"])
                body = json.loads(reply["body"])
                self.assertEqual(message, body["errorMessage"])
                self.assertEqual("TypeError", body["errorType"])
                self.assertEqual(1, len(body["stackTrace"]))
                xray = json.loads(reply["xrayCause"])
                self.assertEqual(1, len(xray["exceptions"][0]["stack"]))

    def test_handler_unset(self):
        with TaskRoot({"lambda_function.py": HANDLER}) as root:
            env = base_env(root, "x")
            del env["_HANDLER"]
            w = Worker(root, env)
            self.addCleanup(w.close)
            self.assertEqual("hello", w.recv()["t"])
            self.assertIsNone(w.recv())
            self.assertEqual(1, w.wait())
            self.assertIn(b"ValueError: Handler not set", w.stderr())

    def test_bad_start_configuration(self):
        import subprocess

        from .workerproc import PYTHON, WORKER

        with TaskRoot({"lambda_function.py": HANDLER}) as root:
            for extra, text in (
                ({"TANDEM_FD_IN": "97", "TANDEM_FD_OUT": "98"}, "tandem: TANDEM_FD_IN=97 is not an open file descriptor"),
                ({"TANDEM_FD_IN": "x"}, "tandem: TANDEM_FD_IN=x is not an open file descriptor"),
            ):
                env = base_env(root, "lambda_function.lambda_handler", extra)
                r = subprocess.run([PYTHON, WORKER], cwd=root, env=env, capture_output=True, timeout=30)
                self.assertEqual(2, r.returncode)
                self.assertIn(text, r.stderr.decode())
            r, w = os.pipe()
            self.addCleanup(os.close, r)
            env = base_env(root, "lambda_function.lambda_handler", {"TANDEM_MODE": "both", "TANDEM_FD_IN": "0", "TANDEM_FD_OUT": str(w)})
            p = subprocess.run([PYTHON, WORKER], cwd=root, env=env, capture_output=True, timeout=30, pass_fds=(w,))
            os.close(w)
            self.assertEqual(2, p.returncode)
            self.assertIn("unknown TANDEM_MODE 'both'", p.stderr.decode())

    def test_init_error_waits_then_exits_1(self):
        with TaskRoot({"lambda_function.py": "import nope_not_here\n"}) as root:
            w = self.start(root)
            _hello, outcome = handshake(w)
            self.assertEqual("initError", outcome["t"])
            self.assertEqual("Runtime.ImportModuleError", outcome["errorType"])
            self.assertEqual(
                b'{"errorMessage": "Unable to import module \'lambda_function\': No module named \'nope_not_here\'", '
                b'"errorType": "Runtime.ImportModuleError", "requestId": "", "stackTrace": []}',
                outcome["body"],
            )
            w.send({"t": "shutdown"})
            self.assertEqual(1, w.wait())
            out = w.stdout().decode()
            self.assertTrue(out.startswith("[WARNING]\t"), out)
            self.assertIn("\n[ERROR] Runtime.ImportModuleError: Unable to import module", out)

    def test_calls_mode_imports_no_handler(self):
        with TaskRoot({"mathy.py": "def add(p):\n    return p['a'] + p['b']\n"}) as root:
            env = base_env(root, "does_not_exist.handler", {"TANDEM_MODE": "calls"})
            w = Worker(root, env)
            self.addCleanup(w.close)
            self.assertEqual("ready", handshake(w)[1]["t"])
            w.send({"t": "call", "id": "c1", "fn": "mathy.add", "body": b'{"a": 2, "b": 3}', "context": None})
            self.assertEqual({"t": "result", "id": "c1", "contentType": "application/json", "body": b"5"}, w.recv())

    def test_codec_loads_before_or_after_ready(self):
        # Node's hello already waiting: the JSON codec loads after `ready`; not yet there: before it.
        # Either way the first invoke gets AWS's JSON.
        import time

        for early in (True, False):
            with self.subTest(early=early), TaskRoot({"lambda_function.py": HANDLER}) as root:
                w = self.start(root)
                if early:
                    w.send({"t": "hello", "v": 1})
                self.assertEqual("hello", w.recv()["t"])
                if not early:
                    time.sleep(0.5)  # init done; the worker waits for Node's hello
                    w.send({"t": "hello", "v": 1})
                self.assertEqual({"t": "ready"}, w.recv())
                w.send(invoke_msg("r", b'{"x": [1, 2.5, null]}'))
                reply = w.recv()
                self.assertEqual("result", reply["t"])
                self.assertEqual({"x": [1, 2.5, None]}, json.loads(reply["body"])["event"])

    # ---- protocol errors

    def expect_protocol_error(self, w, text):
        self.assertIsNone(w.recv())
        self.assertEqual(71, w.wait())
        self.assertIn(text, w.stderr().decode())
        self.assertIn("tandem: worker protocol error:", w.stderr().decode())

    def test_version_mismatch(self):
        with TaskRoot({"lambda_function.py": HANDLER}) as root:
            w = self.start(root)
            w.recv()
            w.send({"t": "hello", "v": 2})
            self.assertIsNone(w.recv())
            self.assertEqual(70, w.wait())
            self.assertIn(b"tandem: worker protocol mismatch: worker speaks 1, runtime speaks 2", w.stderr())

    def test_unknown_message_type(self):
        with TaskRoot({"lambda_function.py": HANDLER}) as root:
            w = self.start(root)
            handshake(w)
            w.send({"t": "dance"})
            self.expect_protocol_error(w, "unknown message type 'dance'")

    def test_first_frame_not_hello(self):
        with TaskRoot({"lambda_function.py": HANDLER}) as root:
            w = self.start(root)
            w.recv()
            w.send(invoke_msg("r", b"{}"))
            self.expect_protocol_error(w, "expected a hello frame first")

    def test_bad_msgpack(self):
        with TaskRoot({"lambda_function.py": HANDLER}) as root:
            w = self.start(root)
            handshake(w)
            w.send_raw(b"\x00\x00\x00\x02\xc1\x00")
            self.expect_protocol_error(w, "unsupported msgpack byte 0xc1")

    def test_not_a_map(self):
        with TaskRoot({"lambda_function.py": HANDLER}) as root:
            w = self.start(root)
            handshake(w)
            w.send_raw(b"\x00\x00\x00\x01\x90")
            self.expect_protocol_error(w, "frame is not a msgpack map")

    def test_missing_field(self):
        with TaskRoot({"lambda_function.py": HANDLER}) as root:
            w = self.start(root)
            handshake(w)
            w.send({"t": "invoke", "id": "r"})
            self.expect_protocol_error(w, "'body' must be")

    def test_wrongly_typed_field(self):
        # The case: an int traceId used to crash the worker (TypeError, exit 1) mid-invocation.
        with TaskRoot({"lambda_function.py": HANDLER}) as root:
            w = self.start(root)
            handshake(w)
            w.send(invoke_msg("r", b"{}", traceId=7))
            self.expect_protocol_error(w, "invoke message: 'traceId' must be str or nil, got int")

    def test_hello_version_of_another_type(self):
        with TaskRoot({"lambda_function.py": HANDLER}) as root:
            w = self.start(root)
            w.recv()
            w.send({"t": "hello", "v": "1"})
            self.assertIsNone(w.recv())
            self.assertEqual(70, w.wait())

    def test_oversized_frame_refused_before_reading(self):
        with TaskRoot({"lambda_function.py": HANDLER}) as root:
            w = self.start(root, env={"TANDEM_MAX_FRAME_BYTES": "1000"})
            handshake(w)
            w.send_raw((1001).to_bytes(4, "big"))  # no body follows: refused on the length alone
            self.expect_protocol_error(w, "frame of 1001 bytes exceeds the limit of 1000 bytes")

    def test_truncated_frame(self):
        with TaskRoot({"lambda_function.py": HANDLER}) as root:
            w = self.start(root)
            handshake(w)
            w.send_raw(b"\x00\x00\x00\x10\x81")
            w.close_input()
            self.expect_protocol_error(w, "EOF inside a frame")

    def test_oversized_result_is_an_error(self):
        files = {"lambda_function.py": "def lambda_handler(e, c):\n    return 'x' * 5000\n"}
        with TaskRoot(files) as root:
            w = self.start(root, env={"TANDEM_MAX_FRAME_BYTES": "8192"})
            handshake(w)
            w.send(invoke_msg("r", b"{}"))
            reply = w.recv()
            self.assertEqual("error", reply["t"])
            self.assertEqual("Function.ResponseSizeTooLarge", reply["errorType"])
            self.assertEqual([], json.loads(reply["body"])["stackTrace"])


class FieldTypes(unittest.TestCase):
    """Every field the worker reads is checked before use (tandem.main): a wrong type is a protocol error,
    never a crash in the middle of an invocation or a context attribute of the wrong type."""

    def test_invoke_and_call_fields(self):
        from tandem import main

        inv, call = main._check_invoke, main._check_call

        def m(**fields):
            return invoke_msg("r", b"{}", **fields)

        def c(**fields):
            return dict({"t": "call", "id": "c", "fn": "m.f", "body": b"1"}, **fields)

        cases = [
            (inv, {"t": "invoke", "id": 5, "body": b"{}"}, "invoke message: 'id' must be str, got int"),
            (inv, {"t": "invoke", "id": "r"}, "invoke message: 'body' must be bin, got nothing"),
            (inv, {"t": "invoke", "id": "r", "body": "{}"}, "'body' must be bin, got str"),
            (inv, m(traceId=7), "'traceId' must be str or nil, got int"),
            (inv, m(deadlineMs="soon"), "'deadlineMs' must be int or float or nil, got str"),
            (inv, m(deadlineMs=True), "'deadlineMs' must be int or float or nil, got bool"),
            (inv, m(functionArn=b"arn"), "'functionArn' must be str or nil, got bin"),
            (inv, m(clientContext={"a": 1}), "'clientContext' must be str or nil, got map"),
            (inv, m(cognitoIdentity=[1]), "'cognitoIdentity' must be str or nil, got list"),
            (inv, m(tenantId=1.5), "'tenantId' must be str or nil, got float"),
            (inv, m(invocationId=3), "'invocationId' must be str or nil, got int"),
            (inv, m(content_type=False), "'contentType' must be str or nil, got bool"),
            (call, c(fn=3), "call message: 'fn' must be str, got int"),
            (call, c(context="x"), "'context' must be map or nil, got str"),
            (call, c(context={"requestId": 9}), "call message context: 'requestId' must be str or nil, got int"),
            (call, c(context={"deadlineMs": "x"}), "context: 'deadlineMs' must be int or float or nil, got str"),
        ]
        for check, msg, text in cases:
            with self.subTest(text=text):
                with self.assertRaises(frames.ProtocolError) as cm:
                    check(msg)
                self.assertIn(text, str(cm.exception))

    def test_what_node_sends_passes(self):
        from tandem import main

        main._check_invoke(invoke_msg("r", b"{}"))
        main._check_invoke(invoke_msg("r", b"{}", deadlineMs=1795754822644.0, traceId=None, content_type=None))
        main._check_call({"t": "call", "id": "c", "fn": "m.f", "body": b"1", "context": None})
        ctx = {"requestId": "r", "deadlineMs": 2**40, "functionArn": "a", "traceId": None, "tenantId": None}
        main._check_call({"t": "call", "id": "c", "fn": "m.f", "body": b"1", "context": ctx})


class FrameCodec(unittest.TestCase):
    def test_roundtrip(self):
        values = [
            None, True, False, 0, 1, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**64 - 1,
            -1, -32, -33, -128, -129, -32768, -32769, -2**31, -2**31 - 1, -2**63,
            1.5, -0.0, "", "a" * 31, "b" * 32, "c" * 255, "d" * 256, "e" * 65536, "\u00e9\U0001F600",
            b"", b"x" * 255, b"y" * 256, b"z" * 65536, [], [1] * 15, [2] * 16, [3] * 65536,
            {}, {"k%d" % i: i for i in range(15)}, {"k%d" % i: i for i in range(16)},
            {"nested": {"a": [1, {"b": b"\x00"}]}},
        ]
        for v in values:
            with self.subTest(v=repr(v)[:40]):
                self.assertEqual(v, frames.decode(frames.encode(v)))

    def test_exact_bytes(self):
        self.assertEqual(b"\x81\xa1t\xa5hello", frames.encode({"t": "hello"}))
        self.assertEqual(b"\xc4\x00", frames.encode(b""))
        self.assertEqual(b"\xcf" + b"\xff" * 8, frames.encode(2**64 - 1))
        self.assertEqual(b"\xd3\x80" + b"\x00" * 7, frames.encode(-2**63))
        self.assertEqual(b"\x00\x00\x00\x04\x81\xa1t\xc0", frames.encode_frame({"t": None}))

    def test_errors(self):
        for data, text in (
            (b"\x92\x01", "truncated"),
            (b"\x01\x02", "trailing"),
            (b"\xc1", "unsupported msgpack byte"),
            (b"\x81\x01\x02", "key is not a string"),
            (b"\xa2\xff\xfe", "invalid UTF-8"),
            (b"\xdd\xff\xff\xff\xff", "truncated"),
            (b"\xd4\x05\x00", "unsupported msgpack ext type 5"),
        ):
            with self.subTest(data=data):
                with self.assertRaises(frames.ProtocolError) as cm:
                    frames.decode(data)
                self.assertIn(text, str(cm.exception))
        self.assertIsNone(frames.decode(b"\xd4\x00\x00"))
        self.assertEqual(0.5, frames.decode(b"\xca\x3f\x00\x00\x00"))
        with self.assertRaises(ValueError):
            frames.encode(2**64)


if __name__ == "__main__":
    unittest.main()
