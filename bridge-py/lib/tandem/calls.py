"""`call` messages: Node code calling a Python function `pkg.module.function` (docs/protocol.md).

The module is imported once and cached. The function is called as `function(payload, context)` when its
signature accepts two positional arguments, otherwise as `function(payload)`. The payload is the JSON body
decoded like an event; the result is encoded like a handler's result."""

from .context import LambdaContext
from .marshal import unmarshal_request


class Calls(object):
    def __init__(self):
        self._functions = {}

    def resolve(self, name):
        entry = self._functions.get(name)
        if entry is not None:
            return entry
        if not isinstance(name, str) or "." not in name:
            raise ValueError("call target must be 'module.function', got %r" % (name,))
        import importlib

        modname, fname = name.rsplit(".", 1)
        module = importlib.import_module(modname.replace("/", "."))
        try:
            fn = getattr(module, fname)
        except AttributeError:
            raise AttributeError("module '%s' has no function '%s'" % (modname, fname)) from None
        if not callable(fn):
            raise TypeError("'%s' is not callable (it is %s)" % (name, type(fn).__name__))
        entry = (fn, _accepts_two(fn))
        self._functions[name] = entry
        return entry

    def call(self, name, body, ctx):
        fn, with_context = self.resolve(name)
        payload = unmarshal_request(body if body is not None else b"null", "application/json")
        if with_context:
            return fn(payload, make_context(ctx))
        return fn(payload)


def _accepts_two(fn):
    import inspect

    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    try:
        sig.bind(None, None)
    except TypeError:
        return False
    return True


def make_context(ctx):
    if not isinstance(ctx, dict):
        ctx = {}
    return LambdaContext(
        ctx.get("requestId") or "",
        None,
        None,
        int(ctx.get("deadlineMs") or 0),
        ctx.get("functionArn") or "",
        ctx.get("tenantId"),
    )
