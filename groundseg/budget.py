"""The memory budget: how many bytes one job may hold, checked before anything is allocated.

Every job whose size follows from its inputs (a window over a step, a swath over a polygon,
a resolution over a region, a satellite or antenna count) estimates its peak memory first
and calls :func:`require`, which raises :class:`BudgetError` in one line naming what was
asked and what it needs::

    step_s 1e-09: 8 satellites x 8.64e+13 times need 33.8 PiB, budget 11.8 GiB

The budget is, in order of precedence: :func:`set_memory_budget` (the command line's
``groundseg --memory-budget SIZE``), the environment variable ``GROUNDSEG_MEMORY_BUDGET``, and
by default half of the machine's memory (the lower of the physical memory and a cgroup limit).
Sizes are bytes or a number with a unit: ``500MB``, ``12 GiB``, ``2e9``.

Jobs that can work piece by piece (an ephemeris written in chunks) ask :func:`chunk_items`
how many items a piece may hold instead of failing.

>>> parse_size("1.5 GiB"), format_bytes(3 * 2**40)
(1610612736, '3 TiB')
"""
from __future__ import annotations

import math
import os
import re

from .errors import GroundsegError

__all__ = ["BudgetError", "memory_budget_bytes", "set_memory_budget", "require", "chunk_items",
           "parse_size", "format_bytes", "ENV_VAR"]

ENV_VAR = "GROUNDSEG_MEMORY_BUDGET"
_UNITS = {"": 1, "b": 1, "k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9,
          "t": 1e12, "tb": 1e12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_SIZE_RE = re.compile(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*")
_BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")
#: A piece of a chunked job takes at most this share of the budget (others may run beside it).
_CHUNK_SHARE = 1 / 8
_MAX_CHUNK_BYTES = 256 * 2**20

_override: int | None = None


class BudgetError(GroundsegError):
    """A job that would need more memory than the budget: ``subject`` (what was asked, e.g.
    ``step_s 1e-09``) and ``detail`` (``8 satellites x ... need 4 PiB, budget 12 GiB``)."""

    def __init__(self, subject: str, detail: str):
        super().__init__(f"{subject}: {detail}" if subject else detail)
        self.subject, self.detail = subject, detail

    def about(self, subject: str) -> "BudgetError":
        """The same error said of ``subject`` (a command-line option instead of a parameter)."""
        return BudgetError(subject, self.detail)


def parse_size(text) -> int:
    """Bytes from ``text``: a number of bytes or a number with a unit (kB, MB, GB, TB, KiB,
    MiB, GiB, TiB); BudgetError when it is not a positive finite size."""
    match = _SIZE_RE.fullmatch(str(text))
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS:
        raise BudgetError("", f"memory budget {text!r} is not a size like 4GiB, 500MB or 2e9")
    value = float(match.group(1)) * _UNITS[unit]
    if not (math.isfinite(value) and value >= 1):
        raise BudgetError("", f"memory budget {text!r} must be at least one byte")
    return int(value)


def format_bytes(n: float) -> str:
    """``n`` bytes in binary units with three significant digits (``'4.1 PiB'``)."""
    if not math.isfinite(n):
        return "an unbounded amount"
    k = 0
    while n >= 1024 and k < len(_BINARY) - 1:
        n, k = n / 1024, k + 1
    if k == 0:
        return f"{n:.0f} B"
    return f"{n:.3g} {_BINARY[k]}" if n < 1000 else f"{n:.0f} {_BINARY[k]}"


def _machine_bytes() -> int:
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as f:
                text = f.read().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return total


def memory_budget_bytes() -> int:
    """The budget in bytes (see the module docstring for where it comes from)."""
    if _override is not None:
        return _override
    text = os.environ.get(ENV_VAR, "").strip()
    if text:
        try:
            return parse_size(text)
        except BudgetError as exc:
            raise BudgetError(ENV_VAR, exc.detail) from None
    return _machine_bytes() // 2


def set_memory_budget(size) -> None:
    """Set the budget for this process: bytes, a size text (``'4GiB'``), or None to go back
    to ``GROUNDSEG_MEMORY_BUDGET`` / the default."""
    global _override
    _override = None if size is None else parse_size(size)


def require(nbytes: float, subject: str, what: str) -> None:
    """Nothing when ``nbytes`` fits the budget, else :class:`BudgetError` reading
    ``subject: what need SIZE, budget SIZE``.

    ``nbytes`` is a float so that absurd inputs (``1e300`` hours) estimate without overflow;
    NaN counts as unbounded.
    """
    budget = memory_budget_bytes()
    if not nbytes <= budget:
        raise BudgetError(subject, f"{what} need {format_bytes(nbytes)}, "
                                   f"budget {format_bytes(budget)}")


def chunk_items(bytes_per_item: float) -> int:
    """How many items of ``bytes_per_item`` one piece of a chunked job may hold (at least 1):
    an eighth of the budget, at most 256 MiB."""
    share = min(memory_budget_bytes() * _CHUNK_SHARE, _MAX_CHUNK_BYTES)
    return max(1, int(share // max(bytes_per_item, 1.0)))
