"""Shared benchmark plumbing: the table `Row`, percentile timing of sync and async calls, a
process-tree RSS sampler, and rendering the one results table as Markdown.

Owns how figures are formatted and how pass/miss is decided against a target. It must not know
what is being measured (the sections in `bench.index_bench`, `bench.query_bench`,
`bench.bot_bench` do) and never imports the database or Discord.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

try:
    import psutil
except ImportError:  # psutil is a dev dependency; the table says so instead of crashing
    psutil = None


@dataclass(slots=True)
class Row:
    """One line of the results table."""

    section: str
    measure: str
    figure: str  # the measurement as shown, or "not measured: <why>"
    baseline: str = ""
    ratio: str = ""
    target: str = ""
    result: str = ""  # "pass", "miss" or ""

    @property
    def measured(self) -> bool:
        return not self.figure.startswith("not measured")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def not_measured(section: str, measure: str, why: str, target: str = "") -> Row:
    return Row(section, measure, f"not measured: {why}", target=target)


@dataclass(frozen=True, slots=True)
class Timing:
    """Latency percentiles in milliseconds over `n` calls."""

    p50: float
    p95: float
    p99: float
    n: int
    max: float
    cpu_p50: float = float("nan")
    cpu_p99: float = float("nan")

    @classmethod
    def of(cls, millis: Iterable[float], cpu: Iterable[float] = ()) -> Timing:
        values = np.asarray(list(millis), dtype=float)
        if not len(values):
            return cls(float("nan"), float("nan"), float("nan"), 0, float("nan"))
        p50, p95, p99 = np.percentile(values, [50, 95, 99])
        cpus = np.asarray(list(cpu), dtype=float)
        c50, c99 = np.percentile(cpus, [50, 99]) if len(cpus) else (float("nan"), float("nan"))
        return cls(
            float(p50), float(p95), float(p99), len(values), float(values.max()), float(c50), float(c99)
        )

    def text(self) -> str:
        wall = f"p50 {ms(self.p50)} / p95 {ms(self.p95)} / p99 {ms(self.p99)} ms (n={self.n})"
        if self.cpu_p50 == self.cpu_p50:  # not NaN
            wall += f"; CPU p50 {ms(self.cpu_p50)} / p99 {ms(self.cpu_p99)} ms"
        return wall


def ms(value: float) -> str:
    """Milliseconds with sensible precision: 0.042, 3.1, 250."""
    if value != value:  # NaN
        return "n/a"
    if value < 1:
        return f"{value:.3f}"
    if value < 100:
        return f"{value:.1f}"
    return f"{value:,.0f}"


def time_calls(fn: Callable[[Any], Any], args: list[Any]) -> tuple[Timing, list[Any]]:
    """Call `fn(arg)` for each arg; the latency percentiles and the results."""
    times, out = [], []
    for arg in args:
        t0 = time.perf_counter()
        out.append(fn(arg))
        times.append((time.perf_counter() - t0) * 1000)
    return Timing.of(times), out


async def time_async(fn: Callable[[Any], Awaitable[Any]], args: list[Any]) -> tuple[Timing, list[Any]]:
    """Await `fn(arg)` for each arg; the latency percentiles (wall, and CPU time of the process, all
    its threads: the figure other load on the machine disturbs least) and the results (exceptions
    kept)."""
    times, cpu, out = [], [], []
    for arg in args:
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            out.append(await fn(arg))
        except Exception as exc:  # a query that finds nothing raises QueryError: still a timing
            out.append(exc)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return Timing.of(times, cpu), out


def check(value: float, limit: float, *, at_most: bool = True) -> str:
    """ "pass" or "miss" of `value` against `limit`."""
    if value != value:
        return "miss"
    return "pass" if (value <= limit if at_most else value >= limit) else "miss"


def ratio(slow: float, fast: float) -> str:
    if fast <= 0 or slow != slow or fast != fast:
        return "n/a"
    return f"{slow / fast:,.0f}×" if slow / fast >= 10 else f"{slow / fast:.1f}×"


class TreeRSS:
    """Samples the resident memory of this process and its children in a thread (peak, in MB), and
    the CPU seconds they used (a figure other load on the machine disturbs far less than wall time)."""

    def __init__(self, pid: int | None = None, every: float = 0.1) -> None:
        self.every = every
        self.peak_self = 0.0
        self.peak_tree = 0.0
        self._cpu_start = 0.0
        self._cpu_self = 0.0
        self._cpu_kids: dict[int, float] = {}
        self._load_peak = 0.0
        self._stop = threading.Event()
        self._proc = psutil.Process(pid) if psutil else None
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def cpu_seconds(self) -> float:
        """CPU (user + system) used by this process and its children while sampled."""
        return self._cpu_self - self._cpu_start + sum(self._cpu_kids.values())

    @property
    def cpu_main(self) -> float:
        """CPU (user + system) of this process alone while sampled."""
        return self._cpu_self - self._cpu_start

    @property
    def load_peak(self) -> float:
        """The highest 1-minute load average seen while sampled."""
        return self._load_peak

    def __enter__(self) -> TreeRSS:
        self._sample()
        self._cpu_start = self._cpu_self
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _sample(self) -> None:
        with contextlib.suppress(OSError, AttributeError):
            self._load_peak = max(self._load_peak, os.getloadavg()[0])
        if self._proc is None:
            return
        try:
            own = self._proc.memory_info().rss
            times = self._proc.cpu_times()
            self._cpu_self = times.user + times.system
            kids = 0
            for child in self._proc.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    kids += child.memory_info().rss
                    times = child.cpu_times()
                    self._cpu_kids[child.pid] = times.user + times.system
        except psutil.Error:
            return
        self.peak_self = max(self.peak_self, own / 1e6)
        self.peak_tree = max(self.peak_tree, (own + kids) / 1e6)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()


def peak_rss_mb(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS `VmHWM`) of a process in MB, read from /proc when available."""
    current = psutil.Process(pid).memory_info().rss / 1e6 if psutil else float("nan")
    peak = float("nan")
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    peak = int(line.split()[1]) * 1024 / 1e6  # kB in /proc means KiB
    except OSError:
        pass
    return current, peak


HEADER = ("Section", "Measure", "Figure", "Baseline (same run)", "Ratio", "Target", "Result")


def markdown(rows: list[Row]) -> str:
    """The results as one Markdown table."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for r in rows:
        cells = (r.section, r.measure, r.figure, r.baseline, r.ratio, r.target, r.result)
        lines.append("| " + " | ".join(cell(c) for c in cells) + " |")
    return "\n".join(lines)
