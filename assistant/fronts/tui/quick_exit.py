"""Give the terminal back the moment the chat quits, before the process's memory is released.

The chat holds torch and the model (about 600 MB). Ending a process that large takes the kernel a
quarter to half a second of freeing pages on a busy machine, and the shell waits for all of it. So the
chat runs in a forked child, and this process, light (nothing heavy is imported before the fork), waits
only for the child to say "done, with this exit status": it then exits at once while the child's
memory is released in the background.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable

Done = Callable[[int], None]


def run_in_child(main: Callable[[Done], int]) -> int:
    """`main(done)` in a forked child. As soon as it calls `done(status)`, this process exits with that
    status (it does not return); if the child dies without calling it, its status is returned. Where there
    is no fork, `main` runs in this process."""
    if not hasattr(os, "fork"):
        return main(lambda status: None)
    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the chat
        os.close(read_end)

        def done(status: int) -> None:
            with contextlib.suppress(OSError):
                os.write(write_end, bytes([status & 0xFF]))

        status = 1
        try:
            status = main(done)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            done(status)
            os._exit(status)
    os.close(write_end)
    previous = {sig: signal.signal(sig, lambda number, _: os.kill(child, number))  # a kill meant for the chat
                for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        reported = os.read(read_end, 1)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        os.close(read_end)
    if reported:  # end now: even this process's own interpreter shutdown is time the user waits
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(reported[0])
    _, wait_status = os.waitpid(child, 0)  # it died without a word (killed): its own status
    code = os.waitstatus_to_exitcode(wait_status)
    return 128 - code if code < 0 else code
