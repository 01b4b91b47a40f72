"""Iterate in a thread of its own, ahead of the consumer: a file from 1C is parsed and read while
the transaction that applies it waits on PostgreSQL (lxml and the readers are pure Python; the
database cursor stays in the consumer's thread)."""

import queue
import threading

_END = object()


class _Raised:
    def __init__(self, error):
        self.error = error


def read_ahead(iterable, limit):
    """Yield the items of ``iterable`` produced by a thread at most ``limit`` items ahead; an
    exception of the producer is raised here, where its item would have come. Closing the
    generator (or leaving it by an exception) stops the producer."""
    items = queue.Queue(maxsize=limit)
    stop = threading.Event()

    def hand_over(item):
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        last = _END
        try:
            for item in iterable:
                if not hand_over(item):
                    return
        except BaseException as error:  # noqa: BLE001 - raised in the consumer's thread
            last = _Raised(error)
        hand_over(last)

    thread = threading.Thread(target=produce, name="crm-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item = items.get()
            if item is _END:
                return
            if isinstance(item, _Raised):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join()
