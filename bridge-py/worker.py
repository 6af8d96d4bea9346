"""tandem's Python worker: `<python> bridge-py/worker.py`, cwd = task root (see docs/protocol.md).

Sends `hello` first, before importing anything it does not need, then initialises (imports the handler)
without waiting for Node."""

import os
import sys


EXIT_BAD_START = 2


def _fd(name, default):
    value = os.environ.pop(name, None)
    try:
        fd = int(value) if value else default
        os.set_inheritable(fd, False)
    except (ValueError, OSError) as e:
        sys.stderr.write("tandem: %s=%s is not an open file descriptor (%s)\n" % (name, value or default, e))
        sys.exit(EXIT_BAD_START)
    return fd


def _runtime_path():
    """Python puts this script's folder first on sys.path; it holds the worker's entry point and tests, which
    handlers must not be able to import. The runtime's importable folder is lib/, holding only the `tandem`
    package (docs/python-worker.md, "What handlers can import"). Returns it, in the place of this folder."""
    here = os.path.dirname(os.path.abspath(__file__))
    runtime_dir = os.path.join(here, "lib")
    drop = {here, runtime_dir}
    if sys.path and sys.path[0] != here:
        drop.add(os.path.dirname(os.path.realpath(__file__)))  # Python put the symlink-free folder there
    sys.path[:] = [runtime_dir] + [p for p in sys.path if p not in drop]
    return runtime_dir


def main():
    parent = os.getppid()
    fd_in = _fd("TANDEM_FD_IN", 3)
    fd_out = _fd("TANDEM_FD_OUT", 4)
    mode = os.environ.pop("TANDEM_MODE", None) or "handler"
    max_frame = os.environ.get("TANDEM_MAX_FRAME_BYTES")
    runtime_dir = _runtime_path()

    from tandem import frames, pipes

    # Off the fixed fds they came on, where the function's own fd juggling could hit them.
    fd_in = pipes.hide(fd_in)
    fd_out = pipes.hide(fd_out)
    max_frame = int(max_frame) if max_frame else frames.MAX_FRAME_BYTES
    v = sys.version_info
    hello = {"t": "hello", "v": frames.PROTOCOL_VERSION, "pid": os.getpid(), "python": "%d.%d.%d" % v[:3]}
    if sys.executable:
        # Node spawns later workers with this path directly (no version-manager shim in between).
        hello["exe"] = sys.executable
    hello["inFd"] = fd_in
    hello = frames.encode_frame(hello)
    try:
        frames.FrameWriter(fd_out).write_raw(hello)
    except BrokenPipeError:
        os._exit(0)  # Node is already gone (it said why): nothing to add
    pipes.protect(fd_in, fd_out, parent)

    from tandem.main import run

    run(fd_in, fd_out, mode, max_frame, runtime_dir)


if __name__ == "__main__":
    main()
