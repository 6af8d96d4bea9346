# Seed-style baseline runtime, written for the benchmark: the loop a team writes by hand for a custom
# runtime (stdlib http.client on one keep-alive connection, json, no context object, no error handling).
# A handler that returns a generator is streamed: the generator is posted with chunked transfer-encoding.
import http.client
import importlib
import json
import os
import sys
import types

API = "/2018-06-01/runtime/invocation/"
STREAM_HEADERS = {
    "Lambda-Runtime-Function-Response-Mode": "streaming",
    "Content-Type": "application/octet-stream",
    "Trailer": "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body",
}
JSON_HEADERS = {"Content-Type": "application/json"}


def load_handler():
    sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])
    module_name, function_name = os.environ["_HANDLER"].rsplit(".", 1)
    return getattr(importlib.import_module(module_name), function_name)


def as_bytes(chunks):
    for chunk in chunks:
        yield chunk.encode() if isinstance(chunk, str) else chunk


def main():
    handler = load_handler()
    host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port))
    while True:
        conn.request("GET", API + "next")
        answer = conn.getresponse()
        request_id = answer.getheader("Lambda-Runtime-Aws-Request-Id")
        event = json.loads(answer.read())
        result = handler(event, None)
        path = API + request_id + "/response"
        if isinstance(result, types.GeneratorType):
            conn.request("POST", path, body=as_bytes(result), headers=STREAM_HEADERS, encode_chunked=True)
        else:
            conn.request("POST", path, body=json.dumps(result).encode(), headers=JSON_HEADERS)
        conn.getresponse().read()


main()
