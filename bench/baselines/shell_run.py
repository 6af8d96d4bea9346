# python-shell baseline, one process per call (PythonShell.run, the pattern of python-shell's README): the
# payload arrives as a JSON argument, the result leaves as one JSON line on stdout.
import importlib
import json
import sys

sys.path.insert(0, sys.argv[1])
module_name, function_name = sys.argv[2].rsplit(".", 1)
function = getattr(importlib.import_module(module_name), function_name)
print(json.dumps(function(json.loads(sys.argv[3]))), flush=True)
