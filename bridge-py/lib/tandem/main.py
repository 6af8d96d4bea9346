"""The worker's life: init, the handshake, then one message at a time until `shutdown` or EOF
(docs/protocol.md). worker.py sends the `hello` frame before importing this module."""

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


def _require(msg, key, types):
    value = msg.get(key)
    if not isinstance(value, types):
        raise ProtocolError("%s message: %r must be %s, got %s" % (msg["t"], key, types, type(value).__name__))
    return value


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
    try:
        hello = reader.read()
        if hello is None:
            sys.exit(EXIT_INIT_ERROR if init_error else 0)
        if hello["t"] != "hello":
            raise ProtocolError("expected a hello frame first, got %r" % hello["t"])
        if hello.get("v") != PROTOCOL_VERSION:
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
        loop(reader, runtime)
    except ProtocolError as e:
        protocol_error(str(e))
    except OSError as e:
        # The pipe to Node broke: the peer is gone.
        sys.stderr.write("tandem: worker pipe closed: %s\n" % e)
        sys.exit(0)


def _readable(fd):
    import select

    try:
        return bool(select.select([fd], [], [], 0)[0])
    except (OSError, ValueError):
        return False


def _load_codec():
    from .marshal import to_json

    to_json(None)


def loop(reader, runtime):
    from .streaming import PipeGone

    read = reader.read
    while True:
        msg = read()
        if msg is None:
            sys.exit(0)
        t = msg["t"]
        if t == "invoke":
            _require(msg, "id", str)
            _require(msg, "body", bytes)
            try:
                runtime.handle_invoke(msg)
            except PipeGone:
                sys.exit(0)
        elif t == "call":
            _require(msg, "id", str)
            _require(msg, "fn", str)
            _require(msg, "body", bytes)
            runtime.handle_call(msg)
        elif t == "shutdown":
            sys.exit(0)
        else:
            raise ProtocolError("unknown message type %r" % t)
