# python-shell baseline for Node -> Python calls: the usual python-shell pattern, a long-lived script that
# reads one JSON line per call on stdin and prints the JSON result as one line on stdout.
import importlib
import json
import sys

sys.path.insert(0, sys.argv[1])
module_name, function_name = sys.argv[2].rsplit(".", 1)
function = getattr(importlib.import_module(module_name), function_name)

for line in sys.stdin:
    print(json.dumps(function(json.loads(line))), flush=True)
