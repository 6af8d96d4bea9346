"""Test helper: temporary task roots holding small handler modules."""

import os
import shutil
import tempfile
import textwrap


class TaskRoot(object):
    def __init__(self, files):
        self.path = tempfile.mkdtemp(prefix="tandem-task-")
        for name, text in files.items():
            full = os.path.join(self.path, name)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as f:
                f.write(textwrap.dedent(text))

    def __enter__(self):
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)
