"""Frame reading and writing over real pipes: the direct body read of large frames, the prebuilt result
frame, writev of large frames, and the decoder's envelope fast paths (docs/protocol.md)."""

import os
import threading
import unittest

from tandem import frames


class Pipe(object):
    """A real pipe; a thread writes `data` into it (then closes it) while the test reads."""

    def __init__(self, data, close=True):
        self.r, self.w = os.pipe()
        self.thread = threading.Thread(target=self._feed, args=(data, close))
        self.thread.start()

    def _feed(self, data, close):
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self.w, view) :]
        except OSError:
            pass
        if close:
            os.close(self.w)

    def reader(self, max_bytes=frames.MAX_FRAME_BYTES):
        return frames.FrameReader(self.r, max_bytes)

    def join(self):
        self.thread.join(10)


def drain(fd, out):
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return
        out.append(chunk)


class FrameReading(unittest.TestCase):
    def read_all(self, data):
        p = Pipe(data)
        reader = p.reader()
        try:
            msgs = []
            while True:
                m = reader.read()
                if m is None:
                    return msgs
                msgs.append(m)
        finally:
            reader._f.close()
            p.join()

    def test_large_body_last_read_directly(self):
        body = bytes(range(256)) * 4096  # 1 MiB
        msg = {"t": "invoke", "id": "r1", "deadlineMs": 2**40, "traceId": None, "contentType": "x", "body": body}
        small = {"t": "shutdown"}
        got = self.read_all(frames.encode_frame(msg) + frames.encode_frame(small))
        self.assertEqual([msg, small], got)
        self.assertIs(bytes, type(got[0]["body"]))

    def test_large_frames_of_other_shapes(self):
        big = b"b" * (300 * 1024)
        cases = [
            {"t": "call", "id": "c", "fn": "m.f", "body": big, "context": {"requestId": "x", "deadlineMs": 5}},
            {"t": "invoke", "id": "x" * 200000, "body": b"{}"},  # large, but the last value is small
            {"t": "invoke", "clientContext": "c" * 70000, "body": big},  # the envelope outruns the peek
            {"t": "x", "list": [big, big]},
        ]
        for msg in cases:
            with self.subTest(keys=list(msg)):
                self.assertEqual([msg], self.read_all(frames.encode_frame(msg)))

    def test_eof_inside_a_large_body(self):
        frame = frames.encode_frame({"t": "invoke", "id": "r", "body": b"z" * 200000})
        p = Pipe(frame[:-10])
        reader = p.reader()
        try:
            with self.assertRaises(frames.ProtocolError) as cm:
                reader.read()
            self.assertIn("EOF inside a frame", str(cm.exception))
        finally:
            reader._f.close()
            p.join()

    def test_large_frame_without_message_type(self):
        frame = frames.encode_frame({"x": 1, "body": b"z" * 200000})
        with self.assertRaises(frames.ProtocolError) as cm:
            self.read_all(frame)
        self.assertIn("no message type", str(cm.exception))

    def test_envelope_fast_paths_match_the_general_decoder(self):
        msg = {
            "t": "invoke", "id": "8476a536-e9f4-11e8-9739-2dfe598c3fcd", "deadlineMs": 2**63 + 5, "n": 7,
            "neg": -3, "f": 1.25, "ctx": {"requestId": "\u00e9" * 40, "inner": {"a": None}}, "b": b"\x00" * 300,
            "yes": True, "list": [1, "two"],
        }
        data = frames.encode(msg)
        self.assertEqual(msg, frames.decode_message(data))
        self.assertEqual(msg, frames.decode(data))
        for cut in (len(data) - 1, len(data) - 40, 30):
            with self.subTest(cut=cut):
                with self.assertRaises(frames.ProtocolError) as cm:
                    frames.decode_message(data[:cut])
                self.assertIn("truncated", str(cm.exception))
        with self.assertRaises(frames.ProtocolError) as cm:
            frames.decode_message(b"\x81\xa1t\xa2\xff\xfe")
        self.assertIn("invalid UTF-8", str(cm.exception))


class FrameWriting(unittest.TestCase):
    def written(self, write):
        r, w = os.pipe()
        out = []
        t = threading.Thread(target=drain, args=(r, out))
        t.start()
        try:
            write(frames.FrameWriter(w))
        finally:
            os.close(w)
            t.join(10)
            os.close(r)
        return b"".join(out)

    def test_write_result_is_the_generic_frame(self):
        for rid, ct, body in (
            ("r", "application/json", b"{}"),
            ("8476a536-e9f4-11e8-9739-2dfe598c3fcd", "application/unknown", b"x" * 300),
            ("\u00e9" * 20, "text/plain; charset=utf-8", b"y" * 70000),
            ("call-1", "application/json", b"z" * (3 * 1024 * 1024)),
        ):
            with self.subTest(ct=ct, n=len(body)):
                expected = frames.encode_frame({"t": "result", "id": rid, "contentType": ct, "body": body})
                self.assertEqual(expected, self.written(lambda w: w.write_result(rid, ct, body)))
                self.assertEqual(expected, self.written(lambda w: w.write({"t": "result", "id": rid, "contentType": ct, "body": body})))

    def test_large_frame_with_memoryview_part(self):
        data = bytes(range(256)) * 1024
        view = memoryview(data)[1000:200000]
        got = self.written(lambda w: w.write({"t": "chunk", "id": "r", "data": view}))
        self.assertEqual({"t": "chunk", "id": "r", "data": data[1000:200000]}, frames.decode(got[4:]))
        self.assertEqual(len(got) - 4, int.from_bytes(got[:4], "big"))

    def test_chunk_frames_are_the_generic_frames(self):
        from tandem import streaming

        big = bytes(range(256)) * 6000  # 1.46 MiB: split at 1 MiB
        items = [b"", b"a", "\u00e9t\u00e9", b"x" * 255, b"y" * 256, bytearray(b"z" * 70000), memoryview(b"m" * 300), big]
        rid = "8476a536-e9f4-11e8-9739-2dfe598c3fcd"

        def send_all(writer):
            send, finish = streaming._sender(writer, rid)
            for item in items:
                send(item)
            finish()

        # Items may be gathered into fewer frames while the reader lags (streaming._Coalescer); each frame
        # must still be exactly the generic encoding of its data, the bytes in order, the first item alone.
        got = self.written(send_all)
        datas = []
        pos = 0
        while pos < len(got):
            size = int.from_bytes(got[pos : pos + 4], "big")
            frame = got[pos : pos + 4 + size]
            msg = frames.decode(frame[4:])
            self.assertEqual(frames.encode_frame({"t": "chunk", "id": rid, "data": msg["data"]}), frame)
            self.assertLessEqual(len(msg["data"]), streaming.CHUNK_LIMIT)
            datas.append(msg["data"])
            pos += 4 + size
        self.assertEqual(b"a", datas[0])
        self.assertEqual(b"".join(streaming._as_bytes(i) for i in items), b"".join(datas))

    def test_write_result_over_the_limit(self):
        r, w = os.pipe()
        try:
            with self.assertRaises(frames.ProtocolError):
                frames.FrameWriter(w, 100).write_result("r", "application/json", b"x" * 200)
        finally:
            os.close(r)
            os.close(w)


if __name__ == "__main__":
    unittest.main()


class LargePayloadHeap(unittest.TestCase):
    """A real worker: large payloads echo intact, and the first one switches the heap to keep freed memory
    (tandem/heap.py loads ctypes for that, and only then)."""

    def test_large_echo_then_heap_kept(self):
        import json

        from .helpers import TaskRoot
        from .workerproc import Worker, base_env, handshake, invoke_msg

        code = "import sys\ndef lambda_handler(e, c):\n    return e if e else 'ctypes' in sys.modules\n"
        with TaskRoot({"lambda_function.py": code}) as root:
            w = Worker(root, base_env(root, "lambda_function.lambda_handler"))
            self.addCleanup(w.close)
            handshake(w)
            w.send(invoke_msg("r0", b"0"))
            self.assertEqual(b"false", w.recv()["body"])
            body = json.dumps({"data": "\u00e9" * 700000}).encode()  # 1.3 MiB of UTF-8
            for i in range(2):
                w.send(invoke_msg("r%d" % (i + 1), body))
                reply = w.recv()
                self.assertEqual("result", reply["t"])
                self.assertEqual(json.loads(body), json.loads(reply["body"]))
            w.send(invoke_msg("r3", b"0"))
            self.assertEqual(b"true", w.recv()["body"])
