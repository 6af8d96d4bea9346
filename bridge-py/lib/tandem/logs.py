"""Logging as AWS's runtime sets it up: unbuffered stdout/stderr, the root handler
with its filter and TEXT/JSON formatter, the telemetry-fd sink, and the `[ERROR]` line for uncaught errors."""

import logging
import os
import sys
import time

TEXT_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
ERROR_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

# Telemetry frame types per format and level.
_TEXT_FRAME = {0: 0xA55A0003, 10: 0xA55A000B, 20: 0xA55A000F, 30: 0xA55A0013, 40: 0xA55A0017, 50: 0xA55A001B}
_JSON_FRAME = {0: 0xA55A0002, 10: 0xA55A000A, 20: 0xA55A000E, 30: 0xA55A0012, 40: 0xA55A0016, 50: 0xA55A001A}
DEFAULT_FRAME = _TEXT_FRAME[0]

_RESERVED = {
    "name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module", "exc_info",
    "exc_text", "stack_info", "lineno", "funcName", "created", "msecs", "relativeCreated", "thread",
    "threadName", "processName", "process", "aws_request_id", "tenant_id", "_frame_type",
}

# The request id and tenant id of the current (or last) invoke: they feed the log filter.
current = {"request_id": None, "tenant_id": None}

json_format = (os.environ.get("AWS_LAMBDA_LOG_FORMAT") or "").upper() == "JSON"


def _level_name_from_env(value):
    # As AWS's runtime: only the exact "TRACE" maps to DEBUG (a lower-case "trace" names no level).
    if value is None:
        return ""
    return ("DEBUG" if value == "TRACE" else value).upper()


log_level_name = _level_name_from_env(os.environ.get("AWS_LAMBDA_LOG_LEVEL"))


class Unbuffered(object):
    """Flush after every write, pass every other attribute through."""

    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, exc_tb):
        pass

    def __getattr__(self, attr):
        return getattr(self.stream, attr)

    def write(self, msg):
        self.stream.write(msg)
        self.stream.flush()

    def writelines(self, msgs):
        self.stream.writelines(msgs)
        self.stream.flush()


class StandardLogSink(object):
    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, exc_tb):
        pass

    def log(self, msg, frame_type=None):
        sys.stdout.write(msg)

    def log_error(self, message_lines):
        sys.stdout.write("\r".join(message_lines) + "\n")


class FramedTelemetryLogSink(object):
    """One frame per record: type (4 BE) | length (4 BE) | µs timestamp (8 BE) | UTF-8 payload."""

    def __init__(self, fd):
        self.fd = fd
        self.file = None

    def __enter__(self):
        self.file = os.fdopen(self.fd, "wb", 0)
        return self

    def __exit__(self, exc_type, exc_value, exc_tb):
        self.file.close()

    def log(self, msg, frame_type=None):
        encoded = msg.encode("utf8")
        ts = time.time_ns() // 1000
        header = (
            (frame_type or DEFAULT_FRAME).to_bytes(4, "big")
            + len(encoded).to_bytes(4, "big")
            + ts.to_bytes(8, "big")
        )
        self.file.write(header + encoded)

    def log_error(self, message_lines):
        self.log("\n".join(message_lines), (_JSON_FRAME if json_format else _TEXT_FRAME)[40])


def create_log_sink():
    fd = os.environ.pop("_LAMBDA_TELEMETRY_LOG_FD", None)
    if fd is not None:
        return FramedTelemetryLogSink(int(fd))
    return StandardLogSink()


class LambdaLoggerHandler(logging.Handler):
    def __init__(self, log_sink):
        logging.Handler.__init__(self)
        self.log_sink = log_sink

    def emit(self, record):
        msg = self.format(record)
        self.log_sink.log(msg)


class LambdaLoggerHandlerWithFrameType(logging.Handler):
    def __init__(self, log_sink):
        super().__init__()
        self.log_sink = log_sink

    def emit(self, record):
        self.log_sink.log(
            self.format(record),
            frame_type=getattr(record, "_frame_type", None) or _TEXT_FRAME.get(_bucket(record.levelno)),
        )


class LambdaLoggerFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = current["request_id"] or ""
        record.tenant_id = current["tenant_id"]
        return True


def _bucket(levelno):
    return min(50, max(0, levelno)) // 10 * 10


class JsonFormatter(logging.Formatter):
    def __init__(self):
        super().__init__(datefmt=ERROR_DATETIME_FORMAT)
        import json

        self._encoder = json.JSONEncoder(ensure_ascii=False)

    def format(self, record):
        import traceback

        record.levelno = _bucket(record.levelno)
        record.levelname = logging.getLevelName(record.levelno)
        record._frame_type = _JSON_FRAME.get(record.levelno, _JSON_FRAME[0])
        exc_info = record.exc_info
        result = {
            "timestamp": self.formatTime(record, self.datefmt),
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            "stackTrace": traceback.format_tb(exc_info[2]) if exc_info else None,
            "errorType": exc_info[0].__name__ if exc_info else None,
            "errorMessage": str(exc_info[1]) if exc_info else None,
            "requestId": getattr(record, "aws_request_id", None),
            "location": "%s:%s:%d" % (record.pathname, record.funcName, record.lineno) if exc_info else None,
        }
        tenant_id = getattr(record, "tenant_id", None)
        if tenant_id is not None:
            result["tenantId"] = tenant_id
        for key, value in record.__dict__.items():
            if key not in _RESERVED and key not in result:
                result[key] = value
        result = {k: v for k, v in result.items() if v is not None}
        return self._encoder.encode(result) + "\n"


def setup(log_sink):
    """Install the root handler (once per process, before the handler module is imported)."""
    logging.Formatter.converter = time.gmtime
    logger = logging.getLogger()
    if json_format or log_level_name:
        handler = LambdaLoggerHandlerWithFrameType(log_sink)
    else:
        handler = LambdaLoggerHandler(log_sink)
    if json_format:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT, DATETIME_FORMAT))
    if log_level_name in logging._nameToLevel:
        logger.setLevel(log_level_name)
    handler.addFilter(LambdaLoggerFilter())
    logger.addHandler(handler)


def _nbsp_indent(line):
    n = len(line) - len(line.lstrip(" "))
    return "\u00a0" * n + line[n:] if n else line


def log_error(error_result, log_sink):
    """The uncaught-error log record (TEXT: `[ERROR] type: msg\\r…`; JSON: one object)."""
    if json_format:
        from .marshal import to_json

        doc = {
            "timestamp": time.strftime(ERROR_DATETIME_FORMAT, logging.Formatter.converter(time.time())),
            "log_level": "ERROR",
        }
        doc.update(error_result)
        log_sink.log_error([to_json(doc)])
        return
    description = "[ERROR]"
    etype = error_result.get("errorType")
    if etype:
        description += " " + etype
    emsg = error_result.get("errorMessage")
    if emsg:
        if etype:
            description += ":"
        description += " " + emsg
    lines = [description]
    stack = error_result.get("stackTrace")
    if stack is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack:
            if element == "":
                lines.append("")
            else:
                for line in element.splitlines():
                    lines.append(_nbsp_indent(line))
    log_sink.log_error(lines)


def wrap_std_streams():
    sys.stdout = Unbuffered(sys.stdout)
    sys.stderr = Unbuffered(sys.stderr)
