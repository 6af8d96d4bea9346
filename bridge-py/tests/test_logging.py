"""Logging through a real worker: telemetry-fd frames, TEXT/JSON, levels, the [ERROR] line, context.log,
request-id globals (docs/python-worker.md)."""

import json
import tempfile
import unittest

from .helpers import TaskRoot
from .workerproc import Worker, base_env, handshake, invoke_msg

HANDLER = """
import logging
logging.getLogger().critical("critical")

def lambda_handler(event, context):
    logging.getLogger("x").info("info %s", 1)
    context.log("ctx line")
    print("printed")
    if event.get("fail"):
        raise ValueError("bad \\u00e9")
    return "ok"
"""


def read_frames(data):
    out = []
    while data:
        ftype = int.from_bytes(data[0:4], "big")
        n = int.from_bytes(data[4:8], "big")
        ts = int.from_bytes(data[8:16], "big")
        out.append((ftype, data[16 : 16 + n].decode("utf-8"), ts))
        data = data[16 + n :]
    return out


class Telemetry(unittest.TestCase):
    maxDiff = None

    def run_worker(self, env, events):
        with TaskRoot({"lambda_function.py": HANDLER}) as root:
            sink = tempfile.TemporaryFile()
            self.addCleanup(sink.close)
            fd = sink.fileno()
            env = dict(env, _LAMBDA_TELEMETRY_LOG_FD=str(fd))
            w = Worker(root, base_env(root, "lambda_function.lambda_handler", env), extra_fds=(fd,))
            self.addCleanup(w.close)
            self.assertEqual("ready", handshake(w)[1]["t"])
            for i, event in enumerate(events):
                w.send(invoke_msg("rid-%d" % i, json.dumps(event).encode()))
                w.recv()
            w.close_input()
            self.assertEqual(0, w.wait())
            sink.seek(0)
            return read_frames(sink.read()), w.stdout().decode()

    def test_text_no_level(self):
        frames, stdout = self.run_worker({}, [{}, {"fail": True}])
        self.assertEqual("printed\nprinted\n", stdout)
        types = [f[0] for f in frames]
        self.assertEqual([0xA55A0003, 0xA55A0003, 0xA55A0003, 0xA55A0017], types)
        self.assertEqual(46, len(frames[0][1].encode()))
        self.assertRegex(frames[0][1], r"^\[CRITICAL\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t\tcritical\n$")
        self.assertEqual("ctx line", frames[1][1])
        self.assertTrue(
            frames[3][1].startswith("[ERROR] ValueError: bad \u00e9\nTraceback (most recent call last):\n\u00a0\u00a0File "),
            frames[3][1],
        )
        self.assertFalse(frames[3][1].endswith("\n"))

    def test_text_with_level(self):
        frames, _ = self.run_worker({"AWS_LAMBDA_LOG_LEVEL": "info"}, [{}])
        self.assertEqual([0xA55A001B, 0xA55A000F, 0xA55A0003], [f[0] for f in frames])
        self.assertIn("\trid-0\tinfo 1\n", frames[1][1])

    def test_json(self):
        frames, _ = self.run_worker({"AWS_LAMBDA_LOG_FORMAT": "json", "AWS_LAMBDA_LOG_LEVEL": "TRACE"}, [{"fail": True}])
        self.assertEqual([0xA55A001A, 0xA55A000E, 0xA55A0003, 0xA55A0016], [f[0] for f in frames])
        first = json.loads(frames[0][1])
        self.assertEqual(["timestamp", "level", "message", "logger", "requestId"], list(first))
        self.assertEqual(117, len(frames[0][1].encode()))  # AWS's upstream test: 133-byte frame, 117-byte message
        err = frames[-1][1]
        self.assertTrue(err.startswith('{"timestamp": "'), err)
        doc = json.loads(err)
        self.assertEqual(["timestamp", "log_level", "errorMessage", "errorType", "requestId", "stackTrace"], list(doc))
        self.assertEqual("rid-0", doc["requestId"])


class StdoutLogging(unittest.TestCase):
    maxDiff = None

    def test_init_warning_in_json_and_error_level_filter(self):
        with TaskRoot({"lambda_function.py": "raise KeyError('k')\n"}) as root:
            for env, expect_warning in (({"AWS_LAMBDA_LOG_FORMAT": "JSON"}, True), ({"AWS_LAMBDA_LOG_LEVEL": "ERROR"}, False)):
                w = Worker(root, base_env(root, "lambda_function.h", env))
                self.addCleanup(w.close)
                self.assertEqual("initError", handshake(w)[1]["t"])
                w.close_input()
                self.assertEqual(1, w.wait())
                lines = w.stdout().decode().split("\n")
                if expect_warning:
                    warning = json.loads(lines[0])
                    self.assertEqual("WARNING", warning["level"])
                    self.assertTrue(warning["message"].startswith("LAMBDA_WARNING: Unhandled exception."))
                    self.assertEqual("", warning["requestId"])
                    err = json.loads(lines[1])
                    self.assertEqual("ERROR", err["log_level"])
                    self.assertEqual("KeyError", err["errorType"])
                else:
                    self.assertTrue(lines[0].startswith("[ERROR] KeyError: 'k'\rTraceback"), lines[0])
                    self.assertEqual(2, len(lines))

    def test_request_id_kept_between_invokes_and_utc(self):
        files = {
            "lambda_function.py": """
                import logging, time
                def h(event, context):
                    logging.getLogger().warning("w")
                    return [logging.Formatter.converter is time.gmtime, logging.getLogger().level]
            """
        }
        with TaskRoot(files) as root:
            w = Worker(root, base_env(root, "lambda_function.h"))
            self.addCleanup(w.close)
            handshake(w)
            w.send(invoke_msg("rid-a", b"{}"))
            self.assertEqual(b"[true, 30]", w.recv()["body"])
            w.close_input()
            w.wait()
            self.assertRegex(w.stdout().decode(), r"^\[WARNING\]\t\S+Z\trid-a\tw\n$")


class ContextObject(unittest.TestCase):
    def test_context(self):
        import time

        from tandem.bootstrap import context_for
        from tandem.errors import FaultException

        def context(client_context, cognito_identity, deadline, arn, tenant_id):
            headers = {"clientContext": client_context, "cognitoIdentity": cognito_identity}
            return context_for(dict(headers, deadlineMs=deadline, functionArn=arn), "rid", tenant_id)

        ctx = context(None, None, int(time.time() * 1000) + 5000, "arn", None)
        self.assertTrue(0 < ctx.get_remaining_time_in_millis() <= 5000)
        self.assertIsNone(ctx.client_context)
        self.assertIsNone(ctx.identity.cognito_identity_id)
        ctx = context(None, None, 1, None, "t")
        self.assertEqual(0, ctx.get_remaining_time_in_millis())
        self.assertEqual("", ctx.invoked_function_arn)
        cc = '{"custom": {"a": 1}, "client": {"app_title": "T"}}'
        ctx = context(cc, '{"cognitoIdentityId": "i"}', 0, "arn", None)
        self.assertEqual({"a": 1}, ctx.client_context.custom)
        self.assertIsNone(ctx.client_context.env)
        self.assertEqual("T", ctx.client_context.client.app_title)
        self.assertIsNone(ctx.client_context.client.installation_id)
        self.assertEqual("i", ctx.identity.cognito_identity_id)
        self.assertIn("client=Client([installation_id=None,app_title=T,", repr(ctx))
        self.assertIsNone(context('{"custom": {}}', "", 0, "arn", None).client_context.client)
        with self.assertRaises(AttributeError):  # a Client-Context that is not a JSON object: as on AWS
            context("[1]", None, 0, "arn", None)
        with self.assertRaises(FaultException) as cm:
            context("{not json", None, 0, "", None)
        self.assertEqual(
            "Unable to parse Client Context JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
            cm.exception.msg,
        )
        self.assertEqual("Runtime.LambdaContextUnmarshalError", cm.exception.exception_type)


class LevelMapping(unittest.TestCase):
    def test_mapping(self):
        from tandem.logs import _env_level_name

        for value, name in ((None, ""), ("", ""), ("TRACE", "DEBUG"), ("trace", "TRACE"), ("warn", "WARN"), ("Fatal", "FATAL"), ("info", "INFO")):
            self.assertEqual(name, _env_level_name(value), value)


class LogError(unittest.TestCase):
    def test_text_lines(self):
        from tandem import logs

        class Sink(object):
            def log_error(self, lines):
                self.lines = lines

        sink = Sink()
        cases = [
            ({"errorType": "E", "errorMessage": "m", "stackTrace": []}, ["[ERROR] E: m", "Traceback (most recent call last):"]),
            ({"errorType": "", "errorMessage": "m", "stackTrace": []}, ["[ERROR] m", "Traceback (most recent call last):"]),
            ({"errorType": "E", "errorMessage": "", "stackTrace": None}, ["[ERROR] E"]),
            (
                {"errorType": "E", "errorMessage": "m", "stackTrace": ["  File \"f\", line 1, in g\n    x = 1\n", ""]},
                ["[ERROR] E: m", "Traceback (most recent call last):", "\u00a0\u00a0File \"f\", line 1, in g", "\u00a0\u00a0\u00a0\u00a0x = 1", ""],
            ),
        ]
        for result, lines in cases:
            logs.log_error(result, sink)
            self.assertEqual(lines, sink.lines)


if __name__ == "__main__":
    unittest.main()
