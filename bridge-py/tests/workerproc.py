"""Test helper: a real worker process (bridge-py/worker.py) on real pipes, spoken to in frames."""

import os
import select
import subprocess
import sys
import time

BRIDGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKER = os.path.join(BRIDGE_DIR, "worker.py")

from tandem import frames  # (importable from bridge-py/lib: see tests/__init__.py)

PYTHON = os.environ.get("TANDEM_TEST_PYTHON") or sys.executable


class Worker(object):
    """Spawns worker.py with fds 3/4 as its protocol pipes; stdout/stderr captured to files."""

    def __init__(self, cwd, env, python=PYTHON, default_fds=False, extra_fds=(), script=WORKER):
        import tempfile

        self.tmp = tempfile.TemporaryFile()
        self.tmp_err = tempfile.TemporaryFile()
        to_worker_r, self._to_worker = os.pipe()
        self._from_worker, from_worker_w = os.pipe()
        env = dict(env)
        if default_fds:
            # No TANDEM_FD_* variables: the worker must use fds 3 and 4.
            argv = ["/bin/sh", "-c", 'exec 3<&%d 4>&%d %d<&- %d>&- "$0" "$1"' % (
                to_worker_r, from_worker_w, to_worker_r, from_worker_w), python, script]
        else:
            env["TANDEM_FD_IN"] = str(to_worker_r)
            env["TANDEM_FD_OUT"] = str(from_worker_w)
            argv = [python, script]

        self.proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.tmp,
            stderr=self.tmp_err,
            pass_fds=(to_worker_r, from_worker_w) + tuple(extra_fds),
            close_fds=True,
        )
        os.close(to_worker_r)
        os.close(from_worker_w)
        self._buf = bytearray()

    # frames
    def send(self, msg):
        self.send_raw(frames.encode_frame(msg))

    def send_raw(self, data):
        view = memoryview(data)
        while view:
            n = os.write(self._to_worker, view)
            view = view[n:]

    def recv(self, timeout=20.0):
        """The next frame from the worker, or None at EOF."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self._buf) >= 4:
                n = int.from_bytes(self._buf[:4], "big")
                if len(self._buf) >= 4 + n:
                    payload = bytes(self._buf[4 : 4 + n])
                    del self._buf[: 4 + n]
                    return frames.decode(payload)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no frame from the worker within %ss" % timeout)
            r, _, _ = select.select([self._from_worker], [], [], left)
            if not r:
                continue
            chunk = os.read(self._from_worker, 1 << 20)
            if not chunk:
                if self._buf:
                    raise AssertionError("EOF inside a frame")
                return None
            self._buf += chunk

    def close_input(self):
        if self._to_worker is not None:
            os.close(self._to_worker)
            self._to_worker = None

    def wait(self, timeout=20.0):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def stdout(self):
        self.tmp.seek(0)
        return self.tmp.read()

    def stderr(self):
        self.tmp_err.seek(0)
        return self.tmp_err.read()

    def close(self):
        self.close_input()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self._from_worker is not None:
            os.close(self._from_worker)
            self._from_worker = None
        self.tmp.close()
        self.tmp_err.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def base_env(task_root, handler, extra=None):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LAMBDA_TASK_ROOT": task_root,
        "_HANDLER": handler,
        "AWS_LAMBDA_FUNCTION_NAME": "conformance-fn",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/conformance-fn",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
    }
    for key in ("PYENV_VERSION", "PYENV_ROOT", "TANDEM_NO_SIMPLEJSON"):
        if key in os.environ:
            env[key] = os.environ[key]
    for k, v in (extra or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def invoke_msg(request_id, body, content_type="application/json", deadline_ms=None, **headers):
    msg = {
        "t": "invoke",
        "id": request_id,
        "deadlineMs": deadline_ms if deadline_ms is not None else int(time.time() * 1000) + 30000,
        "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:conformance-fn",
        "traceId": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        "clientContext": None,
        "cognitoIdentity": None,
        "tenantId": None,
        "invocationId": None,
        "contentType": content_type,
        "body": body,
    }
    msg.update(headers)
    return msg


def handshake(worker):
    hello = worker.recv()
    assert hello and hello["t"] == "hello", hello
    worker.send({"t": "hello", "v": 1})
    return hello, worker.recv()
