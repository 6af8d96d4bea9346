"""The worker's pipes guarded against the function (tandem/pipes.py, docs/protocol.md "The worker's fds"):
a forked child holds /dev/null where the pipes were, the worker ends at once when its parent (Node) dies,
and a pipe the function replaced is reported by ending the output pipe while the worker runs on."""

import json
import os
import signal
import subprocess
import sys
import time
import unittest

from .helpers import TaskRoot
from .workerproc import PYTHON, WORKER, Worker, base_env, handshake, invoke_msg

HANDLER = """
import os, time

def fork(event, context):
    pid = os.fork()
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    fds = event["fds"]
    deadline = time.time() + 10
    links = {}
    while time.time() < deadline:
        links = {fd: os.readlink("/proc/%d/fd/%d" % (pid, fd)) for fd in fds}
        if all(l == "/dev/null" for l in links.values()):
            break
        time.sleep(0.01)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return links

def replace_input(event, context):
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, event["fd"])
    return "replaced"
"""

SLOW_IMPORT = "import os, time\nopen('importing', 'w').close()\ntime.sleep(60)\ndef handler(e, c):\n    return 1\n"

# Starts the worker with pipes of its own, prints the worker's pid, then sleeps: killing this process is
# Node dying.
PARENT = """
import os, subprocess, sys, time
to_r, to_w = os.pipe()
from_r, from_w = os.pipe()
env = dict(os.environ, TANDEM_FD_IN=str(to_r), TANDEM_FD_OUT=str(from_w))
p = subprocess.Popen([sys.argv[1], sys.argv[2]], env=env, cwd=sys.argv[3], pass_fds=(to_r, from_w),
                     stdin=subprocess.DEVNULL)
print(p.pid, flush=True)
time.sleep(120)
"""


class WorkerPipes(unittest.TestCase):
    def start(self, root, handler):
        w = Worker(root, base_env(root, handler))
        self.addCleanup(w.close)
        return w

    def test_forked_child_holds_devnull_where_the_pipes_were(self):
        with TaskRoot({"lambda_function.py": HANDLER}) as root:
            w = self.start(root, "lambda_function.fork")
            hello, _ = handshake(w)
            fds = [hello["inFd"], hello["inFd"] + 1]
            w.send(invoke_msg("r", json.dumps({"fds": fds}).encode()))
            links = json.loads(w.recv()["body"])
            self.assertEqual({str(fd): "/dev/null" for fd in fds}, links)

    def test_ends_at_once_when_its_parent_dies_during_init(self):
        with TaskRoot({"lambda_function.py": SLOW_IMPORT}) as root:
            env = base_env(root, "lambda_function.handler")
            parent = subprocess.Popen(
                [PYTHON, "-c", PARENT, PYTHON, WORKER, root], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
            )
            self.addCleanup(parent.wait)
            self.addCleanup(parent.kill)
            self.addCleanup(parent.stdout.close)
            worker = int(parent.stdout.readline())
            self.addCleanup(_kill, worker)
            deadline = time.monotonic() + 10  # hang detectors only
            while not os.path.exists(os.path.join(root, "importing")) and time.monotonic() < deadline:
                time.sleep(0.01)
            self.assertTrue(_alive(worker))  # in the middle of its 60 s import
            parent.kill()
            deadline = time.monotonic() + 10
            while _alive(worker) and time.monotonic() < deadline:
                time.sleep(0.01)
            self.assertFalse(_alive(worker))

    def test_input_replaced_by_the_function_ends_the_output_while_the_worker_runs(self):
        with TaskRoot({"lambda_function.py": HANDLER}) as root:
            w = self.start(root, "lambda_function.replace_input")
            hello, _ = handshake(w)
            w.send(invoke_msg("r", json.dumps({"fd": hello["inFd"]}).encode()))
            self.assertEqual(b'"replaced"', w.recv()["body"])
            self.assertIsNone(w.recv())  # EOF on its output...
            self.assertIsNone(w.proc.poll())  # ...while it runs on: for Node, a protocol error


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


if __name__ == "__main__":
    unittest.main()
