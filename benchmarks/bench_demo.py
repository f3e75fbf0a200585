"""The demo end to end, stage by stage, against its 60 s budget.

    python benchmarks/bench_demo.py [--hours 24] [--time-limit 10] [--output DIR]

Runs what ``groundseg demo`` runs (the bundled scenario: geometry, contact plan, imaging
plan, simulation, housekeeping telemetry over ZeroMQ to an in-process platform, coverage,
pictures) and prints each stage's wall time. Then two same-run comparisons:

- the runner's power / memory stepping, vectorised over satellites, against the same
  sub-steps done one satellite at a time in plain Python (the obvious implementation),
  for the 8 satellites and for the same inputs tiled to 32 and 128 satellites;
- the telemetry stage (encode + ZeroMQ + platform + archive) against feeding the same
  packets straight into an in-process :class:`telemetry.Platform` (no sockets).
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sims.pipeline import human_summary, run_scenario  # noqa: E402
from sims.scenario import bundled_scenario  # noqa: E402
from sims.spacecraft import DOWNLINK, IDLE, IMAGING, MODES, SLEW, Fleet  # noqa: E402


def _substeps(sim):
    """The runner's sub-step inputs (as sims.runner.simulate builds them), ``(n, n_sat)``."""
    sched = sim.schedule
    t = sim.time_s
    b = np.unique(np.concatenate([t, sched.breakpoints()]))
    mid = 0.5 * (b[:-1] + b[1:])
    img = sched.locate("imaging", mid)
    slw = sched.locate("slewing", mid)
    txr = sched.locate("transmitting", mid)
    tx = txr >= 0
    mode = np.where(img >= 0, IMAGING, np.where(slw >= 0, SLEW, np.where(tx, DOWNLINK, IDLE)))
    rate = np.where(tx, sched.transmissions["rate_mbps"][np.maximum(txr, 0)], 0.0)
    end = (img >= 0) & (b[1:][None, :] >= sched.acquisitions["end_s"][np.maximum(img, 0)] - 1e-9)
    sun = np.stack([np.interp(mid, t, s) for s in sim.sunlit])
    return np.diff(b), mode.T, sun.T, rate.T, tx.T, end.T


def _vectorised(model, n_sat, inputs) -> float:
    dt, mode, sun, rate, tx, end = inputs
    fleet = Fleet(model, n_sat)
    t0 = time.perf_counter()
    fleet.run_steps(dt, mode, sun, rate, tx, end)
    return time.perf_counter() - t0


def _scalar(model, inputs) -> float:
    """The same sub-steps one satellite at a time, scalar arithmetic; returns seconds."""
    dt, mode, sun, rate, tx, end = (np.asarray(x).tolist() for x in inputs)
    n, n_sat = len(dt), len(mode[0])
    loads = [model.loads_w[m] for m in MODES]
    cap_j, cap_bit = model.battery_capacity_wh * 3600.0, int(round(model.memory_capacity_gbit * 1e9))
    eta, img_bps = model.charge_efficiency, model.image_data_rate_gbit_s * 1e9
    t0 = time.perf_counter()
    for s in range(n_sat):
        q = model.initial_charge_fraction * cap_j
        stored, pending = int(round(model.initial_memory_gbit * 1e9)), 0
        c_img = c_dl = 0.0
        for j in range(n):
            m, x = mode[j][s], tx[j][s]
            power = loads[m] + (loads[DOWNLINK] - loads[IDLE] if x and m != DOWNLINK else 0.0)
            net = model.solar_array_power_w * sun[j][s] * dt[j] - power * dt[j]
            q = min(q + net * eta, cap_j) if net >= 0 else max(q + net, 0.0)
            fill = drain = 0
            if m == IMAGING:
                e = img_bps * dt[j] + c_img
                fill = int(e)
                c_img = e - fill
            else:
                pending = 0
            if x:
                e = rate[j][s] * 1e6 * dt[j] + c_dl
                drain = int(e)
                c_dl = e - drain
            stored -= min(stored - pending, drain)
            acc = min(fill, cap_bit - stored)
            stored += acc
            pending = 0 if end[j][s] else pending + acc
    return time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--time-limit", type=float, default=10.0)
    ap.add_argument("--output", default=None)
    args = ap.parse_args(argv)
    scenario = bundled_scenario()
    if args.hours != 24.0:
        end = scenario.window.start + np.timedelta64(int(args.hours * 3600e9), "ns")
        scenario = dataclasses.replace(scenario, window=dataclasses.replace(scenario.window, end=end))
    out = Path(args.output or tempfile.mkdtemp(prefix="bench-demo-"))
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    t0 = time.perf_counter()
    run = run_scenario(scenario, out, time_limit_s=args.time_limit)
    wall = time.perf_counter() - t0
    print(human_summary(run))
    print("\nstage timings (s): " + ", ".join(f"{k} {v:.2f}" for k, v in run.timings_s.items()))
    print(f"end to end {wall:.1f} s of a 60 s budget (planner time limit {args.time_limit:g} s)")

    sim = run.simulation
    model = sim.scenario.spacecraft
    inputs = _substeps(sim)
    n_sub, n_sat = inputs[1].shape
    print(f"\nsimulation: simulate() {run.timings_s['simulation']:.2f} s in all ({n_sub} sub-steps x "
          f"{n_sat} satellites; interpolation, Sun, schedule, events, stepping)")
    for k in (1, 4, 16):      # the same day for k x 8 satellites (inputs tiled)
        tiled = [inputs[0]] + [np.tile(x, (1, k)) for x in inputs[1:]]
        t_vec = _vectorised(model, n_sat * k, tiled)
        t_ref = _scalar(model, tiled)
        print(f"  power + memory stepping, {n_sat * k:4d} satellites: vectorised over satellites "
              f"{t_vec:.2f} s, one satellite at a time in plain Python {t_ref:.2f} s: "
              f"ratio {t_ref / t_vec:.1f}x")

    from telemetry import Dictionary, Platform
    d = Dictionary.bundled()
    tel = run.telemetry
    n = tel["sent_packets"]
    rows = [d.encode("HK", v, time_s=1.8e9 + 10.0 * np.arange(len(v["uptime"]))) for v in run.housekeeping]
    with tempfile.TemporaryDirectory() as tmp:
        p = Platform(Path(tmp) / "direct.sqlite", d)
        t1 = time.perf_counter()
        for k in range(0, rows[0].shape[0], 2000):
            for i, r in enumerate(rows):
                p.ingest(r[k:k + 2000].tobytes(), spacecraft=f"S{i}")
        t_direct = time.perf_counter() - t1
        p.close()
    print(f"telemetry: {n} packets through ZeroMQ + platform + archive in {run.timings_s['telemetry']:.2f} s "
          f"({n / run.timings_s['telemetry']:,.0f} packets/s, encoding included) vs "
          f"{t_direct:.2f} s fed straight into an in-process Platform: ratio "
          f"{run.timings_s['telemetry'] / t_direct:.1f}x")
    print(f"output in {out}")


if __name__ == "__main__":
    main()
