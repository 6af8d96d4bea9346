"""The worker's runtime: init (handler import), one invoke, one call — AWS's `bootstrap.run` /
`handle_event_request` flow over the worker protocol.

This file is named bootstrap.py on purpose: AWS's stack-trace rule drops leading frames from files whose
path contains `/bootstrap.py`, and the handler is called directly from `handle_invoke` below.
"""

import os

from . import logs
from .context import LambdaContext
from .errors import (
    LAMBDA_CONTEXT_UNMARSHAL_ERROR,
    RESPONSE_SIZE_TOO_LARGE,
    XRAY_CAUSE_LIMIT,
    FaultException,
    error_from_exception,
    init_error_from_exception,
)
from .marshal import marshal_response, to_json, unmarshal_request
from .streaming import is_stream

LAMBDA_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function code. However, "
    "in rare cases, a Lambda runtime update can cause unexpected function behavior. For functions using "
    "managed runtimes, runtime updates can be triggered by a function change, or can be applied "
    "automatically. To determine if the runtime has been updated, check the runtime version in the "
    "INIT_START log entry. If this error correlates with a change in the runtime version, you may be able "
    "to mitigate this error by temporarily rolling back to the previous runtime version. For more "
    "information, see {}\r"
)
DOC_LINK = "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html"
DOC_LINK_CN = "https://docs.amazonaws.cn/lambda/latest/dg/runtimes-update.html"

ENVELOPE_SLACK = 4096


class Runtime(object):
    """Per-process state: the log sink, the handler, the frame writer."""

    def __init__(self, writer):
        self.writer = writer
        self.log_sink = None
        self.handler = None
        self.calls = None

    # ------------------------------------------------------------------ init

    def start_logging(self):
        logs.wrap_std_streams()
        self.log_sink = logs.create_log_sink()
        self.log_sink.__enter__()
        logs.setup(self.log_sink)

    def init_handler(self, handler_name):
        """Import the handler. Returns None, or (errorType, body bytes) for an init error (the warning
        and the [ERROR] line are already written)."""
        try:
            from .loader import get_handler

            self.handler = get_handler(handler_name)
            return None
        except Exception as e:
            error_result = init_error_from_exception(e)
        import logging

        region = os.environ.get("AWS_REGION") or ""
        logging.warning(LAMBDA_WARNING.format(DOC_LINK_CN if region.startswith("cn-") else DOC_LINK))
        logs.log_error(error_result, self.log_sink)
        return error_result["errorType"], to_json(error_result).encode("utf-8")

    # ---------------------------------------------------------------- invoke

    def handle_invoke(self, msg):
        invoke_id = msg["id"]
        current = logs.current
        tenant_id = msg.get("tenantId") or None  # an empty header is None, as in AWS's client
        current["request_id"] = invoke_id
        current["tenant_id"] = tenant_id
        trace_id = msg.get("traceId")
        if trace_id:
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        elif "_X_AMZN_TRACE_ID" in os.environ:
            del os.environ["_X_AMZN_TRACE_ID"]

        request_handler = self.handler
        try:
            lambda_context = context_for(msg, invoke_id, tenant_id)
            event = unmarshal_request(msg.get("body"), msg.get("contentType"))
            response = request_handler(event, lambda_context)
            if is_stream(response):
                return self.send_stream(response, invoke_id)
            result, content_type = marshal_response(response)
        except Exception as e:
            return self.send_error(e, invoke_id)
        if len(result) > self.writer.max_bytes - ENVELOPE_SLACK:
            return self.send_error(
                FaultException(RESPONSE_SIZE_TOO_LARGE, _too_large(len(result), self.writer.max_bytes)), invoke_id
            )
        self.writer.write_result(invoke_id, content_type, result)

    def send_error(self, exc, invoke_id):
        error_result, xray = error_from_exception(exc, invoke_id)
        logs.log_error(error_result, self.log_sink)
        xray_cause = to_json(xray)
        if len(xray_cause.encode("utf-8", "surrogatepass")) >= XRAY_CAUSE_LIMIT:
            xray_cause = ""
        self.writer.write(
            {
                "t": "error",
                "id": invoke_id,
                "errorType": error_result["errorType"],
                "body": to_json(error_result).encode("utf-8", "surrogatepass"),
                "xrayCause": xray_cause,
            }
        )

    def send_stream(self, response, invoke_id):
        from .streaming import stream

        exc = stream(response, self.writer, invoke_id)
        if exc is None:
            self.writer.write({"t": "streamEnd", "id": invoke_id})
            return
        error_result, _xray = error_from_exception(exc, invoke_id)
        logs.log_error(error_result, self.log_sink)
        self.writer.write(
            {
                "t": "streamError",
                "id": invoke_id,
                "errorType": error_result["errorType"],
                "body": to_json(error_result).encode("utf-8", "surrogatepass"),
            }
        )

    # ------------------------------------------------------------------ call

    def handle_call(self, msg):
        calls = self.calls
        if calls is None:
            from .calls import Calls

            calls = self.calls = Calls()
        call_id = msg["id"]
        ctx = msg.get("context")
        request_id = ""
        if type(ctx) is dict:
            request_id = ctx.get("requestId") or ""
            current = logs.current
            current["request_id"] = request_id
            current["tenant_id"] = ctx.get("tenantId")
        try:
            body = to_json(calls.call(msg["fn"], msg.get("body"), ctx)).encode("utf-8", "surrogatepass")
            if len(body) > self.writer.max_bytes - ENVELOPE_SLACK:
                raise FaultException(RESPONSE_SIZE_TOO_LARGE, _too_large(len(body), self.writer.max_bytes))
        except Exception as e:
            error_result, _xray = error_from_exception(e, request_id)
            self.writer.write(
                {
                    "t": "error",
                    "id": call_id,
                    "errorType": error_result["errorType"],
                    "body": to_json(error_result).encode("utf-8", "surrogatepass"),
                    "xrayCause": None,
                }
            )
            return
        self.writer.write_result(call_id, "application/json", body)


def _too_large(size, max_frame):
    return "Response payload size (%d bytes) exceeded maximum allowed payload size (%d bytes)." % (
        size,
        max_frame - ENVELOPE_SLACK,
    )


def context_for(msg, request_id, tenant_id):
    """The context of an `invoke` message, from the /next headers it carries (docs/protocol.md). The
    Client-Context and Cognito-Identity headers are JSON, parsed with the standard json module as AWS's runtime
    parses them; a missing deadline counts as 0 and a missing function ARN as "", as AWS's client maps them."""
    return LambdaContext(
        request_id,
        _header_document(msg.get("clientContext"), "Client Context"),
        _header_document(msg.get("cognitoIdentity"), "Cognito Identity"),
        int(msg.get("deadlineMs") or 0),
        msg.get("functionArn") or "",
        tenant_id,
    )


def _header_document(text, header):
    """A JSON header's document; None for an absent or empty header. Unparsable JSON fails the invocation with
    Runtime.LambdaContextUnmarshalError."""
    if not text:
        return None
    import json

    try:
        return json.loads(text)
    except Exception as e:
        raise FaultException(LAMBDA_CONTEXT_UNMARSHAL_ERROR, "Unable to parse %s JSON: %s" % (header, e))
