"""Ctrl-C (SIGINT) and SIGTERM, deferred to a safe point.

Inside `StopSignals()`, the first SIGINT or SIGTERM only records the request: the training loop looks
at `requested` between steps, never inside an optimizer step, an evaluation or a file write, and then
saves a checkpoint and stops. A second signal stops at once (KeyboardInterrupt), for when waiting is
not wanted; files are still never left half-written (glassnet.save writes atomically).

    with StopSignals() as stop:
        while not stop.requested:
            ...one step...

Outside the main thread signal handlers cannot be installed: there the object only ever reports no
request.
"""
import signal
import sys
import threading

__all__ = ["StopSignals", "signal_name"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def signal_name(signum):
    return {signal.SIGINT: "Ctrl-C (SIGINT)", signal.SIGTERM: "SIGTERM"}.get(signum, f"signal {signum}")


class StopSignals:
    def __init__(self, message="stopping at the next safe point (again to stop at once, without saving)"):
        self.message = message
        self.requested = None  # the signal number of the first request, or None
        self._previous = {}

    def _handle(self, signum, frame):
        if self.requested is not None:
            raise KeyboardInterrupt(f"{signal_name(signum)} again: stopped at once")
        self.requested = signum
        print(f"\n{signal_name(signum)}: {self.message}", file=sys.stderr, flush=True)

    @property
    def exit_status(self):
        """The shell's convention for a process ended by the signal: 128 + its number (130 for Ctrl-C)."""
        return 128 + int(self.requested) if self.requested is not None else 0

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for signum in _SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc):
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
        return False
