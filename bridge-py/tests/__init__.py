"""The worker's unittest suite (run from bridge-py/: `python3 -m unittest discover -s tests -t .`).

The runtime's importable folder is bridge-py/lib/ (the `tandem` package); the tests import it from there."""

import os
import sys

RUNTIME_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib")
if RUNTIME_DIR not in sys.path:
    sys.path.insert(0, RUNTIME_DIR)
