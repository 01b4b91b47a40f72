"""Counting events without writing anything per event (e.g. rejected unauthenticated requests)."""

import threading
import time


class ThrottledCounter:
    """Counts events and says when to report them: the first event at once, then at most one
    report per ``interval`` seconds carrying the number of events since the previous report.

    The state is per process on purpose: it only paces log lines (with N workers, at most N lines
    per interval whatever the request rate); no decision depends on it."""

    def __init__(self, interval=60.0, clock=time.monotonic):
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._count = 0
        self._reported_at = None

    def hit(self):
        """Count one event; returns how many events to report now, 0 when it is not time yet."""
        with self._lock:
            self._count += 1
            now = self._clock()
            if self._reported_at is not None and now - self._reported_at < self.interval:
                return 0
            count, self._count, self._reported_at = self._count, 0, now
            return count
