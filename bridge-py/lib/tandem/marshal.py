"""JSON in and out, as AWS's runtime does it (docs/python-worker.md, JSON).

simplejson with AWS's Encoder when simplejson is importable; otherwise a byte-identical emulation built on
the stdlib `json` module (same output, same error messages). Imported lazily: only the first invoke pays.
"""

import os
import sys

from .errors import FaultException, MARSHAL_ERROR, UNMARSHAL_ERROR

_loads = None
_dumps = None


def _ensure_ascii():
    env = os.environ.get("AWS_EXECUTION_ENV") or ""
    prefix = "AWS_Lambda_python3."
    if env.startswith(prefix):
        try:
            return int(env[len(prefix) :]) < 12
        except ValueError:
            pass
    return sys.version_info < (3, 12)


def _setup():
    global _loads, _dumps
    ensure_ascii = _ensure_ascii()
    if os.environ.get("TANDEM_NO_SIMPLEJSON") != "1":
        try:
            import simplejson
        except ImportError:
            simplejson = None
    else:
        simplejson = None
    from .plainjson import make_fast_dumps

    # Plain data (dicts with str keys, lists, str, numbers, bool, None) goes through the stdlib C encoder,
    # which writes the same bytes as simplejson; the rest through simplejson or the (pure Python) emulation.
    if simplejson is not None:
        _loads, general = _simplejson_codec(simplejson, ensure_ascii)
    else:
        from . import jsonemu

        _loads = jsonemu.loads
        general = jsonemu.make_dumps(ensure_ascii)
    _dumps = make_fast_dumps(ensure_ascii, general)


def _simplejson_codec(simplejson, ensure_ascii):
    RawJSON = simplejson.RawJSON
    modules = sys.modules

    class Encoder(simplejson.JSONEncoder):
        def default(self, obj):
            # A Decimal can only exist once `decimal` is imported: no need to import it ourselves.
            decimal = modules.get("decimal")
            if decimal is not None and isinstance(obj, decimal.Decimal):
                if obj.is_nan():
                    return float("nan")
                return RawJSON(str(obj))
            return simplejson.JSONEncoder.default(self, obj)

    def dumps(obj):
        return Encoder(use_decimal=False, ensure_ascii=ensure_ascii, allow_nan=True).encode(obj)

    return simplejson.loads, dumps


def to_json(obj):
    """AWS's `to_json`: used for results, error bodies and X-Ray causes."""
    if _dumps is None:
        _setup()
    return _dumps(obj)


def using_simplejson():
    if _dumps is None:
        _setup()
    return _loads.__module__.startswith("simplejson")


def unmarshal_request(body, content_type):
    """The event: raw bytes unless the content type is exactly application/json."""
    if content_type != "application/json":
        return body
    if _loads is None:
        _setup()
    try:
        return _loads(body)
    except Exception as e:
        raise FaultException(UNMARSHAL_ERROR, "Unable to unmarshal input: {}".format(str(e)), None)


def marshal_response(response):
    """(body bytes, content type) for a handler's return value."""
    if isinstance(response, bytes):
        return response, "application/unknown"
    if _dumps is None:
        _setup()
    try:
        text = _dumps(response)
    except Exception as e:
        raise FaultException(MARSHAL_ERROR, "Unable to marshal response: {}".format(str(e)), None)
    return text.encode("utf-8", "surrogatepass"), "application/json"
