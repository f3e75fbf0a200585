"""Housekeeping telemetry from the simulated state: the values of the bundled ``HK`` packet.

:func:`housekeeping_values` turns what the runner simulated (battery charge, loads, memory,
Sun, attitude, activities) into the engineering values of every parameter of the bundled
dictionary's ``HK`` packet (``telemetry/data/housekeeping.toml``), one packet per
satellite every ``hk_period_s``, then applies the scenario's faults (:mod:`sims.faults`).
The models are simple and documented so that an operator sees plausible, consistent
values; they are not a thermal or electrical design model.

- ``battery_soc`` (%): the simulated charge / capacity.
- ``battery_voltage`` (V): 8 Li-ion cells in series; the open-circuit voltage per cell is
  piecewise linear in the state of charge (:data:`OCV_SOC`, :data:`OCV_CELL_V`: 3.0 V empty,
  3.73 V at 50 %, 4.1 V full, i.e. 24.0-32.8 V for the string), minus the pack resistance
  :data:`PACK_RESISTANCE_OHM` times the battery current (discharge positive; charging
  raises the voltage; no current once the battery is full and the array curtailed).
- ``bus_current`` (A): the load (the mode's power, as the power model draws it) divided by
  the battery voltage (an unregulated bus).
- temperatures (degC): first-order lags ``T -> T_eq`` with time constant ``tau``, exactly
  discretised over the housekeeping period, plus Gaussian sensor noise of
  :data:`TEMPERATURE_NOISE_DEGC` (more than the 0.01 degC resolution, so a healthy sensor
  never repeats 20 identical raw values and the frozen check stays quiet): battery
  ``12 + 6 sunlit`` (tau 2400 s), on-board computer ``18 + 0.06 load_w`` (1200 s), payload
  focal plane ``15 + 2 sunlit + 5 imaging`` (600 s).
- reaction wheels (rpm): four wheels in a pyramid (axes 35.26 deg above the body x-y plane,
  at azimuths 45, 135, 225, 315 deg) hold the body's angular momentum
  ``I_body w_body`` (``I_body`` = :data:`BODY_INERTIA_KG_M2`; ``w_body`` = roll rate about
  body x, pitch rate about body y, the orbital rate about -y: a small-angle mapping) with
  the minimum-norm split, on top of a bias of :data:`WHEEL_BIAS_RPM` along the pyramid's
  null direction (+,-,+,-); wheel inertia :data:`WHEEL_INERTIA_KG_M2`.
- ``q1..q4``: the attitude as the quaternion (vector part, then scalar part; the sign kept
  continuous in time) of the rotation taking the inertial axes (TEME, SGP4's frame) onto
  the body axes, i.e. ``v_teme = R(q) v_body``. Body from the
  local orbital frame of :mod:`groundseg.access` (z to nadir, x along the velocity, y = z x x)
  by ``C = R_y(pitch) R_x(-roll)``: the body +z axis (the camera boresight) is the line of
  sight of that roll and pitch.
- ``attitude_mode``: TARGET while imaging, slewing or off nadir, DOWNLINK while
  transmitting at nadir, NADIR otherwise. ``downlink_state``: TRANSMITTING, ARMED (in a
  scheduled contact, not transmitting) or IDLE. ``memory_used`` (%), ``eclipse`` (umbra:
  no part of the Sun visible), ``heaters_on`` (thermostat states: bit 0 battery below
  14 degC, bit 1 payload below 16 degC), ``uptime`` (s since the window start).
"""
from __future__ import annotations

import numpy as np

from .faults import BATTERY_CELLS, COMMAND_FAULT_KINDS, Fault

__all__ = ["OCV_SOC", "OCV_CELL_V", "PACK_RESISTANCE_OHM", "TEMPERATURE_NOISE_DEGC",
           "BODY_INERTIA_KG_M2", "WHEEL_INERTIA_KG_M2", "WHEEL_BIAS_RPM", "WHEEL_AXES",
           "open_circuit_voltage", "battery_voltage", "wheel_speeds_rpm", "attitude_quaternion",
           "housekeeping_values", "apply_faults"]

OCV_SOC = np.array([0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
OCV_CELL_V = np.array([3.00, 3.30, 3.45, 3.55, 3.62, 3.68, 3.73, 3.79, 3.86, 3.94, 4.02, 4.10])
PACK_RESISTANCE_OHM = 0.05
TEMPERATURE_NOISE_DEGC = 0.03
VOLTAGE_NOISE_V = 0.004
CURRENT_NOISE_A = 0.01
WHEEL_NOISE_RPM = 2.0
BODY_INERTIA_KG_M2 = np.array([50.0, 50.0, 35.0])
WHEEL_INERTIA_KG_M2 = 0.008
WHEEL_BIAS_RPM = 1500.0
_BETA = np.arcsin(np.sqrt(1.0 / 3.0))
_AZ = np.radians([45.0, 135.0, 225.0, 315.0])
#: Wheel spin axes in the body frame, ``(3, 4)``.
WHEEL_AXES = np.stack([np.cos(_BETA) * np.cos(_AZ), np.cos(_BETA) * np.sin(_AZ),
                       np.full(4, np.sin(_BETA))])
_NULL = np.array([1.0, -1.0, 1.0, -1.0])
_RPM = 60.0 / (2.0 * np.pi)

# Attitude modes and downlink states (raw values of the dictionary's enumerations).
NADIR, TARGET, DOWNLINK_MODE = 2, 3, 4
IDLE_LINK, ARMED, TRANSMITTING = 0, 1, 2


def open_circuit_voltage(soc) -> np.ndarray:
    """Open-circuit voltage of the 8-cell string, V, for state of charge ``soc`` (0..1)."""
    return BATTERY_CELLS * np.interp(np.asarray(soc, dtype=float), OCV_SOC, OCV_CELL_V)


def battery_voltage(soc, battery_current_a) -> np.ndarray:
    """Terminal voltage: open-circuit minus the pack resistance times the discharge current."""
    return open_circuit_voltage(soc) - PACK_RESISTANCE_OHM * np.asarray(battery_current_a, float)


def wheel_speeds_rpm(roll_rate_deg_s, pitch_rate_deg_s, orbit_rate_rad_s) -> np.ndarray:
    """Wheel speeds ``(..., 4)`` rpm for body rates (arrays of one shape)."""
    wx = np.radians(np.asarray(roll_rate_deg_s, dtype=float))
    wy = np.radians(np.asarray(pitch_rate_deg_s, dtype=float)) - orbit_rate_rad_s
    h_body = np.stack([BODY_INERTIA_KG_M2[0] * wx, BODY_INERTIA_KG_M2[1] * wy, np.zeros_like(wx)], -1)
    pinv = np.linalg.pinv(WHEEL_AXES)                       # (4, 3), minimum norm
    h_wheels = -np.einsum("wi,...i->...w", pinv, h_body)    # the wheels absorb the momentum
    bias = WHEEL_BIAS_RPM / _RPM * WHEEL_INERTIA_KG_M2 * _NULL
    return (h_wheels + bias) / WHEEL_INERTIA_KG_M2 * _RPM


def attitude_quaternion(position_km, velocity_km_s, roll_deg, pitch_deg) -> np.ndarray:
    """Quaternions ``(..., 4)`` (x, y, z, w) of the rotation taking the TEME axes onto the
    body axes, from TEME states ``(..., 3)`` and roll / pitch ``(...)`` deg. The sign is
    continuous along the last (time) axis, with w >= 0 at its first sample."""
    from scipy.spatial.transform import Rotation
    r = np.asarray(position_km, dtype=float)
    v = np.asarray(velocity_km_s, dtype=float)
    z = -r / np.linalg.norm(r, axis=-1, keepdims=True)
    x = v - np.sum(v * z, axis=-1, keepdims=True) * z
    x /= np.linalg.norm(x, axis=-1, keepdims=True)
    y = np.cross(z, x)
    lvlh = np.stack([x, y, z], axis=-1)                      # columns: frame axes in TEME
    phi, th = np.radians(roll_deg), np.radians(pitch_deg)
    cp, sp, ct, st = np.cos(phi), np.sin(phi), np.cos(th), np.sin(th)
    zero, one = np.zeros_like(cp), np.ones_like(cp)
    ry = np.stack([np.stack([ct, zero, st], -1), np.stack([zero, one, zero], -1),
                   np.stack([-st, zero, ct], -1)], -2)
    rx = np.stack([np.stack([one, zero, zero], -1), np.stack([zero, cp, sp], -1),
                   np.stack([zero, -sp, cp], -1)], -2)       # R_x(-roll)
    body = lvlh @ ry @ rx                                    # columns: body axes in TEME
    shape = body.shape[:-2]
    q = Rotation.from_matrix(body.reshape(-1, 3, 3)).as_quat().reshape(shape + (4,))
    if q.ndim >= 2 and q.shape[-2] > 1:
        # continuous in time along the last time axis: flip where consecutive ones disagree
        flip = np.sum(q[..., 1:, :] * q[..., :-1, :], axis=-1) < 0
        sign = np.concatenate([np.where(q[..., :1, 3] < 0, -1.0, 1.0),
                               np.where(flip, -1.0, 1.0)], axis=-1)
        return q * np.cumprod(sign, axis=-1)[..., None]
    return np.where(q[..., 3:4] < 0, -q, q)


def _lag(t_eq, tau_s, dt_s, t0):
    """First-order lag of ``t_eq`` ``(n_sat, n)`` from ``t0``, exact for piecewise-constant
    inputs held over each period ``dt_s``."""
    a = np.exp(-dt_s / tau_s)
    out = np.empty_like(t_eq)
    cur = np.full(t_eq.shape[0], t0, dtype=float)
    for k in range(t_eq.shape[1]):
        out[:, k] = cur
        cur = t_eq[:, k] + (cur - t_eq[:, k]) * a
    return out


def housekeeping_values(state: dict, *, hk_period_s: float, orbit_rate_rad_s: float,
                        seed: int = 0) -> list[dict]:
    """Engineering values of the ``HK`` packet per satellite (a list of dicts of ``(n,)``).

    ``state`` holds ``(n_sat, n)`` arrays at the housekeeping times: ``time_s`` ``(n,)``
    (s from the window start), ``soc`` (0..1), ``load_w``, ``generated_w`` (array power
    reaching the bus), ``charge_efficiency`` (scalar), ``sunlit`` (0..1), ``memory_fraction``,
    ``imaging``, ``slewing``, ``transmitting``, ``in_contact`` (bool), ``roll_deg``,
    ``pitch_deg``, ``roll_rate_deg_s``, ``pitch_rate_deg_s``, and ``position_km``,
    ``velocity_km_s`` ``(n_sat, n, 3)`` TEME.
    """
    soc = np.clip(state["soc"], 0.0, 1.0)
    n_sat, n = soc.shape
    load = state["load_w"]
    net = load - state["generated_w"]                        # > 0: the battery supplies
    v_oc = open_circuit_voltage(soc)
    charging = (net < 0) & (soc < 0.999)
    p_batt = np.where(net >= 0, net, np.where(charging, net * state["charge_efficiency"], 0.0))
    current = p_batt / v_oc
    volts = battery_voltage(soc, current)
    t_batt = _lag(12.0 + 6.0 * state["sunlit"], 2400.0, hk_period_s, 15.0)
    t_obc = _lag(18.0 + 0.06 * load, 1200.0, hk_period_s, 18.0 + 0.06 * load[:, 0])
    t_pay = _lag(15.0 + 2.0 * state["sunlit"] + 5.0 * state["imaging"], 600.0, hk_period_s, 16.0)
    wheels = wheel_speeds_rpm(state["roll_rate_deg_s"], state["pitch_rate_deg_s"], orbit_rate_rad_s)
    q = attitude_quaternion(state["position_km"], state["velocity_km_s"], state["roll_deg"],
                            state["pitch_deg"])
    off_nadir = (np.abs(state["roll_deg"]) > 1e-6) | (np.abs(state["pitch_deg"]) > 1e-6)
    target = state["imaging"] | state["slewing"] | off_nadir
    mode = np.where(target, TARGET, np.where(state["transmitting"], DOWNLINK_MODE, NADIR))
    link = np.where(state["transmitting"], TRANSMITTING, np.where(state["in_contact"], ARMED, IDLE_LINK))
    uptime = np.rint(state["time_s"]).astype(np.int64)
    out = []
    for s in range(n_sat):
        rng = np.random.default_rng([int(seed), s])
        noise = lambda sigma: rng.normal(0.0, sigma, n)  # noqa: E731
        tb, tp = t_batt[s] + noise(TEMPERATURE_NOISE_DEGC), t_pay[s] + noise(TEMPERATURE_NOISE_DEGC)
        out.append({
            "battery_voltage": volts[s] + noise(VOLTAGE_NOISE_V),
            "battery_soc": 100.0 * soc[s],
            "bus_current": load[s] / volts[s] + noise(CURRENT_NOISE_A),
            "battery_temp": tb,
            "obc_temp": t_obc[s] + noise(TEMPERATURE_NOISE_DEGC),
            "payload_temp": tp,
            **{f"rw{w + 1}_speed": wheels[s, :, w] + noise(WHEEL_NOISE_RPM) for w in range(4)},
            "q1": q[s, :, 0], "q2": q[s, :, 1], "q3": q[s, :, 2], "q4": q[s, :, 3],
            "attitude_mode": mode[s], "downlink_state": link[s],
            "memory_used": 100.0 * state["memory_fraction"][s],
            "eclipse": (state["sunlit"][s] <= 0.0).astype(np.int64),
            "heaters_on": (tb < 14.0).astype(np.int64) + 2 * (tp < 16.0).astype(np.int64),
            "uptime": uptime,
        })
    return out


def apply_faults(values: list[dict], faults, time_s) -> list[dict]:
    """Apply ``faults`` (:class:`~sims.faults.Fault`) to per-satellite values in place;
    ``time_s`` ``(n,)`` s from the window start. Returns ``values``."""
    t = np.asarray(time_s, dtype=float)
    for f in faults:
        if not isinstance(f, Fault):
            raise TypeError(f"expected a Fault, got {type(f).__name__}")
        if f.kind in COMMAND_FAULT_KINDS:
            continue
        v = values[f.satellite_index]
        on = f.active(t)
        if not on.any():
            continue
        first = int(np.argmax(on))
        if f.kind == "battery_cell_drop":
            v["battery_voltage"] = np.where(
                on, v["battery_voltage"] * (BATTERY_CELLS - f.parameters["cells_lost"]) / BATTERY_CELLS,
                v["battery_voltage"])
        elif f.kind == "wheel_overspeed":
            key = f.parameter
            v0 = float(v[key][first])
            x = np.clip((t - f.start_s) / f.parameters["ramp_s"], 0.0, 1.0)
            v[key] = np.where(on, v0 + (f.parameters["speed_rpm"] - v0) * x, v[key])
        else:
            key = f.parameter
            v[key] = np.where(on, v[key][first], v[key])
    return values
