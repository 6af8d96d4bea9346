# Benchmark handler: the smallest useful answer (cold start, warm invocations, memory after init).
def handler(event, context):
    return {"hello": "world"}
