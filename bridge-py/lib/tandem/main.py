"""The worker's life: init, the handshake, then one message at a time until `shutdown` or EOF
(docs/protocol.md). worker.py sends the `hello` frame before importing this module."""

import errno
import os
import sys

from .frames import PROTOCOL_VERSION, FrameReader, FrameWriter, ProtocolError

EXIT_INIT_ERROR = 1
EXIT_PROTOCOL_MISMATCH = 70
EXIT_PROTOCOL_ERROR = 71

MODE_HANDLER = "handler"
MODE_CALLS = "calls"


def protocol_error(message):
    try:
        sys.stderr.write("tandem: worker protocol error: %s\n" % message)
        sys.stderr.flush()
    finally:
        os._exit(EXIT_PROTOCOL_ERROR)


_NONE = type(None)
_OPT_STR = (str, _NONE)
_OPT_NUM = (int, float, _NONE)
# Every field the worker reads, with the types it accepts (docs/protocol.md); anything else is a protocol
# error, never a crash inside the handler's machinery or a wrongly typed context attribute.
_INVOKE_OPT_STR = (
    "functionArn", "traceId", "clientContext", "cognitoIdentity", "tenantId", "invocationId", "contentType"
)
_CALL_CONTEXT = (
    ("requestId", _OPT_STR),
    ("deadlineMs", _OPT_NUM),
    ("functionArn", _OPT_STR),
    ("traceId", _OPT_STR),
    ("tenantId", _OPT_STR),
)
_CALL = (("id", (str,)), ("fn", (str,)), ("body", (bytes,)), ("context", (dict, _NONE)))
_TYPE_NAMES = {str: "str", bytes: "bin", int: "int", float: "float", _NONE: "nil", dict: "map"}


def _bad(where, fields, key, types):
    want = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)
    value = fields.get(key)
    got = _TYPE_NAMES.get(type(value), type(value).__name__) if key in fields else "nothing"
    raise ProtocolError("%s: %r must be %s, got %s" % (where, key, want, got))


def _check_invoke(msg):
    get = msg.get
    if type(get("id")) is not str:
        _bad("invoke message", msg, "id", (str,))
    if type(get("body")) is not bytes:
        _bad("invoke message", msg, "body", (bytes,))
    if type(get("deadlineMs")) not in _OPT_NUM:
        _bad("invoke message", msg, "deadlineMs", _OPT_NUM)
    for key in _INVOKE_OPT_STR:
        if type(get(key)) not in _OPT_STR:
            _bad("invoke message", msg, key, _OPT_STR)


def _check_call(msg):
    for key, types in _CALL:
        if type(msg.get(key)) not in types:
            _bad("call message", msg, key, types)
    ctx = msg.get("context")
    if ctx is not None:
        for key, types in _CALL_CONTEXT:
            if type(ctx.get(key)) not in types:
                _bad("call message context", ctx, key, types)


def run(fd_in, fd_out, mode, max_frame, bridge_dir):
    writer = FrameWriter(fd_out, max_frame)
    from .bootstrap import Runtime

    runtime = Runtime(writer)
    runtime.start_logging()

    from .loader import handler_name, setup_sys_path

    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    init_error = None
    if mode == MODE_HANDLER:
        name = handler_name()
        if name is None:
            # AWS's runtime fails the same way before its loop starts: no POST, exit 1.
            raise ValueError("Handler not set")
        setup_sys_path(task_root, bridge_dir)
        init_error = runtime.init_handler(name)
    elif mode == MODE_CALLS:
        setup_sys_path(task_root, bridge_dir)
    else:
        sys.stderr.write("tandem: unknown TANDEM_MODE %r (expected 'handler' or 'calls')\n" % mode)
        sys.exit(2)

    codec_loaded = False
    if init_error is None and not _readable(fd_in):
        # Node's hello has not arrived: load the JSON codec now, while Node is still starting. Otherwise
        # Node is waiting for `ready`: the codec loads after it, while Node asks for the first event.
        _load_codec()
        codec_loaded = True

    reader = FrameReader(fd_in, max_frame)
    in_file = _identity(fd_in)
    try:
        hello = reader.read()
        if hello is None:
            sys.exit(EXIT_INIT_ERROR if init_error else 0)
        if hello["t"] != "hello":
            raise ProtocolError("expected a hello frame first, got %r" % hello["t"])
        if type(hello.get("v")) is not int or hello.get("v") != PROTOCOL_VERSION:
            sys.stderr.write(
                "tandem: worker protocol mismatch: worker speaks %d, runtime speaks %s\n"
                % (PROTOCOL_VERSION, hello.get("v"))
            )
            sys.stderr.flush()
            os._exit(EXIT_PROTOCOL_MISMATCH)
        if init_error is not None:
            writer.write({"t": "initError", "errorType": init_error[0], "body": init_error[1]})
            while True:
                msg = reader.read()
                if msg is None or msg["t"] == "shutdown":
                    sys.exit(EXIT_INIT_ERROR)
        writer.write({"t": "ready"})
        if not codec_loaded:
            _load_codec()
        loop(reader, runtime, fd_in, in_file)
    except ProtocolError as e:
        protocol_error(str(e))
    except (BrokenPipeError, ConnectionResetError):
        # Node is gone (it has said why, or it was killed): end quietly.
        os._exit(0)
    except OSError as e:
        if e.errno == errno.EBADF:
            broken_by_function("a frame pipe's fd was closed by the function (%s)" % e, fd_out)
        raise


def broken_by_function(what, fd_out):
    """The function closed or replaced one of the worker's pipe fds. Node has to learn it from a worker
    that is still running: that is what makes it a protocol error (one clear line, the invocation's error,
    a new worker) rather than an exit of the runtime. So end the output pipe here (closing the fd: Node
    then sees EOF while this process runs) and wait for Node to kill the worker; exit with the
    protocol-error status only if nobody does."""
    try:
        os.close(fd_out)
    except OSError:
        pass
    import time

    time.sleep(10)
    protocol_error(what)


def _identity(fd):
    try:
        st = os.fstat(fd)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _readable(fd):
    import select

    try:
        return bool(select.select([fd], [], [], 0)[0])
    except (OSError, ValueError):
        return False


def _load_codec():
    from .marshal import to_json

    to_json(None)


def loop(reader, runtime, fd_in=None, in_file=None):
    from .streaming import PipeGone

    read = reader.read
    while True:
        msg = read()
        if msg is None:
            if fd_in is None or _identity(fd_in) == in_file:
                sys.exit(0)  # Node closed it: the peer is gone
            what = "the worker's input pipe (fd %d) was replaced by the function" % fd_in
            broken_by_function(what, runtime.writer.fd)
        t = msg["t"]
        if t == "invoke":
            _check_invoke(msg)
            try:
                runtime.handle_invoke(msg)
            except PipeGone as e:
                if getattr(e.args[0], "errno", None) == errno.EBADF:
                    what = "a frame pipe's fd was closed by the function (%s)" % e.args[0]
                    broken_by_function(what, runtime.writer.fd)
                sys.exit(0)
        elif t == "call":
            _check_call(msg)
            runtime.handle_call(msg)
        elif t == "shutdown":
            sys.exit(0)
        else:
            raise ProtocolError("unknown message type %r" % t)
