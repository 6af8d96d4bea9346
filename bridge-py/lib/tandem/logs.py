"""Logging as a handler finds it on AWS's Python runtime: stdout and stderr flushed after every write, one
handler on the root logger (TEXT or JSON records, the request id on each), the telemetry-fd framing when Lambda
provides that fd, and the `[ERROR]` record of an uncaught error.

What a handler can inspect keeps AWS's shape: the class names (Unbuffered, LambdaLoggerHandler,
LambdaLoggerHandlerWithFrameType, LambdaLoggerFilter, StandardLogSink, FramedTelemetryLogSink), the handler's
`log_sink`, the sinks' methods, the formatter's format strings, and the bytes of every record
(tests/test_observables.py, the conformance cases). Classes a handler can reach get no helper methods (they
would show in dir()), and Unbuffered no docstring (it would be sys.stdout.__doc__, None on AWS).
"""

import logging
import os
import sys
import time

TEXT_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
TEXT_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
JSON_DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
TRACEBACK_HEADER = "Traceback (most recent call last):"
STACK_INDENT = "\u00a0"  # leading spaces of stack lines in the [ERROR] record, so CloudWatch keeps them

# Telemetry frame types by level bucket (a frame's first 4 bytes, big-endian); a JSON record's is one less.
_TEXT_FRAME_TYPES = {
    logging.NOTSET: 0xA55A0003,
    logging.DEBUG: 0xA55A000B,
    logging.INFO: 0xA55A000F,
    logging.WARNING: 0xA55A0013,
    logging.ERROR: 0xA55A0017,
    logging.CRITICAL: 0xA55A001B,
}
_JSON_FRAME_TYPES = {bucket: kind - 1 for bucket, kind in _TEXT_FRAME_TYPES.items()}

# Attributes every LogRecord has (and the filter's): what is left of a record's __dict__ came from `extra`.
_RECORD_ATTRIBUTES = frozenset(
    (
        "name msg args levelname levelno pathname filename module exc_info exc_text stack_info lineno funcName "
        "created msecs relativeCreated thread threadName processName process aws_request_id tenant_id _frame_type"
    ).split()
)
# The JSON record's own fields, which `extra` never replaces (tenantId only when the record has a tenant).
_JSON_FIELDS = (
    "timestamp", "level", "message", "logger", "stackTrace", "errorType", "errorMessage", "requestId", "location",
)


def _env_level_name(value):
    """The level AWS_LAMBDA_LOG_LEVEL names, upper-cased ('' when unset). Only the exact "TRACE" means DEBUG,
    as in AWS's runtime ("trace" names no level)."""
    if value is None:
        return ""
    return "DEBUG" if value == "TRACE" else value.upper()


# Read once, when the runtime starts and before the handler module is imported (as AWS's runtime does).
JSON_FORMAT = (os.environ.get("AWS_LAMBDA_LOG_FORMAT") or "").upper() == "JSON"
LEVEL_NAME = _env_level_name(os.environ.get("AWS_LAMBDA_LOG_LEVEL"))
_ERROR_FRAME_TYPE = (_JSON_FRAME_TYPES if JSON_FORMAT else _TEXT_FRAME_TYPES)[logging.ERROR]

# The request id and tenant id of the invocation in progress, or of the last one: log records written between
# invocations (by a thread the handler left running) carry the last ones, as on AWS.
current = {"request_id": None, "tenant_id": None}


def _bucket(levelno):
    """A level rounded down to a standard one: custom level 25 is INFO, anything above CRITICAL is CRITICAL."""
    return min(max(levelno, 0), logging.CRITICAL) // 10 * 10


# ---- the standard streams --------------------------------------------------------------------------------


class Unbuffered(object):
    def __init__(self, stream):
        self.stream = stream

    def __getattr__(self, attr):
        return getattr(self.stream, attr)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, exc_tb):
        pass

    def write(self, msg):
        self.stream.write(msg)
        self.stream.flush()

    def writelines(self, msgs):
        self.stream.writelines(msgs)
        self.stream.flush()


def wrap_std_streams():
    sys.stdout = Unbuffered(sys.stdout)
    sys.stderr = Unbuffered(sys.stderr)


# ---- where records go ------------------------------------------------------------------------------------


class StandardLogSink(object):
    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, exc_tb):
        pass

    def log(self, msg, frame_type=None):
        sys.stdout.write(msg)

    def log_error(self, message_lines):
        # One write, lines joined by \r: CloudWatch splits stdout on \n, so the record stays one event.
        sys.stdout.write("\r".join(message_lines) + "\n")


class FramedTelemetryLogSink(object):
    """Each record is one frame on Lambda's telemetry fd: type (4 bytes), payload length (4 bytes), timestamp
    in microseconds since the epoch (8 bytes), all big-endian, then the UTF-8 payload."""

    def __init__(self, fd):
        self.fd = fd

    def __enter__(self):
        self.file = os.fdopen(self.fd, "wb", 0)
        return self

    def __exit__(self, exc_type, exc_value, exc_tb):
        self.file.close()

    def log(self, msg, frame_type=None):
        payload = msg.encode("utf-8")
        kind = frame_type or _TEXT_FRAME_TYPES[logging.NOTSET]
        micros = time.time_ns() // 1000
        header = kind.to_bytes(4, "big") + len(payload).to_bytes(4, "big") + micros.to_bytes(8, "big")
        self.file.write(header + payload)  # one write per record

    def log_error(self, message_lines):
        self.log("\n".join(message_lines), _ERROR_FRAME_TYPE)


def create_log_sink():
    """The telemetry-fd sink when Lambda passes `_LAMBDA_TELEMETRY_LOG_FD` (the variable is then removed, so the
    handler does not see it), else stdout."""
    fd = os.environ.pop("_LAMBDA_TELEMETRY_LOG_FD", None)
    return StandardLogSink() if fd is None else FramedTelemetryLogSink(int(fd))


# ---- the root logger's handler, filter and formatters ------------------------------------------------------


class LambdaLoggerHandler(logging.Handler):
    def __init__(self, log_sink):
        super().__init__()
        self.log_sink = log_sink

    def emit(self, record):
        self.log_sink.log(self.format(record))


class LambdaLoggerHandlerWithFrameType(logging.Handler):
    def __init__(self, log_sink):
        super().__init__()
        self.log_sink = log_sink

    def emit(self, record):
        text = self.format(record)  # a JSON record gets its frame type while being formatted
        kind = getattr(record, "_frame_type", None) or _TEXT_FRAME_TYPES.get(_bucket(record.levelno))
        self.log_sink.log(text, frame_type=kind)


class LambdaLoggerFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = current["request_id"] or ""
        record.tenant_id = current["tenant_id"]
        return True


class JsonFormatter(logging.Formatter):
    def __init__(self):
        super().__init__(datefmt=JSON_DATE_FORMAT)
        import json

        # Standard json, raw non-ASCII: AWS's JSON log records are not written by the runtime's own encoder.
        self._encoder = json.JSONEncoder(ensure_ascii=False)

    def format(self, record):
        bucket = _bucket(record.levelno)
        record.levelno = bucket
        record.levelname = logging.getLevelName(bucket)
        record._frame_type = _JSON_FRAME_TYPES[bucket]
        failure = record.exc_info
        values = [self.formatTime(record, self.datefmt), record.levelname, record.getMessage(), record.name]
        if failure:
            import traceback

            values += [traceback.format_tb(failure[2]), failure[0].__name__, str(failure[1])]
            values += [getattr(record, "aws_request_id", None)]
            values += ["%s:%s:%d" % (record.pathname, record.funcName, record.lineno)]
        else:
            values += [None, None, None, getattr(record, "aws_request_id", None), None]
        fields = dict(zip(_JSON_FIELDS, values))
        tenant_id = getattr(record, "tenant_id", None)
        if tenant_id is not None:
            fields["tenantId"] = tenant_id
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in fields:
                fields[key] = value
        return self._encoder.encode({k: v for k, v in fields.items() if v is not None}) + "\n"


def setup(log_sink):
    """Installs the root handler: once per process, before the handler module is imported."""
    logging.Formatter.converter = time.gmtime
    root = logging.getLogger()
    # A configured level or the JSON format gives each telemetry frame its level's type.
    handler_class = LambdaLoggerHandlerWithFrameType if (JSON_FORMAT or LEVEL_NAME) else LambdaLoggerHandler
    handler = handler_class(log_sink)
    handler.setFormatter(JsonFormatter() if JSON_FORMAT else logging.Formatter(TEXT_FORMAT, TEXT_DATE_FORMAT))
    handler.addFilter(LambdaLoggerFilter())
    if isinstance(logging.getLevelName(LEVEL_NAME), int):
        root.setLevel(LEVEL_NAME)  # an unknown name leaves Python's default, WARNING
    root.addHandler(handler)


# ---- the record of an uncaught error -----------------------------------------------------------------------


def _with_stack_indent(line):
    text = line.lstrip(" ")
    return STACK_INDENT * (len(line) - len(text)) + text


def log_error(error_result, log_sink):
    """The `[ERROR]` record of an error document (docs/python-worker.md): one JSON object in JSON format, else
    the `[ERROR] <type>: <message>` line and the stack trace, one line per element line."""
    if JSON_FORMAT:
        from .marshal import to_json

        stamp = time.strftime(JSON_DATE_FORMAT, logging.Formatter.converter(time.time()))
        log_sink.log_error([to_json(dict({"timestamp": stamp, "log_level": "ERROR"}, **error_result))])
        return
    kind = error_result.get("errorType")
    message = error_result.get("errorMessage")
    head = "[ERROR]" + (" " + kind if kind else "") + ((":" if kind else "") + " " + message if message else "")
    lines = [head]
    stack = error_result.get("stackTrace")
    if stack is not None:
        lines.append(TRACEBACK_HEADER)
        for element in stack:
            # An empty element stays one empty line; any other is split into its lines.
            lines.extend([_with_stack_indent(line) for line in element.splitlines()] if element != "" else [""])
    log_sink.log_error(lines)
