"""Keep freed heap memory for reuse once the worker has seen a large payload.

glibc returns large freed blocks to the kernel at once (mmap threshold, top trimming), so every large
payload faults in fresh pages for each buffer it needs (the frame, the decoded text, the encoded result):
on a microVM that costs ~10 us per 4 KiB page, several times the JSON work itself. After the first frame of
at least LARGE_FRAME bytes, the worker raises both thresholds with mallopt: later large payloads reuse the
same pages. Resident memory then stays at the largest payload's high-water mark (never above it). Done
lazily so that small-payload workers never load ctypes; a no-op where mallopt is missing (non-glibc)."""

LARGE_FRAME = 1024 * 1024

MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's maximum on 64-bit
TRIM_THRESHOLD = 64 * 1024 * 1024

_done = False


def keep_freed_memory():
    global _done
    if _done:
        return
    _done = True
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
        mallopt(-3, MMAP_THRESHOLD)  # M_MMAP_THRESHOLD
        mallopt(-1, TRIM_THRESHOLD)  # M_TRIM_THRESHOLD
    except (ImportError, OSError, AttributeError):
        pass
