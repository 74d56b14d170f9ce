"""Produce the next item of an iterator in a background thread while the caller works on this one."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
_END = object()


def read_ahead(items: Iterator[T]) -> Iterator[T]:
    """`items`, one item ahead: reading and splitting the next chunk overlaps judging this one.

    The iterator is advanced by one worker thread, one call at a time; its errors are raised here, in
    order. Stopping early waits for the item already being produced, then leaves the iterator.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead") as worker:
        upcoming = worker.submit(next, items, _END)
        while (item := upcoming.result()) is not _END:
            upcoming = worker.submit(next, items, _END)
            yield item  # type: ignore[misc]
