"""Transition models: the time a satellite needs between two acquisitions.

The protocol (:class:`TransitionModel`): a model is any object with

- ``transition_time_s(from_deg, to_deg, from_time_s=None, to_time_s=None)``: vectorised;
  attitudes ``(..., 2)`` as ``(roll_deg, pitch_deg)`` (the end attitude of one acquisition
  and the start attitude of the next), times ``(...)`` in seconds from the plan epoch (the
  end of the first acquisition and the start of the next; ``None`` for time-independent
  models); the arrays broadcast; returns seconds ``(...)``;
- ``min_transition_s``: a lower bound on every value it returns (0 is always valid; a
  tighter one tightens the plan's upper bound);
- optionally ``time_dependent`` (default False) and ``to_dict()`` (for ``plan.json``);
- optionally ``lipschitz_s_per_deg`` ``L`` and ``lipschitz_jump_s`` ``J`` (default 0): the
  time changes by at most ``L |change| + J`` seconds when either attitude changes by
  ``|change| = |d roll| + |d pitch|`` degrees. With them the upper bound follows
  time-dependent attitudes exactly (:mod:`~groundseg.planning._time_graph`); without them
  it sees only ``min_transition_s`` between alternatives whose attitudes vary.

Every solver and :func:`~groundseg.planning.verify_plan` see transitions only through this
protocol (:func:`as_transition_model` checks it), so a user model needs no subclassing:
:class:`TransitionFunction` wraps a plain callable, :class:`TransitionMatrix` takes a per-pair
table for constant-attitude alternatives, and a bare callable given to ``Problem`` is wrapped
with ``min_transition_s = 0``. The heuristics call a model once per candidate start; the
built-in models also have a scalar fast path (``_scalar``) used when the vectorised method is
not overridden.

Built-in models:

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
from typing import Callable, Protocol, runtime_checkable

import numpy as np

from .errors import PlanningError

__all__ = ["TransitionModel", "PiecewiseAgility", "RateAccelerationAgility", "TransitionFunction",
           "TransitionMatrix", "as_transition_model", "agility_from_dict"]


@runtime_checkable
class TransitionModel(Protocol):
    """The transition-model protocol (see the module docstring)."""

    min_transition_s: float

    def transition_time_s(self, from_deg, to_deg, from_time_s=None, to_time_s=None) -> np.ndarray:
        ...


class PiecewiseAgility:
    """Liu et al. (2017) piecewise transition time of ``g = |droll| + |dpitch|`` (degrees)."""

    name = "piecewise"
    min_transition_s = 11.66
    #: the time grows at most 1/1.5 s per degree of g, with one jump (11.66 -> 11.667 s at g = 10)
    lipschitz_s_per_deg = 1.0 / 1.5
    lipschitz_jump_s = 5.0 + 10.0 / 1.5 - 11.66

    def transition_time_s(self, from_deg, to_deg, from_time_s=None, to_time_s=None) -> np.ndarray:
        """Transition times (s), shape ``(...)``, from attitudes ``(..., 2)`` to ``(..., 2)``
        (``(roll_deg, pitch_deg)``; arrays broadcast; times are not used)."""
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

    def transition_time_s(self, from_deg, to_deg, from_time_s=None, to_time_s=None) -> np.ndarray:
        """Transition times (s), shape ``(...)``, from attitudes ``(..., 2)`` to ``(..., 2)``
        (times are not used)."""
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


class TransitionFunction:
    """A user callable as a transition model: ``fn(from_deg, to_deg)`` (or, with
    ``time_dependent``, ``fn(from_deg, to_deg, from_time_s, to_time_s)``) on arrays as in
    the protocol, returning seconds; ``min_transition_s`` must bound it from below."""

    def __init__(self, fn: Callable, min_transition_s: float = 0.0, time_dependent: bool = False,
                 name: str = "function"):
        if not callable(fn):
            raise PlanningError(f"transition model: {fn!r} is not callable")
        _check_min(min_transition_s)
        self.fn, self.min_transition_s = fn, float(min_transition_s)
        self.time_dependent, self.name = bool(time_dependent), str(name)

    def transition_time_s(self, from_deg, to_deg, from_time_s=None, to_time_s=None) -> np.ndarray:
        if self.time_dependent:
            return np.asarray(self.fn(from_deg, to_deg, from_time_s, to_time_s), dtype=float)
        return np.asarray(self.fn(from_deg, to_deg), dtype=float)

    def to_dict(self) -> dict:
        return {"model": self.name, "min_transition_s": self.min_transition_s}

    def __repr__(self) -> str:
        return f"TransitionFunction({self.fn!r}, min_transition_s={self.min_transition_s})"


class TransitionMatrix:
    """Per-pair transition times for constant-attitude alternatives: ``matrix_s[i, j]`` from
    attitude ``attitudes_deg[i]`` to ``attitudes_deg[j]`` (``(k, 2)``, distinct rows; give
    each alternative a distinct attitude, e.g. ``(i, 0)``, if the table is by alternative).
    An attitude outside the table gives NaN (``Problem`` refuses such alternatives)."""

    name = "matrix"

    def __init__(self, matrix_s, attitudes_deg):
        m = np.asarray(matrix_s, dtype=float)
        att = np.asarray(attitudes_deg, dtype=float)
        if att.ndim != 2 or att.shape[1] != 2 or m.shape != (att.shape[0], att.shape[0]):
            raise PlanningError(f"transition matrix: expected attitudes (k, 2) and a (k, k) matrix, "
                                f"got {att.shape} and {m.shape}")
        if not (np.all(np.isfinite(m)) and np.all(m >= 0) and np.all(np.isfinite(att))):
            raise PlanningError("transition matrix: times must be finite and >= 0, attitudes finite")
        keys = att[:, 0] + 1j * att[:, 1]
        order = np.argsort(keys)
        if np.any(keys[order][1:] == keys[order][:-1]):
            raise PlanningError("transition matrix: attitudes repeat")
        self.matrix_s, self.attitudes_deg = m, att
        self._keys, self._order = keys[order], order
        self.min_transition_s = float(m.min()) if m.size else 0.0

    def index_of(self, att_deg) -> np.ndarray:
        """Row of each attitude ``(..., 2)`` in the table, -1 when absent."""
        a = np.asarray(att_deg, dtype=float)
        key = a[..., 0] + 1j * a[..., 1]
        pos = np.clip(np.searchsorted(self._keys, key), 0, max(self._keys.size - 1, 0))
        hit = self._keys[pos] == key if self._keys.size else np.zeros(key.shape, bool)
        return np.where(hit, self._order[pos] if self._keys.size else -1, -1)

    def transition_time_s(self, from_deg, to_deg, from_time_s=None, to_time_s=None) -> np.ndarray:
        i, j = np.broadcast_arrays(self.index_of(from_deg), self.index_of(to_deg))
        ok = (i >= 0) & (j >= 0)
        return np.where(ok, self.matrix_s[np.where(ok, i, 0), np.where(ok, j, 0)], np.nan)

    def to_dict(self) -> dict:
        return {"model": self.name, "size": int(self.matrix_s.shape[0])}

    def __repr__(self) -> str:
        return f"TransitionMatrix({self.matrix_s.shape[0]} attitudes)"


def _check_min(value) -> None:
    if not (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
            and math.isfinite(value) and value >= 0):
        raise PlanningError(f"transition model: min_transition_s must be a finite number >= 0, got {value!r}")


def as_transition_model(model):
    """``model`` checked against the protocol (``None``: :class:`PiecewiseAgility`; a bare
    callable: :class:`TransitionFunction` with minimum 0). Raises :class:`PlanningError`."""
    if model is None:
        return PiecewiseAgility()
    if not hasattr(model, "transition_time_s") and callable(model):
        return TransitionFunction(model)
    if not callable(getattr(model, "transition_time_s", None)) or not hasattr(model, "min_transition_s"):
        raise PlanningError(f"agility: {model!r} is not a transition model (needs "
                            "transition_time_s(from_deg, to_deg, from_time_s, to_time_s) and min_transition_s)")
    _check_min(model.min_transition_s)
    return model


def check_on_samples(model, end_deg, start_deg, times_s) -> None:
    """Evaluate ``model`` on every pair of ``k`` sample attitudes (``end_deg``, ``start_deg``
    (k, 2), ``times_s`` (k,)): finite values, none below ``min_transition_s``; else
    :class:`PlanningError`."""
    k = len(times_s)
    t = np.where(np.isfinite(times_s), times_s, 0.0)
    try:
        tau = np.asarray(model.transition_time_s(end_deg[:, None, :], start_deg[None, :, :],
                                                 t[:, None], t[None, :]), dtype=float)
    except Exception as exc:  # a user model failing on valid input
        raise PlanningError(f"agility: the transition model failed: {exc}") from None
    if tau.shape != (k, k) or not np.all(np.isfinite(tau)):
        raise PlanningError(f"agility: the transition model returned {tau.shape} values "
                            f"(expected {(k, k)}, finite) on the problem's attitudes")
    if float(tau.min()) < float(model.min_transition_s) - 1e-9:
        raise PlanningError(f"agility: a transition of {float(tau.min()):g} s is below the model's "
                            f"min_transition_s {model.min_transition_s:g}")


def scalar_transition(model) -> Callable[[float, float, float, float, float, float], float]:
    """``f(from_roll, from_pitch, to_roll, to_pitch, from_time_s, to_time_s) -> s`` for one
    pair: the model's ``_scalar`` fast path when its class defines both it and
    ``transition_time_s`` (a subclass overriding only the latter is called vectorised)."""
    hook = getattr(model, "_scalar_transition", None)
    if callable(hook):  # a wrapper that builds its own from the model it wraps
        return hook()
    cls = type(model)
    fast = getattr(model, "_scalar", None)
    if fast is not None and not getattr(model, "time_dependent", False):
        owner_v = next(k for k in cls.__mro__ if "transition_time_s" in k.__dict__)
        owner_s = next((k for k in cls.__mro__ if "_scalar" in k.__dict__), None)
        if owner_s is not None and issubclass(owner_s, owner_v):
            return lambda fr, fp, tr, tp, t0, t1: fast(tr - fr, tp - fp)
    vec = model.transition_time_s

    def one(fr, fp, tr, tp, t0, t1):
        return float(np.asarray(vec(np.array([fr, fp]), np.array([tr, tp]),
                                    np.array(t0), np.array(t1))).reshape(-1)[0])
    return one


def model_dict(model) -> dict:
    """``model.to_dict()``, or ``{"model": <class name>}`` for a model without one."""
    to_dict = getattr(model, "to_dict", None)
    return dict(to_dict()) if callable(to_dict) else {"model": type(model).__name__}


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
