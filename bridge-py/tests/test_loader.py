"""tandem.loader.setup_sys_path in this process (sys.path and os.environ restored after each test): the order
AWS's python3.11 launcher gives sys.path, PYTHONPATH's presence (not its value) deciding, .pth files."""

import os
import sys
import unittest

from .helpers import TaskRoot
from tandem.loader import setup_sys_path


class SetupSysPath(unittest.TestCase):
    def setUp(self):
        saved_path = list(sys.path)
        saved_env = dict(os.environ)

        def restore():
            sys.path[:] = saved_path
            os.environ.clear()
            os.environ.update(saved_env)

        self.addCleanup(restore)
        os.environ.pop("PYTHONPATH", None)

    def test_order_layers_and_pth_files(self):
        files = {
            "task/a.pth": "vendor_a\n",
            "task/vendor_a/.keep": "",
            "layer/b.pth": "vendor_b\n",
            "layer/vendor_b/.keep": "",
        }
        with TaskRoot(files) as tmp:
            task, layer, missing = (os.path.join(tmp, d) for d in ("task", "layer", "missing-layer"))
            runtime = os.path.join(tmp, "runtime")
            sys.path[:] = [runtime, "/stdlib", "/site-packages"]
            import site

            real = site.getsitepackages
            site.getsitepackages = lambda: ["/site-packages"]
            self.addCleanup(setattr, site, "getsitepackages", real)
            setup_sys_path(task, runtime, layers=[layer, missing])
            self.assertEqual(
                [task, layer, missing, "/site-packages", runtime, "/stdlib", "/site-packages",
                 os.path.join(task, "vendor_a"), os.path.join(layer, "vendor_b")],
                sys.path,
            )
            self.assertEqual(runtime, os.environ["PYTHONPATH"])

    def test_pythonpath_present_even_empty(self):
        # AWS's launcher asks whether PYTHONPATH is in the environment, not whether it is empty.
        os.environ["PYTHONPATH"] = ""
        with TaskRoot({"layer/x.pth": "/never\n"}) as task:
            sys.path[:] = ["/runtime", "/stdlib"]
            setup_sys_path(task, "/runtime", layers=[os.path.join(task, "layer")])
            self.assertEqual([task, "/runtime", "/stdlib"], sys.path)
        self.assertEqual("", os.environ["PYTHONPATH"])


if __name__ == "__main__":
    unittest.main()
