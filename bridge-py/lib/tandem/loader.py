"""Finding the handler as AWS's runtime does: sys.path order, .pth files in
the task root, `_HANDLER` resolution and the init-phase FaultExceptions."""

import os
import sys

from .errors import (
    BUILT_IN_MODULE_CONFLICT,
    HANDLER_NOT_FOUND,
    IMPORT_MODULE_ERROR,
    MALFORMED_HANDLER_NAME,
    USER_CODE_SYNTAX_ERROR,
    FaultException,
)


def setup_sys_path(task_root, runtime_dir, layers=None):
    """Arrange sys.path as AWS's python3.11 launcher does, with `runtime_dir` (the folder holding only the
    `tandem` package) where AWS has /var/runtime:

        [task root, /opt/python/lib/pythonX.Y/site-packages, /opt/python, <the interpreter's site-packages>,
         runtime dir, ...the interpreter's own entries (its site-packages again at the end)]

    The layer folders (`layers`, default the two /opt ones) and the site-packages copy come in only when
    PYTHONPATH is absent from the environment; PYTHONPATH is then set to the runtime dir for child
    processes. `.pth` files in the task root (and in the layers) are processed."""
    import site

    pythonpath_set = "PYTHONPATH" in os.environ
    front = [task_root]
    if not pythonpath_set:
        if layers is None:
            layers = ["/opt/python/lib/python%d.%d/site-packages" % sys.version_info[:2], "/opt/python"]
        front += layers + _site_packages(site)
    sys.path[:] = front + [runtime_dir] + [p for p in sys.path if p != runtime_dir]
    site.addsitedir(task_root)
    if not pythonpath_set:
        for layer in layers:
            if os.path.isdir(layer):
                site.addsitedir(layer)
        os.environ["PYTHONPATH"] = runtime_dir


def _site_packages(site):
    """The interpreter's own site-packages folders that are on sys.path (AWS's image has one:
    /var/lang/lib/pythonX.Y/site-packages, where boto3 is), in sys.path order."""
    known = set(getattr(site, "getsitepackages", list)())
    return [p for p in sys.path if p in known]


def handler_name():
    """The handler string from _HANDLER (an optional `python:` prefix removed); None when unset."""
    name = os.environ.get("_HANDLER")
    if name is None:
        return None
    if name.startswith("python:"):
        name = name[len("python:") :]
    return name


def get_handler(handler):
    """The object `handler` names (`module.function`, `pkg/mod.function`): the module is imported, the name
    looked up once. It is not checked for being callable: calling it fails per invocation, as on AWS."""
    try:
        module_name, attribute = handler.rsplit(".", 1)
    except ValueError as e:  # no dot: AWS's message quotes Python's own unpacking error
        raise FaultException(MALFORMED_HANDLER_NAME, "Bad handler '%s': %s" % (handler, e))
    found = getattr(import_handler_module(module_name), attribute, _MISSING)
    if found is _MISSING:
        raise FaultException(HANDLER_NOT_FOUND, "Handler '%s' missing on module '%s'" % (attribute, module_name))
    return found


_MISSING = object()


def import_handler_module(module_name):
    """Imports the handler's module (`a/b/c` is `a.b.c`). A built-in module's name, an ImportError and a
    SyntaxError become init errors worded as AWS's; any other exception is reported with its own type."""
    if module_name.split(".")[0] in sys.builtin_module_names:
        message = "Cannot use built-in module %s as a handler module" % module_name
        raise FaultException(BUILT_IN_MODULE_CONFLICT, message)
    import importlib

    try:
        return importlib.import_module(module_name.replace("/", "."))
    except ImportError as e:
        raise FaultException(IMPORT_MODULE_ERROR, "Unable to import module '%s': %s" % (module_name, e))
    except SyntaxError as e:
        raise FaultException(
            USER_CODE_SYNTAX_ERROR, "Syntax error in module '%s': %s" % (module_name, e), [_syntax_error_frame(e)]
        )


def _syntax_error_frame(e):
    # AWS's one stack entry for a syntax error: a capital `Line`, no comma, and the source text as Python kept
    # it (its own newline included).
    return '  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)
