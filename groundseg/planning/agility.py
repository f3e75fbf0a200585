"""Agility models: the time a satellite needs between two acquisitions.

A transition goes from the attitude at the end of one acquisition to the attitude at the
start of the next, both given as ``(roll_deg, pitch_deg)``. Every model is a pure function
of the two attitudes, nondecreasing in the size of the manoeuvre, and at least
``min_transition_s`` (the value for a zero manoeuvre).

- :class:`PiecewiseAgility` (the default): the piecewise-linear model of the agile-satellite
  literature (Liu, Laporte, Chen, He, "An adaptive large neighborhood search metaheuristic
  for agile satellite scheduling with time-dependent transition time", C&OR 86, 2017), with
  ``g = |droll| + |dpitch|`` in degrees::

      g <= 10        11.66 s
      10 < g <= 30   5  + g / 1.5
      30 < g <= 60   10 + g / 2
      60 < g <= 90   16 + g / 2.5
      g > 90         22 + g / 3

- :class:`RateAccelerationAgility`: each axis slews independently with a bang-coast-bang
  profile (acceleration ``accel_deg_s2`` up to ``rate_deg_s``, then deceleration); the
  transition is the slower axis plus ``settle_s``.
"""
from __future__ import annotations

import math

import numpy as np

from .errors import PlanningError

__all__ = ["PiecewiseAgility", "RateAccelerationAgility", "agility_from_dict"]


class PiecewiseAgility:
    """Liu et al. (2017) piecewise transition time of ``g = |droll| + |dpitch|`` (degrees)."""

    name = "piecewise"
    min_transition_s = 11.66

    def transition_time_s(self, from_deg, to_deg) -> np.ndarray:
        """Transition times (s), shape ``(...)``, from attitudes ``(..., 2)`` to ``(..., 2)``.

        Each attitude is ``(roll_deg, pitch_deg)``; arrays broadcast.
        """
        a = np.asarray(from_deg, dtype=float)
        b = np.asarray(to_deg, dtype=float)
        g = np.abs(a[..., 0] - b[..., 0]) + np.abs(a[..., 1] - b[..., 1])
        return self.time_of_angle_s(g)

    @staticmethod
    def time_of_angle_s(g_deg) -> np.ndarray:
        """Transition time (s) for manoeuvre sizes ``g_deg`` (any shape)."""
        g = np.asarray(g_deg, dtype=float)
        return np.select(
            [g <= 10.0, g <= 30.0, g <= 60.0, g <= 90.0],
            [np.full_like(g, 11.66), 5.0 + g / 1.5, 10.0 + g / 2.0, 16.0 + g / 2.5],
            22.0 + g / 3.0,
        )

    def _scalar(self, droll: float, dpitch: float) -> float:
        g = abs(droll) + abs(dpitch)
        if g <= 10.0:
            return 11.66
        if g <= 30.0:
            return 5.0 + g / 1.5
        if g <= 60.0:
            return 10.0 + g / 2.0
        if g <= 90.0:
            return 16.0 + g / 2.5
        return 22.0 + g / 3.0

    def to_dict(self) -> dict:
        return {"model": self.name}

    def __repr__(self) -> str:
        return "PiecewiseAgility()"


class RateAccelerationAgility:
    """Bang-coast-bang slew per axis (roll and pitch in parallel) plus a settling time.

    Per axis, for an angle ``t`` (deg): ``2 sqrt(t / a)`` if ``t <= w^2 / a`` else
    ``t / w + w / a``, with ``w = rate_deg_s`` and ``a = accel_deg_s2``. The transition is
    the larger of the two axis times plus ``settle_s``.
    """

    name = "rate_acceleration"

    def __init__(self, rate_deg_s: float = 3.0, accel_deg_s2: float = 1.0, settle_s: float = 3.0):
        for key, val in (("rate_deg_s", rate_deg_s), ("accel_deg_s2", accel_deg_s2)):
            if not (isinstance(val, (int, float)) and math.isfinite(val) and val > 0):
                raise PlanningError(f"{key} must be a positive number, got {val!r}")
        if not (isinstance(settle_s, (int, float)) and math.isfinite(settle_s) and settle_s >= 0):
            raise PlanningError(f"settle_s must be a number >= 0, got {settle_s!r}")
        self.rate_deg_s = float(rate_deg_s)
        self.accel_deg_s2 = float(accel_deg_s2)
        self.settle_s = float(settle_s)
        self.min_transition_s = self.settle_s

    def _axis(self, theta):
        w, a = self.rate_deg_s, self.accel_deg_s2
        theta = np.abs(theta)
        return np.where(theta <= w * w / a, 2.0 * np.sqrt(theta / a), theta / w + w / a)

    def transition_time_s(self, from_deg, to_deg) -> np.ndarray:
        """Transition times (s), shape ``(...)``, from attitudes ``(..., 2)`` to ``(..., 2)``."""
        a = np.asarray(from_deg, dtype=float)
        b = np.asarray(to_deg, dtype=float)
        return np.maximum(self._axis(a[..., 0] - b[..., 0]),
                          self._axis(a[..., 1] - b[..., 1])) + self.settle_s

    def _scalar(self, droll: float, dpitch: float) -> float:
        w, a = self.rate_deg_s, self.accel_deg_s2
        t = max(abs(droll), abs(dpitch))
        if t <= w * w / a:
            return 2.0 * math.sqrt(t / a) + self.settle_s
        return t / w + w / a + self.settle_s

    def to_dict(self) -> dict:
        return {"model": self.name, "rate_deg_s": self.rate_deg_s,
                "accel_deg_s2": self.accel_deg_s2, "settle_s": self.settle_s}

    def __repr__(self) -> str:
        return (f"RateAccelerationAgility(rate_deg_s={self.rate_deg_s}, "
                f"accel_deg_s2={self.accel_deg_s2}, settle_s={self.settle_s})")


def agility_from_dict(spec: dict | None, where: str = "agility"):
    """Agility model from ``{"model": "piecewise"}`` or
    ``{"model": "rate_acceleration", "rate_deg_s": .., "accel_deg_s2": .., "settle_s": ..}``.

    ``None`` gives the default :class:`PiecewiseAgility`. ``where`` prefixes error messages.
    """
    if spec is None:
        return PiecewiseAgility()
    if not isinstance(spec, dict):
        raise PlanningError(f"{where}: expected a mapping, got {type(spec).__name__}")
    model = spec.get("model", "piecewise")
    if model == "piecewise":
        extra = set(spec) - {"model"}
        if extra:
            raise PlanningError(f"{where}: unknown keys for the piecewise model: {sorted(extra)}")
        return PiecewiseAgility()
    if model == "rate_acceleration":
        keys = {"rate_deg_s", "accel_deg_s2", "settle_s"}
        extra = set(spec) - keys - {"model"}
        if extra:
            raise PlanningError(f"{where}: unknown keys for rate_acceleration: {sorted(extra)}")
        try:
            return RateAccelerationAgility(**{k: spec[k] for k in keys if k in spec})
        except PlanningError as exc:
            raise PlanningError(f"{where}: {exc}") from None
    raise PlanningError(f"{where}.model: unknown agility model {model!r} "
                        "(expected 'piecewise' or 'rate_acceleration')")
