"""Spacecraft models the simulation runner steps: battery energy and on-board memory.

Vectorised over satellites: state arrays are ``(n_sat,)``. A runner calls :meth:`Fleet.step`
once per time step with, for every satellite, the mode ``(n_sat,)`` (int codes :data:`IDLE`,
:data:`IMAGING`, :data:`DOWNLINK`, :data:`SLEW`), the visible fraction of the solar disc
``(n_sat,)`` (:func:`groundseg.sun.sunlit_fraction`: 1 in sunlight, 0 in umbra) and the
downlink rate it has this step ``(n_sat,)`` Mbit/s (0 out of contact). Optionally the
transmitter state ``transmitting`` ``(n_sat,)`` (default: mode == DOWNLINK), so a satellite
can downlink while it images or slews, and ``image_end`` ``(n_sat,)`` (default: every step):
whether the image being recorded is complete at the end of the step.

Loads: ``loads_w[mode]``, plus the transmitter's share ``loads_w["downlink"] -
loads_w["idle"]`` while transmitting in another mode than DOWNLINK (every mode's load is at
least the idle load: a mode adds equipment to the idle platform). So the demand is always
``idle + (imaging - idle)[imaging] + (slew - idle)[slewing] + (downlink - idle)[transmitting]``.

Energy: joules inside, Wh at the edges. Per step of ``dt`` seconds and per satellite::

    generated = solar_array_power_w * sunlit_fraction * dt     (what the array can give)
    demand    = loads_w[mode] * dt                              (what the mode draws)
    net = generated - demand
    net >= 0: the battery stores  stored = min(eta * net, capacity - charge); the array
              energy behind it is stored / eta, of which stored * (1/eta - 1) is charging
              loss; the rest of net is spilled (array curtailed: the battery is full).
    net <  0: the battery supplies min(-net, charge); the rest is unserved (brown-out;
              the runner decides what that means for the plan).

    ledger, per satellite:  final = initial + generated - demand - losses - spilled + unserved

(float64: holds to rounding, micro-joules over a simulated week). ``eta`` is
``charge_efficiency``; discharge losses belong in the loads.

Memory: integer bits inside (exact bookkeeping), Gbit (1e9 bit) at the edges. Per step::

    offered   = image data rate * dt while IMAGING      (whole bits; the fraction of a bit
    drain cap = downlink rate * dt while transmitting    carries over to the next step)
    drained   = min(stored - pending, drain cap)         (first: complete images go down)
    accepted  = min(offered, capacity - stored)          (then the new data, if it fits)
    rejected  = offered - accepted                       (lost: memory full)
    pending   = pending + accepted, or 0 at image_end    (the image being recorded cannot
                                                          be downlinked before it is complete)

    ledger, exactly:  final = initial + accepted - drained,  offered = accepted + rejected
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from groundseg.planning.agility import PiecewiseAgility

from .errors import SimulationError

__all__ = [
    "MODES", "IDLE", "IMAGING", "DOWNLINK", "SLEW", "AGILITY_MODELS",
    "SpacecraftModel", "PowerModel", "MemoryModel", "Fleet", "FleetHistory",
]

MODES = ("idle", "imaging", "downlink", "slew")
IDLE, IMAGING, DOWNLINK, SLEW = range(4)
#: Agility models of :mod:`groundseg.planning.agility` a scenario can name, and their keys.
AGILITY_MODELS = {
    "piecewise": (),
    "rate_acceleration": ("rate_deg_s", "accel_deg_s2", "settle_s"),
}
_J_PER_WH = 3600.0
_BIT_PER_GBIT = 1e9
_BIT_PER_MBIT = 1e6
#: SpacecraftModel fields that may be None.
_OPTIONAL = ("gsd_m", "min_sun_elevation_deg")


@dataclass(frozen=True)
class SpacecraftModel:
    """One spacecraft design; every satellite of a scenario shares it. Units in the names.

    Imaging: ``swath_km``, ``field_of_regard_deg`` (largest off-nadir angle), ``gsd_m``,
    ``min_sun_elevation_deg`` (at the target), ``scene_duration_s`` (one point-target
    image), ``agility`` (a :mod:`groundseg.planning.agility` model: the planner and the
    simulation share it). Data: ``memory_capacity_gbit``,
    ``initial_memory_gbit``, ``image_data_rate_gbit_s`` (while imaging),
    ``downlink_rate_mbps`` (the transmitter; a pass runs at the lower of it and the
    station's rate). Power: ``solar_array_power_w`` (in full sunlight, averaged over the
    attitude the modes use), ``battery_capacity_wh``, ``initial_charge_fraction``,
    ``min_charge_fraction`` (the depth-of-discharge limit plans respect),
    ``charge_efficiency``, ``loads_w`` (mode name -> W, every one of :data:`MODES`).
    """

    swath_km: float
    field_of_regard_deg: float
    memory_capacity_gbit: float
    image_data_rate_gbit_s: float
    downlink_rate_mbps: float
    solar_array_power_w: float
    battery_capacity_wh: float
    loads_w: dict
    agility: object = field(default_factory=PiecewiseAgility)
    gsd_m: float | None = None
    min_sun_elevation_deg: float | None = None
    initial_memory_gbit: float = 0.0
    initial_charge_fraction: float = 1.0
    min_charge_fraction: float = 0.0
    charge_efficiency: float = 1.0
    scene_duration_s: float = 10.0

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("loads_w", "agility") or (value is None and f.name in _OPTIONAL):
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise SimulationError(f"{f.name}: {value!r} must be a number")
        if not isinstance(self.loads_w, dict):
            raise SimulationError(f"loads_w: {self.loads_w!r} must be a table of mode -> W")
        _positive(self.swath_km, "swath_km")
        if not 0.0 < self.field_of_regard_deg < 90.0:
            raise SimulationError(f"field_of_regard_deg: {self.field_of_regard_deg} must be in (0, 90)")
        if self.gsd_m is not None:
            _positive(self.gsd_m, "gsd_m")
        if self.min_sun_elevation_deg is not None and not -90.0 <= self.min_sun_elevation_deg <= 90.0:
            raise SimulationError(f"min_sun_elevation_deg: {self.min_sun_elevation_deg} must be in [-90, 90]")
        _positive(self.memory_capacity_gbit, "memory_capacity_gbit")
        _non_negative(self.image_data_rate_gbit_s, "image_data_rate_gbit_s")
        _positive(self.downlink_rate_mbps, "downlink_rate_mbps")
        _non_negative(self.solar_array_power_w, "solar_array_power_w")
        _positive(self.battery_capacity_wh, "battery_capacity_wh")
        _non_negative(self.initial_memory_gbit, "initial_memory_gbit")
        if self.initial_memory_gbit > self.memory_capacity_gbit:
            raise SimulationError(f"initial_memory_gbit: {self.initial_memory_gbit} exceeds "
                                  f"memory_capacity_gbit {self.memory_capacity_gbit}")
        for name in ("initial_charge_fraction", "min_charge_fraction"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise SimulationError(f"{name}: {value} must be in [0, 1]")
        if not 0.0 < self.charge_efficiency <= 1.0:
            raise SimulationError(f"charge_efficiency: {self.charge_efficiency} must be in (0, 1]")
        missing = [m for m in MODES if m not in self.loads_w]
        if missing:
            raise SimulationError(f"loads_w.{missing[0]}: missing (need loads for {', '.join(MODES)})")
        unknown = [m for m in self.loads_w if m not in MODES]
        if unknown:
            raise SimulationError(f"loads_w.{unknown[0]}: unknown mode (modes: {', '.join(MODES)})")
        for m in MODES:
            _non_negative(self.loads_w[m], f"loads_w.{m}")
        for m in MODES[1:]:
            if self.loads_w[m] < self.loads_w["idle"]:
                raise SimulationError(f"loads_w.{m}: {self.loads_w[m]} W is below loads_w.idle "
                                      f"{self.loads_w['idle']} W (a mode adds to the idle platform)")
        _positive(self.scene_duration_s, "scene_duration_s")
        if not hasattr(self.agility, "transition_time_s"):
            raise SimulationError(f"agility: {self.agility!r} is not an agility model of "
                                  "groundseg.planning.agility")

    @property
    def loads_vector_w(self) -> np.ndarray:
        """Load per mode code, ``(len(MODES),)`` W."""
        return np.array([float(self.loads_w[m]) for m in MODES])

    def to_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "agility"}
        out["loads_w"] = dict(self.loads_w)
        out["agility"] = self.agility.to_dict()
        return out


def _positive(value, name):
    if not (isinstance(value, (int, float, np.floating, np.integer)) and np.isfinite(value) and value > 0):
        raise SimulationError(f"{name}: {value!r} must be a positive number")


def _non_negative(value, name):
    if not (isinstance(value, (int, float, np.floating, np.integer)) and np.isfinite(value) and value >= 0):
        raise SimulationError(f"{name}: {value!r} must be a number >= 0")


def _mode_array(mode, n_sat) -> np.ndarray:
    m = np.broadcast_to(np.asarray(mode), (n_sat,))
    if m.dtype.kind not in "iu" or np.any((m < 0) | (m >= len(MODES))):
        raise SimulationError(f"mode codes must be integers in 0..{len(MODES) - 1} ({', '.join(MODES)})")
    return m


class PowerModel:
    """Battery charge of ``n_sat`` satellites, with the energy ledger (see module docstring).

    ``capacity_wh``, ``solar_array_power_w``, ``initial_wh``: scalars or ``(n_sat,)``;
    ``loads_w``: ``(n_modes,)`` or ``(n_sat, n_modes)``. Ledger arrays (J, ``(n_sat,)``):
    ``initial_j``, ``generated_j``, ``demand_j``, ``losses_j``, ``spilled_j``, ``unserved_j``.
    """

    def __init__(self, n_sat: int, capacity_wh, solar_array_power_w, loads_w, *,
                 charge_efficiency=1.0, initial_wh=None):
        shape = (n_sat,)
        self.n_sat = n_sat
        self.capacity_j = np.broadcast_to(np.asarray(capacity_wh, float) * _J_PER_WH, shape).copy()
        self.array_power_w = np.broadcast_to(np.asarray(solar_array_power_w, float), shape).copy()
        loads = np.asarray(loads_w, dtype=float)
        self.loads_w = np.broadcast_to(loads, (n_sat, loads.shape[-1])).copy()
        self.efficiency = np.broadcast_to(np.asarray(charge_efficiency, float), shape).copy()
        start = self.capacity_j if initial_wh is None else np.asarray(initial_wh, float) * _J_PER_WH
        self.charge_j = np.broadcast_to(start, shape).astype(float).copy()
        if np.any(self.capacity_j <= 0) or np.any(self.charge_j < 0) or np.any(self.charge_j > self.capacity_j):
            raise SimulationError("battery: need capacity > 0 and 0 <= initial charge <= capacity")
        if np.any((self.efficiency <= 0) | (self.efficiency > 1)):
            raise SimulationError("battery: charge efficiency must be in (0, 1]")
        self.initial_j = self.charge_j.copy()
        zeros = lambda: np.zeros(shape)  # noqa: E731
        self.generated_j, self.demand_j, self.losses_j = zeros(), zeros(), zeros()
        self.spilled_j, self.unserved_j = zeros(), zeros()

    def step(self, dt_s: float, mode, sunlit_fraction, transmitting=None) -> np.ndarray:
        """Advance by ``dt_s`` seconds; returns the energy unserved this step, J ``(n_sat,)``.

        ``transmitting`` ``(n_sat,)`` bool (default: mode == DOWNLINK) adds the transmitter's
        share ``loads[DOWNLINK] - loads[IDLE]`` in the other modes."""
        if not dt_s > 0:
            raise SimulationError(f"time step must be positive, got {dt_s} s")
        mode = _mode_array(mode, self.n_sat)
        f = np.broadcast_to(np.asarray(sunlit_fraction, dtype=float), (self.n_sat,))
        if np.any(~np.isfinite(f) | (f < 0) | (f > 1)):
            raise SimulationError("sunlit fraction must be in [0, 1]")
        generated = self.array_power_w * f * dt_s
        rows = np.arange(self.n_sat)
        power = self.loads_w[rows, mode]
        if transmitting is not None:
            tx = np.broadcast_to(np.asarray(transmitting, dtype=bool), (self.n_sat,))
            power = power + np.where(tx & (mode != DOWNLINK),
                                     self.loads_w[rows, DOWNLINK] - self.loads_w[rows, IDLE], 0.0)
        demand = power * dt_s
        net = generated - demand
        q = self.charge_j
        charging = net >= 0
        eta = self.efficiency
        stored = np.where(charging, np.minimum(net * eta, self.capacity_j - q), 0.0)
        used = stored / eta
        losses = used - stored
        spilled = np.where(charging, net - used, 0.0)
        draw = np.where(charging, 0.0, -net)
        supplied = np.minimum(draw, q)
        unserved = draw - supplied
        self.charge_j = np.clip(q + stored - supplied, 0.0, self.capacity_j)
        self.generated_j += generated
        self.demand_j += demand
        self.losses_j += losses
        self.spilled_j += spilled
        self.unserved_j += unserved
        return unserved

    @property
    def charge_wh(self) -> np.ndarray:
        return self.charge_j / _J_PER_WH

    @property
    def state_of_charge(self) -> np.ndarray:
        """Charge / capacity, ``(n_sat,)``."""
        return self.charge_j / self.capacity_j

    def balance_error_j(self) -> np.ndarray:
        """initial + generated - demand - losses - spilled + unserved - final, J ``(n_sat,)``."""
        return (self.initial_j + self.generated_j - self.demand_j - self.losses_j
                - self.spilled_j + self.unserved_j - self.charge_j)

    def ledger(self) -> dict:
        """The ledger in Wh per satellite (lists), keys as the attributes without ``_j``."""
        out = {}
        for name in ("initial", "generated", "demand", "losses", "spilled", "unserved"):
            out[f"{name}_wh"] = (getattr(self, f"{name}_j") / _J_PER_WH).tolist()
        out["final_wh"] = self.charge_wh.tolist()
        return out


class MemoryModel:
    """On-board memory of ``n_sat`` satellites in whole bits, with the data ledger.

    Ledger arrays (int64 bits, ``(n_sat,)``): ``initial_bit``, ``offered_bit``,
    ``accepted_bit``, ``rejected_bit``, ``drained_bit``, ``drain_capacity_bit``;
    ``pending_bit``: the part of ``stored_bit`` recorded by images still in progress.
    """

    def __init__(self, n_sat: int, capacity_gbit, *, initial_gbit=0.0):
        shape = (n_sat,)
        self.n_sat = n_sat
        self.capacity_bit = np.broadcast_to(_gbit_to_bit(capacity_gbit), shape).copy()
        self.stored_bit = np.broadcast_to(_gbit_to_bit(initial_gbit), shape).copy()
        if np.any(self.capacity_bit <= 0) or np.any(self.stored_bit < 0) or \
                np.any(self.stored_bit > self.capacity_bit):
            raise SimulationError("memory: need capacity > 0 and 0 <= initial volume <= capacity")
        self.initial_bit = self.stored_bit.copy()
        self.pending_bit = np.zeros(shape, dtype=np.int64)
        zeros = lambda: np.zeros(shape, dtype=np.int64)  # noqa: E731
        self.offered_bit, self.accepted_bit, self.rejected_bit = zeros(), zeros(), zeros()
        self.drained_bit, self.drain_capacity_bit = zeros(), zeros()

    def step(self, fill_bit, drain_bit, image_end=None) -> tuple[np.ndarray, np.ndarray]:
        """Drain up to ``drain_bit`` of the complete images, then store up to ``fill_bit``
        (int ``(n_sat,)`` each). ``image_end`` ``(n_sat,)`` bool: the image being recorded is
        complete after this step (default: always). Returns (drained, rejected) bits."""
        fill = np.broadcast_to(np.asarray(fill_bit, dtype=np.int64), (self.n_sat,))
        drain = np.broadcast_to(np.asarray(drain_bit, dtype=np.int64), (self.n_sat,))
        if np.any(fill < 0) or np.any(drain < 0):
            raise SimulationError("memory: fill and drain volumes must not be negative")
        drained = np.minimum(self.stored_bit - self.pending_bit, drain)
        stored = self.stored_bit - drained
        accepted = np.minimum(fill, self.capacity_bit - stored)
        rejected = fill - accepted
        self.stored_bit = stored + accepted
        if image_end is None:
            self.pending_bit = np.zeros_like(self.pending_bit)
        else:
            done = np.broadcast_to(np.asarray(image_end, dtype=bool), (self.n_sat,))
            self.pending_bit = np.where(done, 0, self.pending_bit + accepted)
        self.offered_bit += fill
        self.accepted_bit += accepted
        self.rejected_bit += rejected
        self.drained_bit += drained
        self.drain_capacity_bit += drain
        return drained, rejected

    @property
    def stored_gbit(self) -> np.ndarray:
        return self.stored_bit / _BIT_PER_GBIT

    def balance_error_bit(self) -> np.ndarray:
        """initial + accepted - drained - final (exactly 0), int64 ``(n_sat,)``."""
        return self.initial_bit + self.accepted_bit - self.drained_bit - self.stored_bit

    def ledger(self) -> dict:
        out = {}
        for name in ("initial", "offered", "accepted", "rejected", "drained", "drain_capacity"):
            out[f"{name}_bit"] = getattr(self, f"{name}_bit").tolist()
        out["final_bit"] = self.stored_bit.tolist()
        return out


def _gbit_to_bit(value) -> np.ndarray:
    return np.round(np.asarray(value, dtype=float) * _BIT_PER_GBIT).astype(np.int64)


class _BitClock:
    """Whole bits moved at ``rate`` bit/s over steps; the fractional bit carries over."""

    def __init__(self, n_sat: int):
        self.carry = np.zeros(n_sat)

    def bits(self, rate_bps, dt_s, active) -> np.ndarray:
        exact = np.where(active, rate_bps * dt_s + self.carry, 0.0)
        whole = np.floor(exact)
        self.carry = np.where(active, exact - whole, self.carry)
        return whole.astype(np.int64)


@dataclass
class FleetHistory:
    """What :meth:`Fleet.run` records: ``time_s`` ``(n_step + 1,)`` from 0, state arrays
    ``(n_step + 1, n_sat)`` (``charge_wh``, ``memory_gbit``) and per-step arrays
    ``(n_step, n_sat)`` (``unserved_wh``, ``drained_gbit``, ``rejected_gbit``)."""

    time_s: np.ndarray
    charge_wh: np.ndarray
    memory_gbit: np.ndarray
    unserved_wh: np.ndarray
    drained_gbit: np.ndarray
    rejected_gbit: np.ndarray


class Fleet:
    """Power and memory of ``n_sat`` satellites of one :class:`SpacecraftModel`."""

    def __init__(self, model: SpacecraftModel, n_sat: int):
        self.model = model
        self.n_sat = n_sat
        self.power = PowerModel(n_sat, model.battery_capacity_wh, model.solar_array_power_w,
                                model.loads_vector_w, charge_efficiency=model.charge_efficiency,
                                initial_wh=model.initial_charge_fraction * model.battery_capacity_wh)
        self.memory = MemoryModel(n_sat, model.memory_capacity_gbit,
                                  initial_gbit=model.initial_memory_gbit)
        self._image_clock = _BitClock(n_sat)
        self._downlink_clock = _BitClock(n_sat)

    def step(self, dt_s: float, mode, sunlit_fraction, downlink_rate_mbps=None, *,
             transmitting=None, image_end=None):
        """One step. ``mode``, ``sunlit_fraction``, ``downlink_rate_mbps``: ``(n_sat,)``
        (``downlink_rate_mbps`` None: the transmitter rate). ``transmitting`` ``(n_sat,)``
        bool: the transmitter is on (default: mode == DOWNLINK); data drains only then.
        ``image_end`` ``(n_sat,)`` bool: the image being recorded is complete after the step
        (default: always); a satellite not imaging in a step has no image in progress.

        Returns (unserved J, drained bit, rejected bit), each ``(n_sat,)``.
        """
        mode = _mode_array(mode, self.n_sat)
        unserved = self.power.step(dt_s, mode, sunlit_fraction, transmitting)
        if downlink_rate_mbps is None:
            rate = np.full(self.n_sat, self.model.downlink_rate_mbps)
        else:
            rate = np.broadcast_to(np.asarray(downlink_rate_mbps, dtype=float), (self.n_sat,))
            if np.any(~np.isfinite(rate) | (rate < 0)):
                raise SimulationError("downlink rates must be finite and >= 0 Mbit/s")
        tx = mode == DOWNLINK if transmitting is None else \
            np.broadcast_to(np.asarray(transmitting, dtype=bool), (self.n_sat,))
        imaging = mode == IMAGING
        # a satellite that does not image has no image in progress
        self.memory.pending_bit = np.where(imaging, self.memory.pending_bit, 0)
        fill = self._image_clock.bits(self.model.image_data_rate_gbit_s * _BIT_PER_GBIT, dt_s,
                                      imaging)
        drain = self._downlink_clock.bits(rate * _BIT_PER_MBIT, dt_s, tx)
        drained, rejected = self.memory.step(fill, drain, image_end)
        return unserved, drained, rejected

    def run_steps(self, dt_s, mode, sunlit_fraction, downlink_rate_mbps, transmitting, image_end,
                  record=None) -> dict:
        """Many :meth:`step` calls at once, with the same results (the inputs are validated
        once and only the sequential part, battery and memory levels, runs step by step).

        ``dt_s`` ``(n,)``; ``mode``, ``sunlit_fraction``, ``downlink_rate_mbps``,
        ``transmitting``, ``image_end`` ``(n, n_sat)``; ``record`` ``(n,)`` bool: keep the
        state after these steps. Returns ``drained_bit``, ``accepted_bit``, ``unserved_j``
        ``(n, n_sat)`` and ``charge_wh``, ``memory_gbit`` ``(n_record, n_sat)``.
        """
        dt = np.asarray(dt_s, dtype=float)
        n, k = dt.size, self.n_sat
        shape = (n, k)
        if dt.ndim != 1 or np.any(~(dt > 0)):
            raise SimulationError("time steps must be positive")
        mode = np.asarray(mode)
        if mode.shape != shape:
            raise SimulationError(f"modes: expected shape {shape}, got {mode.shape}")
        _mode_array(mode.reshape(-1), mode.size)
        f = np.broadcast_to(np.asarray(sunlit_fraction, dtype=float), shape)
        if np.any(~np.isfinite(f) | (f < 0) | (f > 1)):
            raise SimulationError("sunlit fraction must be in [0, 1]")
        rate = np.broadcast_to(np.asarray(downlink_rate_mbps, dtype=float), shape)
        if np.any(~np.isfinite(rate) | (rate < 0)):
            raise SimulationError("downlink rates must be finite and >= 0 Mbit/s")
        tx = np.broadcast_to(np.asarray(transmitting, dtype=bool), shape)
        end = np.broadcast_to(np.asarray(image_end, dtype=bool), shape)
        record = np.zeros(n, dtype=bool) if record is None else np.asarray(record, dtype=bool)
        pw, mem = self.power, self.memory
        cols = np.arange(k)
        power = pw.loads_w[cols, mode] + np.where(
            tx & (mode != DOWNLINK), pw.loads_w[cols, DOWNLINK] - pw.loads_w[cols, IDLE], 0.0)
        dtc = dt[:, None]
        generated = pw.array_power_w * f * dtc
        demand = power * dtc
        net = generated - demand
        charging = net >= 0
        eta = pw.efficiency
        into = np.where(charging, net * eta, 0.0)
        draw = np.where(charging, 0.0, -net)
        imaging = mode == IMAGING
        img_rate = self.model.image_data_rate_gbit_s * _BIT_PER_GBIT * dtc
        dl_rate = rate * _BIT_PER_MBIT * dtc
        stored_j = np.empty(shape)
        supplied = np.empty(shape)
        drained = np.empty(shape, dtype=np.int64)
        accepted = np.empty(shape, dtype=np.int64)
        fills = np.empty(shape, dtype=np.int64)
        drains = np.empty(shape, dtype=np.int64)
        n_rec = int(record.sum())
        charge_wh = np.empty((n_rec, k))
        memory_gbit = np.empty((n_rec, k))
        q, cap_j = pw.charge_j, pw.capacity_j
        m, pend, cap_bit = mem.stored_bit, mem.pending_bit, mem.capacity_bit
        ci, cd = self._image_clock, self._downlink_clock
        r = 0
        for j in range(n):
            st = np.minimum(into[j], cap_j - q)
            su = np.minimum(draw[j], q)
            q = np.clip(q + st - su, 0.0, cap_j)
            stored_j[j], supplied[j] = st, su
            fill = ci.bits(img_rate[j], 1.0, imaging[j])
            drain = cd.bits(dl_rate[j], 1.0, tx[j])
            pend = np.where(imaging[j], pend, 0)
            d = np.minimum(m - pend, drain)
            a = np.minimum(fill, cap_bit - (m - d))
            m = m - d + a
            pend = np.where(end[j], 0, pend + a)
            drained[j], accepted[j], fills[j], drains[j] = d, a, fill, drain
            if record[j]:
                charge_wh[r] = q / _J_PER_WH
                memory_gbit[r] = m / _BIT_PER_GBIT
                r += 1
        pw.charge_j = q
        used = stored_j / eta
        unserved = draw - supplied
        pw.generated_j += generated.sum(axis=0)
        pw.demand_j += demand.sum(axis=0)
        pw.losses_j += (used - stored_j).sum(axis=0)
        pw.spilled_j += np.where(charging, net - used, 0.0).sum(axis=0)
        pw.unserved_j += unserved.sum(axis=0)
        mem.stored_bit, mem.pending_bit = m, pend
        mem.offered_bit += fills.sum(axis=0)
        mem.accepted_bit += accepted.sum(axis=0)
        mem.rejected_bit += (fills - accepted).sum(axis=0)
        mem.drained_bit += drained.sum(axis=0)
        mem.drain_capacity_bit += drains.sum(axis=0)
        return {"drained_bit": drained, "accepted_bit": accepted, "unserved_j": unserved,
                "charge_wh": charge_wh, "memory_gbit": memory_gbit}

    def run(self, dt_s: float, modes, sunlit_fraction, downlink_rate_mbps=None) -> FleetHistory:
        """Step through ``modes`` and ``sunlit_fraction`` ``(n_step, n_sat)`` (and rates, same
        shape, or None), recording the history."""
        modes = np.asarray(modes)
        sun = np.broadcast_to(np.asarray(sunlit_fraction, dtype=float), modes.shape)
        n_step = modes.shape[0]
        charge = np.empty((n_step + 1, self.n_sat))
        memory = np.empty((n_step + 1, self.n_sat))
        unserved = np.empty((n_step, self.n_sat))
        drained = np.empty((n_step, self.n_sat))
        rejected = np.empty((n_step, self.n_sat))
        charge[0], memory[0] = self.power.charge_wh, self.memory.stored_gbit
        for k in range(n_step):
            rate = None if downlink_rate_mbps is None else downlink_rate_mbps[k]
            u, d, r = self.step(dt_s, modes[k], sun[k], rate)
            unserved[k], drained[k], rejected[k] = u / _J_PER_WH, d / _BIT_PER_GBIT, r / _BIT_PER_GBIT
            charge[k + 1], memory[k + 1] = self.power.charge_wh, self.memory.stored_gbit
        return FleetHistory(np.arange(n_step + 1) * float(dt_s), charge, memory, unserved,
                            drained, rejected)

    @property
    def charge_wh(self) -> np.ndarray:
        return self.power.charge_wh

    @property
    def memory_gbit(self) -> np.ndarray:
        return self.memory.stored_gbit

    def ledger(self) -> dict:
        """Energy (Wh) and data (bit) ledgers per satellite, JSON-ready."""
        return {"energy": self.power.ledger(), "memory": self.memory.ledger()}
