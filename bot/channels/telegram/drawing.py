"""Results' charts and reports, made one at a time by a drawing process, urgent ones first.

A result's radar and PDF report take about half a second of pure Python (matplotlib, fpdf2):
made in the bot's process, each would hold the interpreter's lock and stop every chat. They
are made in one spawned process instead, one result at a time, in this order:

* **urgent** — someone waits on them: a lead being sent carries them (its receipt waits), a
  result shown by an older path;
* **in turn** — the files that follow a verdict already shown.

When 200 founders finish within two minutes, the files of their verdicts queue here (one
process makes about two results a second); a founder who then sends a lead does not wait for
all of them, only for the drawing in progress and their own. A result asked for twice (its
files follow the verdict, and the lead needs them) is drawn once. If the process cannot run,
the files are made in the caller's thread.
"""

from __future__ import annotations

import gc
import heapq
import itertools
import logging
import multiprocessing
import sys
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from bot.qualification.report import draw_result_files
from bot.qualification.results import Result

logger = logging.getLogger(__name__)

URGENT, IN_TURN = 0, 1
Files = tuple[bytes, bytes]  # the chart (PNG) and the report (PDF)


class Drawings:
    """A queue of results to draw, served by one drawing process (started when first
    needed). :meth:`draw` blocks its thread until the files are made: call it from a worker
    thread, never from the event loop."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._queue: list[tuple[int, int, Result]] = []  # a heap: (priority, order, result)
        self._order = itertools.count()
        self._waiting: dict[Result, int] = {}  # queued, not started: their priority
        self._futures: dict[Result, Future[Files]] = {}  # queued or being drawn
        self._process: ProcessPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    def draw(self, result: Result, *, urgent: bool = False) -> Files:
        """The chart and report of ``result``, once the drawing process has made them."""
        priority = URGENT if urgent else IN_TURN
        with self._lock:
            if self._closed:
                raise RuntimeError("drawing stopped")
            future = self._futures.get(result)
            if future is None:
                future = self._futures[result] = Future()
                self._enqueue(result, priority)
            elif self._waiting.get(result, priority) > priority:
                self._enqueue(result, priority)  # moves up; its old place is skipped
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="ptce-drawing",
                                                daemon=True)
                self._thread.start()
            self._lock.notify()
        return future.result()

    def _enqueue(self, result: Result, priority: int) -> None:
        self._waiting[result] = priority
        heapq.heappush(self._queue, (priority, next(self._order), result))

    def close(self) -> None:
        """Stop: the waiting callers get an error; the drawing process ends."""
        with self._lock:
            self._closed = True
            for future in self._futures.values():
                if future.running() or (not future.done()
                                        and future.set_running_or_notify_cancel()):
                    future.set_exception(RuntimeError("drawing stopped"))
            self._futures.clear()
            self._lock.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=30)  # the drawing in progress ends first
        if self._process is not None:
            self._process.shutdown(wait=True, cancel_futures=True)

    def _serve(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closed:
                    self._lock.wait()
                if self._closed:
                    return
                priority, _, result = heapq.heappop(self._queue)
                if self._waiting.get(result) != priority:
                    continue  # moved up the queue meanwhile: this entry is the old place
                del self._waiting[result]
                future = self._futures[result]
                if not future.set_running_or_notify_cancel():
                    continue
            files: Files | None = None
            error: Exception | None = None
            try:
                files = self._make(result)
            except Exception as exc:  # the caller sees it and makes the files itself
                error = exc
            with self._lock:
                if self._futures.get(result) is future:
                    del self._futures[result]
                if future.done():  # failed by close() meanwhile
                    continue
                if files is not None:
                    future.set_result(files)
                else:
                    future.set_exception(error or RuntimeError("no files"))

    def _make(self, result: Result) -> Files:
        if self._process is None:
            self._process = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                initializer=_without_numpy)
        try:
            return self._process.submit(_draw, result).result()
        except (BrokenProcessPool, OSError) as exc:
            logger.warning("Processus de dessin indisponible (%s) : dessin sur place.",
                           type(exc).__name__)
            self._process = None
            return draw_result_files(result)


def _without_numpy() -> None:
    """The drawing process's first step: numpy is not to be imported there. fpdf2 imports it
    when it can, only to speed up images with transparency and LZW compression, which the
    report does not have (its chart is an opaque PNG); without it, the process takes about
    16 MB less. (A ``None`` in ``sys.modules`` makes ``import numpy`` raise ImportError, which
    fpdf2 expects.)"""
    sys.modules["numpy"] = None  # type: ignore[assignment]


def _draw(result: Result) -> Files:
    """What the drawing process does for each result. An fpdf2 document is a web of
    references that only the cycle collector frees: collected at once, the next document
    reuses its memory (the process stays near 95 MB instead of 105–140 MB)."""
    files = draw_result_files(result)
    gc.collect()
    return files
