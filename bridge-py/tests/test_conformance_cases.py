"""Every Python conformance case, replayed against a real worker process (worker level: the Node side's
POSTs are derived from the worker's frames)."""

import glob
import json
import os
import unittest
from concurrent.futures import ThreadPoolExecutor

from .conformance import conformance_dir, run_case
from .workerproc import PYTHON


def worker_python_version():
    import subprocess

    out = subprocess.run([PYTHON, "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True, text=True)
    return tuple(int(x) for x in out.stdout.split())


def version_neutral(case):
    text = json.dumps(case["expected"], ensure_ascii=True)
    # "\\\\u" is a JSON-escaped non-ASCII character inside a POST body (3.12+ sends it raw)
    return not any(mark in text for mark in ("python3.11", "^^", "\\\\u", "Syntax error", "<frozen"))


class ConformanceCases(unittest.TestCase):
    maxDiff = None

    def test_cases(self):
        base = conformance_dir()
        only = os.environ.get("TANDEM_CASE")
        cases = []
        for path in sorted(glob.glob(os.path.join(base, "cases", "*.json"))):
            with open(path) as f:
                case = json.load(f)
            if case.get("language", "python") != "python":
                continue
            if only and case["name"] != only:
                continue
            cases.append(case)
        if worker_python_version() != (3, 11):
            # The recordings are Python 3.11's: on other versions compare only the cases whose recording
            # holds nothing that differs by interpreter version (stdlib frames, caret lines, parser
            # messages, non-ASCII text that 3.12+ does not escape).
            cases = [c for c in cases if version_neutral(c)]
        self.assertGreater(len(cases), 0, "no case ran")
        # Each case is its own worker process: run a few at a time.
        with ThreadPoolExecutor(max_workers=3) as pool:
            results = list(pool.map(run_case, cases))
        for case, (got, stderr) in zip(cases, results):
            with self.subTest(case=case["name"]):
                self.assertEqual(case["expected"], got, "stderr: %s" % stderr.decode("utf-8", "replace")[-2000:])

if __name__ == "__main__":
    unittest.main()
