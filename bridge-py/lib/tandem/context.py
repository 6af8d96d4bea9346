"""The `context` argument of a handler.

A handler sees what AWS's runtime gives it: classes named LambdaContext, CognitoIdentity, ClientContext and
Client; the same attributes, set in the same order (so vars() and dir() match); the parts' __slots__ lists;
the same repr() strings. tests/test_observables.py pins all of it; the code is tandem's own. The classes carry
no docstrings and no helper methods on purpose: both would show in what a handler can inspect.
"""

import logging
import os
import sys
import time


def _shown(obj, names):
    """`Name([a=1,b=2])`: how every part of the context shows itself."""
    fields = ",".join("%s=%s" % (name, getattr(obj, name)) for name in names)
    return "%s([%s])" % (obj.__class__.__name__, fields)


class CognitoIdentity(object):
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __repr__(self):
        return _shown(self, self.__slots__)


class Client(object):
    __slots__ = [
        "installation_id",
        "app_title",
        "app_version_name",
        "app_version_code",
        "app_package_name",
    ]

    def __repr__(self):
        return _shown(self, self.__slots__)


class ClientContext(object):
    __slots__ = ["custom", "env", "client"]

    def __repr__(self):
        return _shown(self, self.__slots__)


def _slotted(cls, document):
    """An instance of one of the slotted parts, each slot taken from the parsed header JSON with `.get`: a slot
    the document lacks is None, and a document that is not a JSON object fails as it does on AWS."""
    part = cls()
    for slot in cls.__slots__:
        setattr(part, slot, document.get(slot))
    return part


def _client_context(document):
    context = _slotted(ClientContext, document)
    if context.client is not None:
        context.client = _slotted(Client, context.client)
    return context


def _identity(document):
    """Always an identity object, its fields None without a Cognito-Identity header."""
    identity = CognitoIdentity()
    if document is None:
        identity.cognito_identity_id = identity.cognito_identity_pool_id = None
    else:
        identity.cognito_identity_id = document.get("cognitoIdentityId")
        identity.cognito_identity_pool_id = document.get("cognitoIdentityPoolId")
    return identity


class LambdaContext(object):
    def __init__(
        self,
        invoke_id,
        client_context,
        cognito_identity,
        epoch_deadline_time_in_ms,
        invoked_function_arn=None,
        tenant_id=None,
    ):
        # Set in this order: vars(context) lists them so on AWS. The environment is read per invocation, as AWS
        # does (a handler that changes these variables sees the change in its next context).
        env = os.environ.get
        self.aws_request_id = invoke_id
        self.log_group_name = env("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = env("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")  # a str, as on AWS
        self.function_version = env("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id
        self.client_context = None if client_context is None else _client_context(client_context)
        self.identity = _identity(cognito_identity)
        self._epoch_deadline_time_in_ms = epoch_deadline_time_in_ms

    def get_remaining_time_in_millis(self):
        return max(0, self._epoch_deadline_time_in_ms - int(time.time() * 1000))

    def log(self, msg):
        # The sink of the runtime's root handler (the telemetry fd, or stdout), or stdout when the handler has
        # replaced the runtime's logging set-up.
        text = str(msg)
        sink = next((h.log_sink for h in logging.getLogger().handlers if hasattr(h, "log_sink")), None)
        if sink is None:
            sys.stdout.write(text)
        else:
            sink.log(text)

    def __repr__(self):
        return _shown(
            self,
            (
                "aws_request_id",
                "log_group_name",
                "log_stream_name",
                "function_name",
                "memory_limit_in_mb",
                "function_version",
                "invoked_function_arn",
                "client_context",
                "identity",
                "tenant_id",
            ),
        )
