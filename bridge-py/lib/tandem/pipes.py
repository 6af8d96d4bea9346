"""The worker's two protocol pipes, guarded against the function it runs (docs/protocol.md, "The worker's
fds"):

- `hide`: the pipes arrive on fixed fds (3 and 4 by default); they are moved to free fds from HIDE_FROM up,
  so code that uses small fd numbers by itself (`os.dup2(x, 4)`, `os.close(3)`, a library handing fd 3 to a
  child) never touches them, as on AWS's runtime where those numbers mean nothing;
- `protect`: a process the function forks (`os.fork()`, `multiprocessing`) gets /dev/null on those fds, so
  it cannot keep a dead worker's pipes open (or write into them), and a watchdog thread ends the worker at
  once when Node is gone (killed, crashed): the worker never outlives the runtime.

Nothing here runs per message: the cost is a few syscalls at start-up and one blocked thread.
"""

import os

HIDE_FROM = 200


def hide(fd):
    """fd moved to the lowest free fd >= HIDE_FROM (close-on-exec); fd itself where that is impossible."""
    target = HIDE_FROM
    while True:
        try:
            os.fstat(target)
        except OSError:
            break
        target += 1
    try:
        os.dup2(fd, target, inheritable=False)
    except OSError:
        return fd  # e.g. past RLIMIT_NOFILE: it stays where it is
    os.close(fd)
    return target


def protect(fd_in, fd_out, parent):
    """`parent`: os.getppid() as the worker started (Node, or bash that is about to exec Node)."""
    os.register_at_fork(after_in_child=lambda: _detach(fd_in, fd_out))
    _start_watchdog(fd_in, parent)


def _detach(fd_in, fd_out):
    """In a forked child: /dev/null where the pipes were (reads see EOF, writes go nowhere). Not closed, so
    the numbers cannot be reused by a file the child opens and then written to by the worker's code."""
    try:
        null = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
        os.dup2(null, fd_in, inheritable=False)
        os.dup2(null, fd_out, inheritable=False)
        os.close(null)
    except OSError:
        pass


def _start_watchdog(fd_in, parent):
    """A thread blocked in poll() on the input pipe with no events asked for: it wakes only when the pipe
    hangs up, i.e. Node closed it. Node closes it on purpose only at shutdown, so the thread then checks
    whether Node is still this process's parent: if not (Node died, the worker was re-parented), the
    worker kills itself at once. The thread blocks every signal, so signals reach the main thread as in a
    single-threaded worker."""
    import select
    import _thread

    poller = select.poll()
    poller.register(fd_in, 0)
    _thread.start_new_thread(_watch, (poller, parent, select.POLLNVAL))


def _watch(poller, parent, pollnval):
    import time
    import _signal

    try:
        _signal.pthread_sigmask(_signal.SIG_BLOCK, _signal.valid_signals())
        events = poller.poll()
    except Exception:
        return
    if not events or events[0][1] & pollnval:
        return  # the fd was closed under us (the function did it): Node sees the breakage and says so
    # Node's fds close a moment before the kernel re-parents this process: look a few times.
    delay = 0.001
    while delay < 4:
        if os.getppid() != parent:
            os.kill(os.getpid(), _signal.SIGKILL)
        time.sleep(delay)
        delay *= 2
