"""Error documents as AWS's runtime builds them: the error body, the X-Ray
cause, the runtime's own FaultExceptions and the stack-frame filtering."""

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

XRAY_CAUSE_LIMIT = 1024 * 1024


class FaultException(Exception):
    """A failure raised by the runtime itself: always reported with an empty stackTrace."""

    def __init__(self, exception_type, msg, trace=None):
        Exception.__init__(self, msg)
        self.exception_type = exception_type
        self.msg = msg
        self.trace = trace


def make_error(error_message, error_type, stack_trace, invoke_id=None):
    return {
        "errorMessage": error_message if error_message else "",
        "errorType": error_type if error_type else "",
        "requestId": invoke_id if invoke_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


def make_xray_fault(ex_type, ex_msg, working_dir, tb_tuples):
    stack = []
    files = set()
    for filename, lineno, name, _line in tb_tuples:
        stack.append({"label": name, "path": filename, "line": lineno})
        files.add(filename)
    return {
        "working_directory": working_dir,
        "exceptions": [{"message": ex_msg, "type": ex_type, "stack": stack}],
        "paths": list(files),
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


def format_frames(frames):
    import traceback

    return traceback.format_list(frames)


def error_from_exception(exc, invoke_id):
    """(error dict, xray dict) for an exception raised while handling an invoke or call."""
    if isinstance(exc, FaultException):
        xray = make_xray_fault("LambdaValidationError", exc.msg, os.getcwd(), [])
        return make_error(exc.msg, exc.exception_type, exc.trace, invoke_id), xray
    frames = user_frames(exc.__traceback__)
    etype = type(exc).__name__
    msg = str(exc)
    xray = make_xray_fault(etype, msg, os.getcwd(), frames)
    return make_error(msg, etype, format_frames(frames), invoke_id), xray


def init_error_from_exception(exc):
    """The error dict for an init failure (requestId "")."""
    if isinstance(exc, FaultException):
        return make_error(exc.msg, exc.exception_type, exc.trace)
    frames = user_frames(exc.__traceback__)
    return make_error(str(exc), type(exc).__name__, format_frames(frames), None)
