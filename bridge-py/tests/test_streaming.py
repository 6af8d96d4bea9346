"""Streaming responses through a real worker: generators, iterators, async generators, StreamingResponse,
errors before and after the first chunk, chunk splitting (docs/streaming-python.md)."""

import json
import unittest

from .helpers import TaskRoot
from .workerproc import Worker, base_env, handshake, invoke_msg

HANDLERS = """
import asyncio
import tandem

def gen(event, context):
    yield "hello "
    yield b"world"
    yield ""
    yield "\\u00e9"

def iterator(event, context):
    return iter([b"a", b"b"])

async def agen_body():
    for i in range(3):
        await asyncio.sleep(0)
        yield "t%d " % i

def agen(event, context):
    return agen_body()

def http(event, context):
    return tandem.StreamingResponse(
        (w for w in ["one ", "two"]),
        status_code=201,
        headers={"x-custom": "yes"},
        cookies=["a=1"],
        content_type="text/plain",
    )

def plain_ct(event, context):
    return tandem.StreamingResponse([b"x"], content_type="text/event-stream")

def single(event, context):
    return tandem.StreamingResponse("whole body", status_code=200)

def fails_first(event, context):
    raise_it = True
    if raise_it:
        raise ValueError("before any chunk")
    yield b"never"

def fails_later(event, context):
    yield b"partial;"
    raise RuntimeError("mid-stream failure")

def bad_item(event, context):
    yield 5

def big(event, context):
    yield b"x" * (2 * 1024 * 1024 + 10)

def not_streamed(event, context):
    return {"a": (1, 2)}

def slow_reader(event, context):
    # 1 MiB items: a pipe holds far less, so each write blocks until Node (the test) reads.
    for i in range(8):
        with open(event["progress"], "w") as f:
            f.write(str(i))
        yield b"%d" % i * (1024 * 1024)

def coalesced(event, context):
    # The test reads nothing until "done": item 1 fills the pipe, so the 100 small items after it wait
    # behind that write and must leave as one frame.
    yield b"a"
    yield b"B" * (1024 * 1024)
    for i in range(100):
        yield b"%063d," % i
    with open(event["progress"], "w") as f:
        f.write("done")

def lockstep(event, context):
    # Each item is yielded only once the test has received the one before: a consumer that keeps up.
    import os, time
    for i in range(3):
        if i:
            deadline = time.monotonic() + 10
            while not os.path.exists(event["progress"] + str(i)) and time.monotonic() < deadline:
                time.sleep(0.002)
        yield b"item%d" % i

def dispatch(event, context):
    return globals()[event["fn"]](event, context)
"""


class Streaming(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.root_ctx = TaskRoot({"lambda_function.py": HANDLERS})
        root = cls.root_ctx.__enter__()
        cls.worker = Worker(root, base_env(root, "lambda_function.dispatch"))
        _hello, ready = handshake(cls.worker)
        assert ready["t"] == "ready", ready
        cls.seen_stdout = 0

    @classmethod
    def tearDownClass(cls):
        cls.worker.close_input()
        assert cls.worker.wait() == 0
        cls.worker.close()
        cls.root_ctx.__exit__()

    def run_handler(self, name):
        w = self.worker
        w.send(invoke_msg("s1", json.dumps({"fn": name}).encode()))
        msgs = []
        while True:
            m = w.recv()
            self.assertIsNotNone(m)
            msgs.append(m)
            if m["t"] in ("streamEnd", "streamError", "result", "error"):
                break
        out = w.stdout()
        new = out[Streaming.seen_stdout :]
        Streaming.seen_stdout = len(out)
        return msgs, new.decode()

    def data(self, msgs):
        return b"".join(m["data"] for m in msgs if m["t"] == "chunk")

    def test_generator(self):
        msgs, _ = self.run_handler("gen")
        self.assertEqual({"t": "streamStart", "id": "s1", "contentType": "application/octet-stream"}, msgs[0])
        self.assertEqual(["chunk"] * 3, [m["t"] for m in msgs[1:-1]])  # the empty item is skipped
        self.assertEqual("hello world\u00e9".encode(), self.data(msgs))
        self.assertEqual({"t": "streamEnd", "id": "s1"}, msgs[-1])

    def test_iterator_and_async_generator(self):
        msgs, _ = self.run_handler("iterator")
        self.assertEqual(b"ab", self.data(msgs))
        self.assertEqual("streamEnd", msgs[-1]["t"])
        msgs, _ = self.run_handler("agen")
        self.assertEqual(b"t0 t1 t2 ", self.data(msgs))
        self.assertEqual("streamEnd", msgs[-1]["t"])

    def test_http_integration_prelude(self):
        msgs, _ = self.run_handler("http")
        self.assertEqual("application/vnd.awslambda.http-integration-response", msgs[0]["contentType"])
        self.assertEqual(
            b'{"statusCode":201,"headers":{"x-custom":"yes","content-type":"text/plain"},"cookies":["a=1"]}'
            + b"\0" * 8
            + b"one two",
            self.data(msgs),
        )
        msgs, _ = self.run_handler("single")
        self.assertEqual(b'{"statusCode":200}' + b"\0" * 8 + b"whole body", self.data(msgs))

    def test_plain_content_type(self):
        msgs, _ = self.run_handler("plain_ct")
        self.assertEqual("text/event-stream", msgs[0]["contentType"])
        self.assertEqual(b"x", self.data(msgs))

    def test_error_before_first_chunk(self):
        msgs, out = self.run_handler("fails_first")
        self.assertEqual(["streamStart", "streamError"], [m["t"] for m in msgs])
        err = msgs[-1]
        self.assertEqual("ValueError", err["errorType"])
        body = json.loads(err["body"])
        self.assertEqual(["errorMessage", "errorType", "requestId", "stackTrace"], list(body))
        self.assertEqual("before any chunk", body["errorMessage"])
        self.assertEqual("s1", body["requestId"])
        self.assertEqual(1, len(body["stackTrace"]))  # the generator's own frame only
        self.assertIn(", in fails_first\n", body["stackTrace"][0])
        self.assertTrue(out.startswith("[ERROR] ValueError: before any chunk\rTraceback (most recent call last):\r"))

    def test_error_after_first_chunk(self):
        msgs, out = self.run_handler("fails_later")
        self.assertEqual(["streamStart", "chunk", "streamError"], [m["t"] for m in msgs])
        self.assertEqual(b"partial;", msgs[1]["data"])
        body = json.loads(msgs[-1]["body"])
        self.assertEqual("RuntimeError", body["errorType"])
        self.assertEqual(1, len(body["stackTrace"]))  # the generator's own frame only
        self.assertIn(", in fails_later\n", body["stackTrace"][0])
        self.assertIn("[ERROR] RuntimeError: mid-stream failure", out)

    def test_bad_item_type(self):
        msgs, _ = self.run_handler("bad_item")
        self.assertEqual("TypeError", msgs[-1]["errorType"])
        self.assertEqual("a streamed response must yield bytes or str, not int", json.loads(msgs[-1]["body"])["errorMessage"])

    def test_big_item_is_split(self):
        msgs, _ = self.run_handler("big")
        sizes = [len(m["data"]) for m in msgs if m["t"] == "chunk"]
        self.assertEqual([1024 * 1024, 1024 * 1024, 10], sizes)

    def test_backpressure_pauses_the_generator(self):
        import os
        import tempfile
        import time

        fd, progress = tempfile.mkstemp()
        os.close(fd)
        self.addCleanup(os.unlink, progress)
        w = self.worker
        w.send(invoke_msg("s1", json.dumps({"fn": "slow_reader", "progress": progress}).encode()))
        self.assertEqual("streamStart", w.recv()["t"])
        # Not reading: the generator must stop at its first blocked write (item 0, or 1 once the pipe
        # took part of item 0). Wait until it has started, give it ample time to run ahead if it could.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and open(progress).read() == "":
            time.sleep(0.01)
        time.sleep(0.5)
        self.assertIn(open(progress).read(), ("0", "1"))
        total = 0
        while True:
            m = w.recv()
            if m["t"] != "chunk":
                break
            total += len(m["data"])
        self.assertEqual("streamEnd", m["t"])
        self.assertEqual(8 * 1024 * 1024, total)
        self.assertEqual("7", open(progress).read())

    def test_slow_consumer_gets_items_coalesced(self):
        import os
        import tempfile
        import time

        fd, progress = tempfile.mkstemp()
        os.close(fd)
        self.addCleanup(os.unlink, progress)
        w = self.worker
        w.send(invoke_msg("s1", json.dumps({"fn": "coalesced", "progress": progress}).encode()))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and open(progress).read() != "done":
            time.sleep(0.01)
        # The generator ran to its end although the pipe is full: the small items were gathered.
        self.assertEqual("done", open(progress).read())
        msgs = []
        while not msgs or msgs[-1]["t"] not in ("streamEnd", "streamError"):
            msgs.append(w.recv())
        self.assertEqual("streamStart", msgs[0]["t"])
        self.assertEqual("streamEnd", msgs[-1]["t"])
        chunks = [m["data"] for m in msgs if m["t"] == "chunk"]
        small = b"".join(b"%063d," % i for i in range(100))
        self.assertEqual([b"a", b"B" * (1024 * 1024), small], chunks)

    def test_fast_consumer_gets_each_item_at_once(self):
        import os
        import tempfile

        base = tempfile.mkdtemp()
        self.addCleanup(__import__("shutil").rmtree, base)
        progress = os.path.join(base, "ack")
        w = self.worker
        w.send(invoke_msg("s1", json.dumps({"fn": "lockstep", "progress": progress}).encode()))
        self.assertEqual("streamStart", w.recv()["t"])
        for i in range(3):
            # Item i is not followed by anything until we ack it: it must arrive on its own.
            m = w.recv()
            self.assertEqual({"t": "chunk", "id": "s1", "data": b"item%d" % i}, m)
            open(progress + str(i + 1), "w").close()
        self.assertEqual("streamEnd", w.recv()["t"])

    def test_tuple_result_is_not_streamed(self):
        msgs, _ = self.run_handler("not_streamed")
        self.assertEqual([{"t": "result", "id": "s1", "contentType": "application/json", "body": b'{"a": [1, 2]}'}], msgs)


if __name__ == "__main__":
    unittest.main()
