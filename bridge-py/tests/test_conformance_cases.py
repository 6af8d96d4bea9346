"""Every Python conformance case, replayed against a real worker process (worker level: the Node side's
POSTs are derived from the worker's frames)."""

import glob
import json
import os
import unittest

from .conformance import conformance_dir, run_case


class ConformanceCases(unittest.TestCase):
    maxDiff = None

    def test_cases(self):
        base = conformance_dir()
        if base is None:
            self.skipTest("no conformance cases found (set TANDEM_CONFORMANCE_DIR)")
        only = os.environ.get("TANDEM_CASE")
        ran = 0
        for path in sorted(glob.glob(os.path.join(base, "cases", "*.json"))):
            with open(path) as f:
                case = json.load(f)
            if case.get("language", "python") != "python":
                continue
            if only and case["name"] != only:
                continue
            ran += 1
            with self.subTest(case=case["name"]):
                got, stderr = run_case(case)
                self.assertEqual(case["expected"], got, "stderr: %s" % stderr.decode("utf-8", "replace")[-2000:])
        self.assertGreater(ran, 0, "no case ran")


if __name__ == "__main__":
    unittest.main()
