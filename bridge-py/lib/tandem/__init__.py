"""tandem's Python worker package, and the small public API handlers may import.

`tandem.StreamingResponse` lets a handler stream its response with an HTTP status, headers and cookies
(see docs/streaming-python.md). Importing this package costs nothing: the worker's modules load on demand.
"""

HTTP_INTEGRATION_CONTENT_TYPE = "application/vnd.awslambda.http-integration-response"
DEFAULT_STREAM_CONTENT_TYPE = "application/octet-stream"


class StreamingResponse(object):
    """A streamed response.

    body: an iterable, iterator, generator or async generator yielding bytes or str (str is sent as
    UTF-8), or a single bytes/str value.
    status_code, headers, cookies: when any is given, the response uses the HTTP integration format
    (content type application/vnd.awslambda.http-integration-response, a JSON prelude then 8 NUL bytes),
    for Function URLs and API Gateway streaming. status_code defaults to 200 then.
    content_type: the Content-Type of the body. In HTTP mode it becomes the `content-type` response header
    (unless headers already has one); otherwise it is the stream's own Content-Type
    (default application/octet-stream).
    """

    __slots__ = ("body", "status_code", "headers", "cookies", "content_type")

    def __init__(self, body, status_code=None, headers=None, cookies=None, content_type=None):
        if headers is not None and not isinstance(headers, dict):
            raise TypeError("StreamingResponse headers must be a dict, not %s" % type(headers).__name__)
        if cookies is not None and not isinstance(cookies, (list, tuple)):
            raise TypeError("StreamingResponse cookies must be a list, not %s" % type(cookies).__name__)
        if status_code is not None and (not isinstance(status_code, int) or isinstance(status_code, bool)):
            raise TypeError("StreamingResponse status_code must be an int, not %s" % type(status_code).__name__)
        self.body = body
        self.status_code = status_code
        self.headers = headers
        self.cookies = cookies
        self.content_type = content_type

    @property
    def http_integration(self):
        return self.status_code is not None or self.headers is not None or self.cookies is not None

    def stream_content_type(self):
        if self.http_integration:
            return HTTP_INTEGRATION_CONTENT_TYPE
        return self.content_type or DEFAULT_STREAM_CONTENT_TYPE

    def prelude(self):
        """The HTTP integration prelude (JSON, then 8 NUL bytes), or b"" in plain mode."""
        if not self.http_integration:
            return b""
        import json

        doc = {"statusCode": 200 if self.status_code is None else self.status_code}
        headers = dict(self.headers or {})
        if self.content_type and not any(k.lower() == "content-type" for k in headers):
            headers["content-type"] = self.content_type
        if headers:
            doc["headers"] = headers
        if self.cookies is not None:
            doc["cookies"] = list(self.cookies)
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\0" * 8

    def __repr__(self):
        return "StreamingResponse(status_code=%r, content_type=%r)" % (self.status_code, self.stream_content_type())


__all__ = ["StreamingResponse"]
