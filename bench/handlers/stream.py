# Benchmark handler: a generator of k chunks of b bytes each (the event is {"k": int, "b": int}), streamed
# by the runtime as the handler yields them (time to first byte, throughput).
def handler(event, context):
    count = int(event["k"])
    chunk = b"x" * int(event["b"])

    def chunks():
        for _ in range(count):
            yield chunk

    return chunks()
