"""UTC in, ``(jd, fr)`` arrays out.

A :class:`TimeGrid` holds UTC instants as the two-part Julian date that sgp4 wants
(``jd + fr``, both float64, shape ``(n_time,)``) plus what frame rotations need: UT1 and
polar motion, and the GMST-1982 angle that turns TEME into the Earth-fixed frame.

Earth orientation comes from a skyfield timescale built offline from the IERS
``finals2000A.all`` file that ships inside ``astropy-iers-data`` (UT1-UTC, leap seconds and
polar motion, observed plus about a year of predictions; the package is released weekly,
so a current install carries current data). If that file cannot be read, skyfield's
builtin timescale (Delta-T and leap seconds bundled with skyfield, no polar motion) is used.
Nothing is ever downloaded.

Accepted at the edges: ISO 8601 strings (``2026-11-26T03:04:05.678Z``, any UTC offset),
``datetime`` with tzinfo (naive ones are refused), ``numpy.datetime64`` (taken as UTC),
skyfield ``Time``, and ``(jd, fr)`` pairs.
"""
from __future__ import annotations

import datetime as _dt
from functools import cached_property

import numpy as np

from . import budget
from .errors import TimeError

__all__ = ["TimeGrid", "parse_utc", "format_utc", "timescale"]

_JD_UNIX_EPOCH = 2440587.5
_NS_PER_DAY = 86_400_000_000_000
_SECONDS_PER_DAY = 86400.0
_JD_J2000 = 2451545.0

_TS = None
#: Most instants one grid may hold (8 bytes each for jd and fr): a guard against a step that
#: is a typo (``1e-9`` s over a day), checked before allocating.
MAX_INSTANTS = 100_000_000
#: Bytes a grid holds per instant while it is made (jd, fr and their normalisation).
_GRID_BYTES = 80


def timescale():
    """The skyfield timescale every TimeGrid uses (see the module docstring), created once."""
    global _TS
    if _TS is None:
        _TS = _iers_timescale()
        if _TS is None:
            from skyfield.api import load
            _TS = load.timescale(builtin=True)
    return _TS


def _iers_timescale():
    try:
        import astropy_iers_data
        from skyfield.data import iers
        from skyfield.timelib import Timescale
        with open(astropy_iers_data.IERS_A_FILE, "rb") as f:
            finals = iers.parse_x_y_dut1_from_finals_all(f)
        if len(finals) < 1000:
            return None
        tt, delta_t, leap_dates, leap_offsets = iers.build_timescale_arrays(
            finals["utc_mjd"], finals["dut1"])
        ts = Timescale((tt, delta_t), leap_dates, leap_offsets)
        iers.install_polar_motion_table(ts, finals)
        return ts
    except (ImportError, OSError, ValueError):  # pragma: no cover - fallback path
        return None


def _to_datetime64_ns(value) -> np.ndarray:
    """Anything we accept as UTC -> ``datetime64[ns]`` array (at least 1-D)."""
    if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.datetime64):
        return np.atleast_1d(value.astype("datetime64[ns]"))
    if isinstance(value, (str, _dt.date, np.datetime64)) or not np.iterable(value):
        value = [value]
    out = []
    for v in value:
        if isinstance(v, np.datetime64):
            out.append(v.astype("datetime64[ns]"))
            continue
        if isinstance(v, str):
            text = v.strip()
            try:
                d = _dt.datetime.fromisoformat(text)
            except ValueError:
                raise TimeError(f"not an ISO 8601 UTC time: {v!r}") from None
            if d.tzinfo is None:
                # A bare ISO string is read as UTC (the CLI convention).
                d = d.replace(tzinfo=_dt.timezone.utc)
        elif isinstance(v, _dt.datetime):
            d = v
            if d.tzinfo is None:
                raise TimeError(f"naive datetime {v!r}: give tzinfo (UTC)")
        elif isinstance(v, _dt.date):
            d = _dt.datetime(v.year, v.month, v.day, tzinfo=_dt.timezone.utc)
        else:
            raise TimeError(f"cannot read {v!r} as a UTC time")
        d = d.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        out.append(np.datetime64(d, "ns"))
    return np.array(out, dtype="datetime64[ns]")


def parse_utc(value) -> np.ndarray:
    """UTC instants -> ``datetime64[ns]`` array, shape ``(n,)``.

    >>> parse_utc(["2026-11-26T08:00:00+08:00", "2026-11-26"])
    array(['2026-11-26T00:00:00.000000000', '2026-11-26T00:00:00.000000000'],
          dtype='datetime64[ns]')
    """
    return _to_datetime64_ns(value)


def _jd_from_datetime64(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ns = t.astype("datetime64[ns]").astype(np.int64)
    days, rem = np.divmod(ns, _NS_PER_DAY)
    return _JD_UNIX_EPOCH + days.astype(np.float64), rem / _NS_PER_DAY


def _datetime64_from_jd(jd: np.ndarray, fr: np.ndarray) -> np.ndarray:
    whole = np.floor(jd - _JD_UNIX_EPOCH)
    frac = (jd - _JD_UNIX_EPOCH - whole) + fr
    ns = whole.astype(np.int64) * _NS_PER_DAY + np.round(frac * _NS_PER_DAY).astype(np.int64)
    return ns.astype("datetime64[ns]")


def format_utc(t, unit: str = "ms") -> list[str]:
    """``datetime64`` array -> ISO 8601 strings with a ``Z`` (rounded to ``unit``).

    >>> format_utc(np.datetime64("2026-11-26T00:00:00.9996"))
    ['2026-11-26T00:00:01.000Z']
    """
    try:
        t = np.atleast_1d(np.asarray(t, dtype="datetime64[ns]"))
        step = np.timedelta64(1, unit).astype("timedelta64[ns]").astype(np.int64)
    except (TypeError, ValueError) as exc:
        raise TimeError(f"cannot format {t!r} in unit {unit!r}: {exc}") from None
    ns = t.astype(np.int64)
    rounded = ((ns + step // 2) // step * step).astype("datetime64[ns]")
    return [s + "Z" for s in np.datetime_as_string(rounded, unit=unit)]


class TimeGrid:
    """UTC instants as sgp4's two-part Julian date.

    ``jd``, ``fr``: float64 ``(n_time,)``; ``jd + fr`` is the UTC Julian date.
    Build with :meth:`range`, :meth:`from_utc` or :meth:`from_jd`.
    """

    def __init__(self, jd, fr):
        jd = _float_array(jd, "jd")
        fr = _float_array(fr, "fr")
        jd, fr = np.broadcast_arrays(jd, fr)
        if jd.ndim != 1:
            raise TimeError(f"a TimeGrid is one-dimensional, got shape {jd.shape}")
        # Normalise so that jd is a half-integer (midnight) and 0 <= fr < 1: this keeps
        # differences between instants exact to well below a microsecond.
        total_whole = np.floor(jd - 0.5) + np.floor(fr)
        rest = (jd - 0.5 - np.floor(jd - 0.5)) + (fr - np.floor(fr))
        carry = np.floor(rest)
        self.jd = total_whole + carry + 0.5
        self.fr = rest - carry

    # -- constructors -----------------------------------------------------
    @classmethod
    def from_utc(cls, times) -> "TimeGrid":
        """From UTC instants (ISO strings, datetimes, datetime64, skyfield Time)."""
        if hasattr(times, "whole") and hasattr(times, "tai_fraction"):
            return cls._from_skyfield(times)
        return cls(*_jd_from_datetime64(_to_datetime64_ns(times)))

    @classmethod
    def from_jd(cls, jd, fr=0.0) -> "TimeGrid":
        """From UTC Julian dates split as sgp4 does (``jd + fr``)."""
        return cls(jd, fr)

    @classmethod
    def range(cls, start, end, step_s: float, *, include_end: bool = True) -> "TimeGrid":
        """Evenly spaced instants from ``start`` to ``end`` every ``step_s`` seconds.

        The last instant is ``end`` itself when ``include_end`` (even if the last step is short).

        >>> grid = TimeGrid.range("2026-11-26T00:00:00Z", "2026-11-26T00:02:30Z", 60.0)
        >>> grid.shape, grid.iso()[-2:]
        ((4,), ['2026-11-26T00:02:00.000Z', '2026-11-26T00:02:30.000Z'])
        """
        t0, offsets = _range_offsets(start, end, step_s, include_end)
        budget.require(len(offsets) * _GRID_BYTES, f"step_s {step_s:g}",
                       f"{len(offsets):,} times")
        return cls.from_seconds(t0, offsets.all())

    @classmethod
    def range_pieces(cls, start, end, step_s: float, max_instants: int, *,
                     include_end: bool = True):
        """:meth:`range` as consecutive grids of at most ``max_instants`` instants each, made
        one at a time (their concatenation is :meth:`range`)."""
        t0, offsets = _range_offsets(start, end, step_s, include_end)
        for k0 in range(0, len(offsets), max(1, int(max_instants))):
            yield cls.from_seconds(t0, offsets.part(k0, k0 + max_instants))

    @staticmethod
    def range_size(start, end, step_s: float, *, include_end: bool = True) -> int:
        """How many instants :meth:`range` would hold, found without making them."""
        return len(_range_offsets(start, end, step_s, include_end)[1])

    @classmethod
    def from_seconds(cls, epoch, seconds) -> "TimeGrid":
        """``epoch`` (UTC) plus ``seconds`` (float64 array)."""
        jd0, fr0 = _jd_from_datetime64(_to_datetime64_ns(epoch)[:1])
        seconds = _float_array(seconds, "seconds")
        return cls(np.full(seconds.shape, jd0[0]), fr0[0] + seconds / _SECONDS_PER_DAY)

    @classmethod
    def _from_skyfield(cls, t) -> "TimeGrid":
        jd = np.atleast_1d(t.whole)
        fr = np.atleast_1d(t.tai_fraction - t._leap_seconds() / _SECONDS_PER_DAY)
        return cls(jd, fr)

    # -- basic properties -------------------------------------------------
    def __len__(self) -> int:
        return self.jd.shape[0]

    def __getitem__(self, index) -> "TimeGrid":
        return TimeGrid(np.atleast_1d(self.jd[index]), np.atleast_1d(self.fr[index]))

    def __repr__(self) -> str:
        if len(self) == 0:
            return "TimeGrid([])"
        iso = self.iso()
        return f"TimeGrid({iso[0]} .. {iso[-1]}, n={len(self)})"

    @property
    def shape(self) -> tuple[int]:
        return self.jd.shape

    def seconds_since(self, jd0: float, fr0: float = 0.0) -> np.ndarray:
        """Seconds from the instant ``jd0 + fr0`` (UTC), float64 ``(n_time,)``."""
        return ((self.jd - jd0) + (self.fr - fr0)) * _SECONDS_PER_DAY

    @cached_property
    def seconds(self) -> np.ndarray:
        """Seconds since the first instant, float64 ``(n_time,)``."""
        if len(self) == 0:
            return np.zeros(0)
        return self.seconds_since(self.jd[0], self.fr[0])

    def datetime64(self) -> np.ndarray:
        """``datetime64[ns]`` array, ``(n_time,)``."""
        return _datetime64_from_jd(self.jd, self.fr)

    def iso(self, unit: str = "ms") -> list[str]:
        """ISO 8601 UTC strings with a ``Z``, rounded to ``unit`` (default milliseconds)."""
        return format_utc(self.datetime64(), unit)

    # -- Earth orientation -------------------------------------------------
    @cached_property
    def skyfield_time(self):
        """The same instants as a skyfield ``Time`` (builtin timescale)."""
        ts = timescale()
        days = self.jd - _JD_UNIX_EPOCH
        return ts.utc(1970, 1, 1 + days, 0, 0, self.fr * _SECONDS_PER_DAY)

    @cached_property
    def ut1_fraction(self) -> np.ndarray:
        """UT1 as the fraction to add to ``jd`` (days), ``(n_time,)``."""
        return self.fr + self.skyfield_time.dut1 / _SECONDS_PER_DAY

    @cached_property
    def polar_motion_matrix(self) -> np.ndarray | None:
        """Pseudo-Earth-fixed -> ITRS rotation ``(n_time, 3, 3)``, or None without a table."""
        t = self.skyfield_time
        if t.ts.polar_motion_table is None:
            return None
        m = np.asarray(t.polar_motion_matrix(), dtype=float)
        return np.moveaxis(m.reshape(3, 3, -1), -1, 0)

    @cached_property
    def gmst_rad(self) -> np.ndarray:
        """GMST-1982 (the TEME -> Earth-fixed angle) in radians, ``(n_time,)``."""
        return gmst1982_rad(self.jd, self.ut1_fraction)[0]

    @cached_property
    def gmst_rate_rad_s(self) -> np.ndarray:
        """Rate of GMST-1982 in rad/s of UTC, ``(n_time,)``."""
        return gmst1982_rad(self.jd, self.ut1_fraction)[1]


class _Offsets:
    """Seconds ``k * step_s`` for ``k < n``, then ``span_s`` when ``end`` is appended."""

    def __init__(self, n: int, step_s: float, span_s: float, with_end: bool):
        self.n, self.step_s, self.span_s, self.with_end = n, step_s, span_s, with_end

    def __len__(self) -> int:
        return self.n + self.with_end

    def part(self, k0: int, k1: int) -> np.ndarray:
        k1 = min(k1, len(self))
        out = np.arange(k0, min(k1, self.n)) * self.step_s
        return np.append(out, self.span_s) if self.with_end and k1 > self.n else out

    def all(self) -> np.ndarray:
        return self.part(0, len(self))


def _range_offsets(start, end, step_s, include_end) -> tuple:
    """``(t0, offsets)`` of :meth:`TimeGrid.range`, the instant count checked first."""
    t0 = _to_datetime64_ns(start)[0]
    t1 = _to_datetime64_ns(end)[0]
    if not (isinstance(step_s, (int, float, np.number)) and 0 < step_s < np.inf):
        raise TimeError(f"step must be a positive finite number, got {step_s!r} s")
    if t1 < t0:
        raise TimeError(f"end {format_utc(t1)[0]} is before start {format_utc(t0)[0]}")
    span_s = (t1 - t0).astype(np.int64) / 1e9
    if span_s / step_s >= MAX_INSTANTS:
        raise budget.BudgetError(f"step_s {step_s:g}", f"{span_s / step_s:.3g} times over "
                                 f"{span_s:g} s, more than the {MAX_INSTANTS:,} one grid holds")
    n = int(np.floor(span_s / step_s + 1e-9)) + 1
    with_end = bool(include_end and (n - 1) * float(step_s) < span_s - 1e-9)
    return t0, _Offsets(n, float(step_s), span_s, with_end)


def _float_array(values, what: str) -> np.ndarray:
    """``values`` as a float64 array, at least 1-D; TimeError when they are not numbers."""
    try:
        return np.atleast_1d(np.asarray(values, dtype=np.float64))
    except (TypeError, ValueError):
        raise TimeError(f"{what}: not numbers: {values!r}"[:200]) from None


def gmst1982_rad(jd_ut1, fraction_ut1) -> tuple[np.ndarray, np.ndarray]:
    """GMST-1982 angle (rad) and rate (rad/s) from a two-part UT1 Julian date (AIAA 2006-6753 C)."""
    t = (jd_ut1 - _JD_J2000 + fraction_ut1) / 36525.0
    g = 67310.54841 + (8640184.812866 + (0.093104 + (-6.2e-6) * t) * t) * t
    dg = 8640184.812866 + (0.093104 * 2.0 + (-6.2e-6 * 3.0) * t) * t
    theta = (jd_ut1 % 1.0 + fraction_ut1 + g / _SECONDS_PER_DAY % 1.0) % 1.0 * (2 * np.pi)
    rate = (1.0 + dg / (_SECONDS_PER_DAY * 36525.0)) * (2 * np.pi) / _SECONDS_PER_DAY
    return theta, rate
