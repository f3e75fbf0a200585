"""Independent tasks in this process or on a Dask cluster, with the same results either way.

``SatrecArray.sgp4`` holds the GIL, so a job scales across processes, not threads: its work
is cut into tasks that depend only on their own inputs (never on how the job was cut or
where a task runs), and a :class:`TaskRunner` runs them in this process or on a
``dask.distributed`` client (a ``LocalCluster`` or any scheduler). Dask is optional: it is
imported only when a client is given.

- :class:`TaskRunner`: ``share`` (data every task reads: scattered once to every worker),
  ``submit`` (one task; in this process it runs at once), ``gather`` (results in submission
  order, with a ``progress(done, total)`` callback as tasks finish);
- :func:`run_tasks`: the common case, one function mapped over task inputs, its results
  kept in order or handed to a ``consume`` callback as they arrive (memory for one result);
- :func:`tune_malloc`: what a worker process does first (see there); :func:`trim_memory`:
  the C heap's free pages back to the system after large results are merged.
"""
from __future__ import annotations

import os
import sys
from typing import Callable, Sequence

__all__ = ["TaskRunner", "run_tasks", "tune_malloc", "trim_memory", "client_label"]

Progress = Callable[[int, int], None]
Consume = Callable[[int, object], None]
_MALLOC_TUNED = False


def tune_malloc(force: bool = False) -> None:
    """Undo a tiny glibc trim threshold in this process (dask's nanny sets
    ``MALLOC_TRIM_THRESHOLD_=65536`` for its workers, which makes the searches' many
    short-lived arrays page-fault on every allocation: about 3x slower). Raises the trim
    and mmap thresholds to 64 / 16 MiB, once, and only where that variable is set low
    (or always, with ``force``: a long job in its own process)."""
    global _MALLOC_TUNED
    if _MALLOC_TUNED:
        return
    _MALLOC_TUNED = True
    try:
        low = "MALLOC_TRIM_THRESHOLD_" in os.environ and \
            int(os.environ["MALLOC_TRIM_THRESHOLD_"]) < 1 << 26
        if not (low or force) or not sys.platform.startswith("linux"):
            return
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-1, 1 << 26)   # M_TRIM_THRESHOLD
        libc.mallopt(-3, 1 << 24)   # M_MMAP_THRESHOLD
    except (OSError, ValueError, AttributeError):  # pragma: no cover - not glibc
        pass


def trim_memory() -> None:
    """Return the C heap's free pages to the system (glibc ``malloc_trim``; elsewhere
    nothing). Results that arrive as many small messages and are merged into large arrays
    leave their freed buffers in the heap, resident until trimmed."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        pass


def _tuned(fn, *args):
    tune_malloc()
    return fn(*args)


class TaskRunner:
    """Runs tasks in this process (``client`` None: each task runs when submitted) or on a
    ``dask.distributed.Client``. Task arguments may be results of earlier submissions (Dask
    passes them on without bringing them back here); ``progress(done, total)`` is called
    each time a submitted task finishes (``total``: the number of tasks the job will submit,
    if known)."""

    def __init__(self, client=None, progress: Progress | None = None, total: int | None = None):
        self.client, self.progress, self.total = client, progress, total
        self.submitted = self.done = 0
        self._futures = []

    def share(self, value, broadcast: bool = True):
        """``value`` as an argument many tasks read (on Dask: scattered once)."""
        if self.client is None:
            return value
        return self.client.scatter(value, broadcast=broadcast)

    def submit(self, fn, *args):
        """``fn(*args)``: its result in this process, a future on Dask."""
        self.submitted += 1
        if self.client is None:
            out = fn(*args)
            self._tick()
            return out
        future = self.client.submit(_tuned, fn, *args, pure=False)
        self._futures.append(future)
        return future

    def gather(self, handles: Sequence, consume: Consume | None = None) -> list | None:
        """Results of ``handles`` (from :meth:`submit`), in order; on Dask, waits for every
        task submitted so far and reports progress as they finish. With ``consume``, each
        result goes to ``consume(position, result)`` as it arrives (any order) instead."""
        if self.client is None:
            if consume is None:
                return list(handles)
            for i, result in enumerate(handles):
                consume(i, result)
            return None
        from distributed import as_completed
        position = {f.key: i for i, f in enumerate(handles)}
        out = [None] * len(handles)
        for future in as_completed(self._futures):
            self._tick()
            if future.key in position:      # brought back one at a time: memory bounded
                _deliver(out, consume, position[future.key], future.result())
                future.release()
        self._futures = []
        return None if consume is not None else out

    def _tick(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, max(self.total or 0, self.submitted))


def run_tasks(fn, tasks: Sequence, *, shared: tuple = (), client=None,
              progress: Progress | None = None, threads: int = 1,
              consume: Consume | None = None) -> list | None:
    """``fn(*shared, task)`` for every task, results in task order (``shared``: arguments
    every task reads, sent to each worker once). Without a client, ``threads`` > 1 runs
    them on a thread pool in this process. With ``consume``, each result goes to
    ``consume(index, result)`` as it arrives (any order) and is not kept: None is returned."""
    if client is None and threads > 1 and len(tasks) > 1:
        from concurrent.futures import ThreadPoolExecutor, as_completed
        out = [None] * len(tasks)
        with ThreadPoolExecutor(max_workers=threads) as pool:
            futures = {pool.submit(fn, *shared, t): i for i, t in enumerate(tasks)}
            for done, future in enumerate(as_completed(list(futures)), 1):
                _deliver(out, consume, futures.pop(future), future.result())
                if progress is not None:
                    progress(done, len(tasks))
        return None if consume is not None else out
    runner = TaskRunner(client, progress, len(tasks))
    common = tuple(runner.share(x) for x in shared)
    if client is None and consume is not None:
        for i, t in enumerate(tasks):          # each result handed over before the next runs
            consume(i, runner.submit(fn, *common, t))
        return None
    return runner.gather([runner.submit(fn, *common, t) for t in tasks], consume)


def _deliver(out: list, consume: Consume | None, i: int, result) -> None:
    if consume is None:
        out[i] = result
    else:
        consume(i, result)


def client_label(client) -> str:
    """The scheduler address of a client (for reports)."""
    try:
        return str(client.scheduler.address)
    except AttributeError:  # pragma: no cover
        return type(client).__name__
