"""Error documents as AWS's runtime writes them (docs/python-worker.md): the error body, the X-Ray cause, the
runtime's own failures (FaultException) and which stack frames are the handler's."""

import os

MARSHAL_ERROR = "Runtime.MarshalError"
UNMARSHAL_ERROR = "Runtime.UnmarshalError"
LAMBDA_CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
RESPONSE_SIZE_TOO_LARGE = "Function.ResponseSizeTooLarge"

# Frames in files whose path contains this are the runtime's own (AWS's rule; our invoking module is named
# bootstrap.py too). Frames in this package's own files are the runtime's as well.
RUNTIME_FILE_MARK = "/bootstrap.py"
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep

# An X-Ray cause of this many bytes or more is not sent (AWS's client drops it the same way).
XRAY_CAUSE_LIMIT = 1024 * 1024
# The X-Ray exception type of the runtime's own failures.
VALIDATION_ERROR = "LambdaValidationError"


class FaultException(Exception):
    """A failure raised by the runtime itself: always reported with an empty stackTrace."""

    def __init__(self, exception_type, msg, trace=None):
        Exception.__init__(self, msg)
        self.exception_type = exception_type
        self.msg = msg
        self.trace = trace


def error_document(message, error_type, stack_trace, request_id=None):
    """The error body Lambda gets, keys in AWS's order; a missing value is "" (or [] for the stack)."""
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": "" if request_id is None else request_id,
        "stackTrace": stack_trace or [],
    }


def xray_cause(error_type, message, frames):
    """The X-Ray error cause: the working directory, the exception with its frames, the set of their files
    (in no particular order, as on AWS)."""
    return {
        "working_directory": os.getcwd(),
        "exceptions": [
            {
                "message": message,
                "type": error_type,
                "stack": [{"label": name, "path": path, "line": line} for path, line, name, _source in frames],
            }
        ],
        "paths": list({frame[0] for frame in frames}),
    }


def user_frames(tb):
    """(filename, lineno, name, line) tuples from tb, starting at the first frame that is not the
    runtime's own. When every frame is the runtime's (a non-callable handler, a wrong arity), exactly one
    runtime frame is reported, as AWS reports its own `handle_event_request` frame."""
    import traceback

    frames = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]
    for i, frame in enumerate(frames):
        if RUNTIME_FILE_MARK not in frame[0] and not frame[0].startswith(PACKAGE_DIR):
            return frames[i:]
    return frames[:1]


def _stack_trace(frames):
    """`traceback.format_list` of plain tuples: no caret lines on any Python version, as AWS writes them."""
    import traceback

    return traceback.format_list(frames)


def error_from_exception(exc, request_id):
    """(error body, X-Ray cause) for an exception raised while handling an invoke or a call."""
    if isinstance(exc, FaultException):
        document = error_document(exc.msg, exc.exception_type, exc.trace, request_id)
        return document, xray_cause(VALIDATION_ERROR, exc.msg, [])
    frames = user_frames(exc.__traceback__)
    error_type, message = type(exc).__name__, str(exc)
    document = error_document(message, error_type, _stack_trace(frames), request_id)
    return document, xray_cause(error_type, message, frames)


def init_error_from_exception(exc):
    """The error body of an init failure (its requestId is "")."""
    if isinstance(exc, FaultException):
        return error_document(exc.msg, exc.exception_type, exc.trace)
    return error_document(str(exc), type(exc).__name__, _stack_trace(user_frames(exc.__traceback__)))
