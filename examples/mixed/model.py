"""A toy sentiment model: the Python side of examples/mixed (stdlib only).

Imported once by tandem's Python worker; `score` is called for each request from Node with the decoded JSON
payload and the Lambda context of the Node invocation.
"""
import re

POSITIVE = {"good", "great", "love", "excellent", "happy", "fast", "nice", "wonderful", "best"}
NEGATIVE = {"bad", "awful", "hate", "slow", "terrible", "sad", "worst", "broken", "poor"}
WORD = re.compile(r"[a-z']+")
SUPPORTED = {"en"}


def score(payload, context=None):
    lang = payload.get("lang", "en")
    if lang not in SUPPORTED:
        raise ValueError("unsupported language: %s" % lang)
    words = WORD.findall(payload["text"].lower())
    pos = sum(w in POSITIVE for w in words)
    neg = sum(w in NEGATIVE for w in words)
    total = pos + neg
    value = 0.0 if total == 0 else round((pos - neg) / total, 3)
    return {
        "score": value,
        "label": "positive" if value > 0 else "negative" if value < 0 else "neutral",
        "words": len(words),
        "remainingMs": context.get_remaining_time_in_millis() if context is not None else None,
    }
