"""Worker-path micro-benchmark (not a test): the worker's own message loop (`tandem.main.loop`) fed from
a file of frames and writing to /dev/null, in this process: the Python work per message without pipe
wake-ups, which on a shared machine are noisier than the work itself. Best of 7 rounds.

    cd bridge-py && python3 -m tests.perf_inproc [bridge-dir] [hello|call|stream|echo ...]
"""

import json
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
HANDLERS = os.path.join(os.path.dirname(os.path.dirname(HERE)), "bench", "handlers")


def main():
    args = sys.argv[1:]
    bridge = os.path.dirname(HERE)
    if args and os.path.isdir(args[0]):
        bridge = os.path.abspath(args.pop(0))
    # Only the chosen checkout's `tandem` package is importable (in <bridge>/lib, or <bridge> in older trees).
    if os.path.isdir(os.path.join(bridge, "lib", "tandem")):
        bridge = os.path.join(bridge, "lib")
    ours = ("", os.getcwd(), os.path.dirname(HERE), os.path.join(os.path.dirname(HERE), "lib"))
    sys.path[:] = [bridge, HANDLERS] + [p for p in sys.path[1:] if p not in ours]
    os.environ.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": "bench-fn",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/bench-fn",
            "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]0123",
        }
    )
    from tandem import frames, main as tmain
    from tandem.bootstrap import Runtime
    from tandem.loader import get_handler

    null = os.open(os.devnull, os.O_WRONLY)
    writer = frames.FrameWriter(null)
    runtime = Runtime(writer)
    runtime.start_logging()
    deadline = int(time.time() * 1000) + 600000
    rid = "8476a536-e9f4-11e8-9739-2dfe598c3fcd"

    def invoke(body, handler):
        return {
            "t": "invoke", "id": rid, "deadlineMs": deadline,
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:bench-fn",
            "traceId": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
            "clientContext": None, "cognitoIdentity": None, "tenantId": None, "invocationId": None,
            "contentType": "application/json", "body": body,
        }

    one_kib = json.dumps({"data": "a" * (1024 - 11)}).encode()
    ctx = {"requestId": rid, "deadlineMs": deadline, "functionArn": "arn:x", "traceId": None, "tenantId": None}
    work = {
        "hello": ("hello.handler", invoke(b"{}", None), 3000, "invoke"),
        "call": (None, {"t": "call", "id": "call-1", "fn": "calls.echo", "body": one_kib, "context": ctx}, 3000, "call"),
        "stream": ("stream.handler", invoke(b'{"k": 1000, "b": 64}', None), 20, "chunk"),
        "echo": ("echo.handler", invoke(json.dumps({"data": "a" * (5 * 1024 * 1024 - 11)}).encode(), None), 5, "echo"),
        "echo100k": ("echo.handler", invoke(json.dumps({"data": "a" * (100 * 1024 - 11)}).encode(), None), 200, "us"),
    }
    for name in args or ["hello", "call", "stream"]:
        handler, msg, n, unit = work[name]
        if handler:
            runtime.handler = get_handler(handler)
        frame = frames.encode_frame(msg)
        best = None
        for _ in range(7):
            with tempfile.TemporaryFile() as f:
                for _ in range(n):
                    f.write(frame)
                f.flush()
                f.seek(0)
                reader = frames.FrameReader(os.dup(f.fileno()))
                t0 = time.process_time()
                try:
                    tmain.loop(reader, runtime)
                except SystemExit:
                    pass
                dt = time.process_time() - t0
            best = dt if best is None else min(best, dt)
        per = best / n * 1e6
        if unit == "chunk":
            sys.__stderr__.write("%s: %.2f us per chunk (1000 x 64 B)\n" % (name, per / 1000))
        elif unit == "echo":
            sys.__stderr__.write("%s: %.2f ms per 5 MiB echo\n" % (name, per / 1000))
        else:
            sys.__stderr__.write("%s: %.2f us per message\n" % (name, per))


if __name__ == "__main__":
    main()
