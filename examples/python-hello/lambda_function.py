"""A friendly hello handler: an unchanged AWS Lambda Python handler, run by tandem.

Works with a plain event ({"name": "Ada"}) and with HTTP events (function URL, API Gateway), where the
name comes from the query string (?name=Ada) or a JSON body ({"name": "Ada"}).
"""
import json
import logging

logger = logging.getLogger()
logger.setLevel(logging.INFO)

# Module-level state lives as long as the runtime stays warm, exactly as on Lambda.
invocations = 0


def find_name(event):
    if not isinstance(event, dict):
        return "world"
    if event.get("name"):
        return str(event["name"])
    query = event.get("queryStringParameters") or {}
    if query.get("name"):
        return query["name"]
    body = event.get("body")
    if isinstance(body, str) and body:
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and parsed.get("name"):
            return str(parsed["name"])
    return "world"


def lambda_handler(event, context):
    global invocations
    invocations += 1
    name = find_name(event)
    logger.info("greeting %s (invocation %d of this runtime)", name, invocations)
    print(f"request {context.aws_request_id}: {context.get_remaining_time_in_millis()} ms left")

    greeting = {
        "message": f"Hello, {name}!",
        "function": context.function_name,
        "memory_mb": int(context.memory_limit_in_mb),
        "request_id": context.aws_request_id,
        "warm_invocations": invocations,
    }
    if isinstance(event, dict) and "requestContext" in event:
        # An HTTP event: answer in the HTTP response shape (function URL / API Gateway).
        return {
            "statusCode": 200,
            "headers": {"content-type": "application/json"},
            "body": json.dumps(greeting),
        }
    return greeting
