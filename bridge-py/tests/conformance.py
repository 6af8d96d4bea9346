"""Test helper: replays a recorded conformance case (test/conformance/recorded/python/cases/*.json) against
worker.py directly and produces the normalised recording the case's `expected` holds (the normalisation of
test/conformance/recorded/README.md, worker level: the worker's frames are mapped to the POSTs the Node
runtime would make)."""

import base64
import json
import os
import re
import shutil
import tempfile
import time

from .workerproc import Worker, base_env, invoke_msg, handshake

HERE = os.path.dirname(os.path.abspath(__file__))
# The Python case set (a folder holding cases/ and handlers/): $TANDEM_CONFORMANCE_PYTHON, else the recorded one.
CASES_DIR = os.environ.get("TANDEM_CONFORMANCE_PYTHON") or os.path.join(
    HERE, "..", "..", "test", "conformance", "recorded", "python"
)

ARN = "arn:aws:lambda:us-east-1:123456789012:function:conformance-fn"
TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
NEXT = "GET /2018-06-01/runtime/invocation/next"


def conformance_dir():
    """The case set's folder; a missing one is an error, never a skip (the cases are part of the repo)."""
    if not os.path.isdir(os.path.join(CASES_DIR, "cases")):
        raise FileNotFoundError("no conformance cases at %s" % os.path.join(CASES_DIR, "cases"))
    return os.path.abspath(CASES_DIR)


_STDLIB = re.compile(r"(?<![\w./-])/(?!var/task/)(?:[^\s\"'\\/:<>]+/)*lib/python3\.11/")
_LINENO = re.compile(r"(File \\?\"(?:<frozen [^>\"\\]+>|/var/lang/lib/python3\.11/[^\"\\]+)\\?\", line )\d+")
_JSON_FRAME = re.compile(r'"  File \\"(?:[^"\\]|\\.)*"')
_ERR_FRAME = re.compile("\u00a0\u00a0File \"[^\"\r\n]*\", line \\d+, in [^\r\n]*(?:\r\u00a0{4}[^\r\n]*)?")
_TS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z"


def make_T(task_root, runtime_frames_only):
    roots = sorted({task_root, os.path.realpath(task_root)}, key=len, reverse=True)

    def T(s):
        for r in roots:
            s = s.replace(r, "/var/task")
        s = _STDLIB.sub("/var/lang/lib/python3.11/", s)
        s = _LINENO.sub(lambda m: m.group(1) + "<N>", s)
        if runtime_frames_only:
            s = _JSON_FRAME.sub('"<RUNTIME FRAME>"', s)
            s = _ERR_FRAME.sub("\u00a0\u00a0<RUNTIME FRAME>", s)
        return s

    return T


def _xray(raw, T, runtime_frames_only):
    if raw is None or raw == "":
        return None
    try:
        doc = json.loads(raw)
    except ValueError:
        return {"unparsable": raw}
    doc["working_directory"] = "/var/task"
    if runtime_frames_only:
        doc["paths"] = sorted("<RUNTIME FRAME>" for _ in doc.get("paths", []))
    else:
        doc["paths"] = sorted(T(p) for p in doc.get("paths", []))
    for exc in doc.get("exceptions", []):
        stack = []
        for entry in exc.get("stack", []):
            if runtime_frames_only:
                stack.append("<RUNTIME FRAME>")
                continue
            entry = dict(entry)
            entry["path"] = T(entry["path"])
            if entry["path"].startswith("<frozen ") or entry["path"].startswith("/var/lang/lib/python3.11/"):
                entry["line"] = "<N>"
            stack.append(entry)
        exc["stack"] = stack
    return doc


def _body(data, T):
    try:
        return {"body": T(data.decode("utf-8"))}
    except UnicodeDecodeError:
        return {"body_base64": base64.b64encode(data).decode()}


def run_case(case, python=None, extra_env=None):
    """Run one case through a real worker; returns the normalised recording."""
    base = conformance_dir()
    tmp = tempfile.mkdtemp(prefix="tandem-case-")
    task_root = os.path.join(tmp, "task")
    shutil.copytree(os.path.join(base, case["handler_dir"]), task_root)
    env = base_env(task_root, case["handler"], case.get("env"))
    env.update(extra_env or {})
    T = make_T(task_root, case.get("runtime_frames_only"))
    requests, posts = [], []
    exit_info = {"by_itself": False}
    kwargs = {"python": python} if python else {}
    w = Worker(task_root, env, **kwargs)
    try:
        hello = w.recv()
        if hello is None:
            code = w.wait()
            exit_info = {"by_itself": True, "code": code}
        else:
            w.send({"t": "hello", "v": 1})
            outcome = w.recv()
            if outcome is None:
                exit_info = {"by_itself": True, "code": w.wait()}
            elif outcome["t"] == "initError":
                requests.append("POST /2018-06-01/runtime/init/error")
                posts.append(
                    dict(
                        path="/2018-06-01/runtime/init/error",
                        headers={
                            "content-type": None,
                            "lambda-runtime-function-error-type": outcome["errorType"],
                            "lambda-runtime-function-xray-error-cause": None,
                        },
                        **_body(outcome["body"], T),
                    )
                )
                w.close_input()
                exit_info = {"by_itself": True, "code": w.wait()}
            else:
                assert outcome["t"] == "ready", outcome
                died = False
                for n, inv in enumerate(case["invocations"], 1):
                    rid = "00000000-0000-4000-8000-%012d" % n
                    requests.append(NEXT)
                    if "body_base64" in inv:
                        body = base64.b64decode(inv["body_base64"])
                    else:
                        body = inv["body"].encode("utf-8")
                    headers = {
                        "traceid": TRACE,
                        "functionarn": ARN,
                    }
                    msg = invoke_msg(
                        rid,
                        body,
                        content_type=inv.get("content_type", "application/json"),
                        deadline_ms=int(time.time() * 1000) + inv.get("deadline_ms", 30000),
                    )
                    for name, value in (inv.get("headers") or {}).items():
                        key = {
                            "lambda-runtime-trace-id": "traceId",
                            "lambda-runtime-client-context": "clientContext",
                            "lambda-runtime-cognito-identity": "cognitoIdentity",
                            "lambda-runtime-aws-tenant-id": "tenantId",
                            "lambda-runtime-invoked-function-arn": "functionArn",
                        }[name.lower()]
                        msg[key] = value if value != "" else (None if key != "functionArn" else "")
                    del headers
                    w.send(msg)
                    reply = w.recv()
                    if reply is None:
                        exit_info = {"by_itself": True, "code": w.wait()}
                        died = True
                        break
                    assert reply["id"] == rid, reply
                    if reply["t"] == "result":
                        path = "/2018-06-01/runtime/invocation/%s/response" % rid
                        hdrs = {
                            "content-type": reply["contentType"],
                            "lambda-runtime-function-error-type": None,
                            "lambda-runtime-function-xray-error-cause": None,
                        }
                    elif reply["t"] == "error":
                        path = "/2018-06-01/runtime/invocation/%s/error" % rid
                        hdrs = {
                            "content-type": "application/json",
                            "lambda-runtime-function-error-type": None,
                            "lambda-runtime-function-xray-error-cause": _xray(
                                reply.get("xrayCause"), T, case.get("runtime_frames_only")
                            ),
                        }
                    else:
                        raise AssertionError("unexpected reply %r" % (reply,))
                    requests.append("POST " + path)
                    posts.append(dict(path=path, headers=hdrs, **_body(reply["body"], T)))
                if not died:
                    requests.append(NEXT)
                    w.close_input()
                    w.wait()
        stdout = w.stdout()
        stderr = w.stderr()
    finally:
        w.close()
        shutil.rmtree(tmp, ignore_errors=True)
    text = T(stdout.decode("utf-8", "replace"))
    text = re.sub(r"(\[[^\]\t\r\n]+\]\t)" + _TS + r"(?=\t)", r"\1<TIMESTAMP>", text)
    text = re.sub(r'("timestamp": ?")' + _TS + r'(")', r"\1<TIMESTAMP>\2", text)
    return {
        "requests": requests,
        "posts": posts,
        "stdout": text.split("\n"),
        "exit": exit_info,
    }, stderr
