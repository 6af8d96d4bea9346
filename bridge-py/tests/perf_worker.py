"""Worker-only micro-benchmark (not a test): the Python worker's own CPU per message, driven over its real
pipes by this script, without Node. Prints one line per workload. Figures in docs/python-worker.md.

    cd bridge-py && python3 -m tests.perf_worker [rss|hello|call|echo|stream ...]

CPU is the worker's schedstat run time (nanoseconds) divided by the messages sent; wall time per round
trip includes this driver's own work. Short runs on purpose (shared 2-core machine)."""

import json
import os
import sys
import time

from tests import workerproc
from tests.workerproc import Worker, base_env, handshake, invoke_msg
from tandem import frames

HANDLERS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "bench", "handlers")


def cpu_ns(pid):
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
            total += int(f.read().split()[0])
    return total


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def start(handler, mode=None):
    extra = {"TANDEM_MODE": mode} if mode else None
    w = Worker(HANDLERS, base_env(HANDLERS, handler, extra))
    _hello, ready = handshake(w)
    assert ready["t"] == "ready", ready
    return w


def run_rss():
    w = start("hello.handler")
    try:
        before = rss_kib(w.proc.pid)
        w.send(invoke_msg("r0", b"{}"))
        assert w.recv()["t"] == "result"
        after = rss_kib(w.proc.pid)
        mods = None
        print("rss: after init %.1f MiB, after first invoke %.1f MiB" % (before / 1024, after / 1024))
        return mods
    finally:
        w.close()


def timed(w, msgs, expect, per=1):
    """Send each message, read replies until `expect`; returns (cpu us per unit, wall us per message)."""
    pid = w.proc.pid
    c0 = cpu_ns(pid)
    t0 = time.perf_counter()
    units = 0
    for m in msgs:
        w.send(m)
        while True:
            r = w.recv()
            if r["t"] == expect:
                break
            units += 1
    wall = (time.perf_counter() - t0) / len(msgs) * 1e6
    cpu = (cpu_ns(pid) - c0) / 1000.0 / (units if per == "chunk" else len(msgs))
    return cpu, wall


def run_hello(n=3000):
    w = start("hello.handler")
    try:
        timed(w, [invoke_msg("w%d" % i, b"{}") for i in range(300)], "result")
        cpu, wall = timed(w, [invoke_msg("r%d" % i, b"{}") for i in range(n)], "result")
        print("hello invoke: %.1f us CPU, %.1f us round trip" % (cpu, wall))
    finally:
        w.close()


def run_call(n=3000):
    w = start("", "calls")
    body = json.dumps({"data": "a" * (1024 - 11)}).encode()
    ctx = {"requestId": "req-1", "deadlineMs": int(time.time() * 1000) + 30000, "functionArn": "arn:x", "traceId": None, "tenantId": None}

    def msgs(k, p):
        return [{"t": "call", "id": "%s%d" % (p, i), "fn": "calls.echo", "body": body, "context": ctx} for i in range(k)]

    try:
        timed(w, msgs(300, "w"), "result")
        cpu, wall = timed(w, msgs(n, "c"), "result")
        print("call 1 KiB: %.1f us CPU, %.1f us round trip" % (cpu, wall))
        w.close_input()
        w.wait()
    finally:
        w.close()


def run_echo1(size=1024 * 1024, reps=10):
    run_echo(size, reps)


def run_echo(size=5 * 1024 * 1024, reps=5):
    w = start("echo.handler")
    body = json.dumps({"data": "a" * (size - 11)}).encode()
    try:
        timed(w, [invoke_msg("w", body)], "result")
        cpu, wall = timed(w, [invoke_msg("e%d" % i, body) for i in range(reps)], "result")
        with open("/proc/%d/status" % w.proc.pid) as f:
            hwm = [line.split()[1] for line in f if line.startswith("VmHWM:")][0]
        print("echo %d KiB: %.2f ms CPU; RSS after %.1f MiB, peak %.1f MiB" % (size // 1024, cpu / 1000, rss_kib(w.proc.pid) / 1024, int(hwm) / 1024))
        w.close_input()
        w.wait()
    finally:
        w.close()


def run_stream(k=1000, b=64, reps=5):
    w = start("stream.handler")
    body = json.dumps({"k": k, "b": b}).encode()
    try:
        timed(w, [invoke_msg("w", body)], "streamEnd")
        cpu, wall = timed(w, [invoke_msg("s%d" % i, body) for i in range(reps)], "streamEnd", per="chunk")
        print("stream %dx%d B: %.2f us CPU per chunk (streamStart counted as a chunk)" % (k, b, cpu))
        cpu, wall = timed(w, [invoke_msg("s%d" % i, json.dumps({"k": 1, "b": 64}).encode()) for i in range(300)], "streamEnd")
        print("stream 1x64 B: %.1f us CPU per invoke" % cpu)
    finally:
        w.close()


if __name__ == "__main__":
    if os.environ.get("TANDEM_PERF_WORKER"):  # another checkout's worker.py, for A/B runs
        workerproc.WORKER = os.environ["TANDEM_PERF_WORKER"]
    which = sys.argv[1:] or ["rss", "hello", "call", "echo", "stream"]
    for name in which:
        globals()["run_" + name]()
