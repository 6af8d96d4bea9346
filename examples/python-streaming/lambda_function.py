"""Streams a simulated model completion token by token, with an HTTP status and content type.

Runs on tandem (response streaming from Python). On Lambda, deploy it with a Function URL whose invoke
mode is RESPONSE_STREAM; locally: see README.md next to this file.
"""

import time

import tandem

COMPLETION = (
    "Streaming lets a function send its answer while it is still working on it: the caller sees the "
    "first words after a few milliseconds instead of waiting for the whole text."
)


def tokens(text, delay):
    for i, word in enumerate(text.split(" ")):
        time.sleep(delay)
        yield word if i == 0 else " " + word
    yield "\n"


def option(event, name, default):
    """A setting from a direct event ({"prompt": ...}) or a function URL's query string (?prompt=...)."""
    if not isinstance(event, dict):
        return default
    query = event.get("queryStringParameters") or {}
    return event.get(name, query.get(name, default))


def lambda_handler(event, context):
    prompt = option(event, "prompt", "Why stream?")
    delay = float(option(event, "delay", 0.05))
    print("completing prompt: %s" % prompt)
    return tandem.StreamingResponse(
        tokens(COMPLETION, delay),
        status_code=200,
        headers={"x-model": "tandem-demo", "cache-control": "no-store"},
        content_type="text/plain; charset=utf-8",
    )
