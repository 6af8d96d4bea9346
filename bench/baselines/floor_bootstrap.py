# Floor baseline runtime: the cheapest loop that still speaks the Runtime API for a Python handler.
# One raw keep-alive socket with TCP_NODELAY, hand-written HTTP/1.1 for this single peer, json in and out,
# no context, no error handling. Generators are posted chunked, one send per chunk (as http.client does).
import importlib
import json
import os
import socket
import sys
import types

NEXT = b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: rapid\r\n\r\n"
POST = "POST /2018-06-01/runtime/invocation/{}/response HTTP/1.1\r\nHost: rapid\r\n"
JSON_HEAD = "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n"
STREAM_HEAD = (
    "Lambda-Runtime-Function-Response-Mode: streaming\r\nContent-Type: application/octet-stream\r\n"
    "Transfer-Encoding: chunked\r\n"
    "Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\r\n"
)


def load_handler():
    sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])
    module_name, function_name = os.environ["_HANDLER"].rsplit(".", 1)
    return getattr(importlib.import_module(module_name), function_name)


def read_answer(reader):
    """Reads one HTTP response with a Content-Length body; returns (request id or None, body)."""
    reader.readline()
    length = 0
    request_id = None
    while True:
        line = reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        name = name.lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"lambda-runtime-aws-request-id":
            request_id = value.strip().decode()
    return request_id, reader.read(length)


def main():
    handler = load_handler()
    host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].rsplit(":", 1)
    sock = socket.create_connection((host, int(port)))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    reader = sock.makefile("rb")
    send = sock.sendall
    while True:
        send(NEXT)
        request_id, body = read_answer(reader)
        result = handler(json.loads(body), None)
        head = POST.format(request_id)
        if isinstance(result, types.GeneratorType):
            send((head + STREAM_HEAD).encode())
            for chunk in result:
                if isinstance(chunk, str):
                    chunk = chunk.encode()
                if chunk:
                    send(b"%x\r\n%b\r\n" % (len(chunk), chunk))
            send(b"0\r\n\r\n")
        else:
            out = json.dumps(result).encode()
            send((head + JSON_HEAD.format(len(out))).encode())
            send(out)
        read_answer(reader)


main()
