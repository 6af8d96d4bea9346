# Benchmark functions called from Node: tandem's python() API and python-shell call the same echo.
def echo(payload):
    return payload
