# Benchmark handler: returns the event as it came (payload echo of 1 KiB .. 5 MiB, peak memory).
def handler(event, context):
    return event
