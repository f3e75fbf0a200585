"""Disaster response: how soon can we see it, optical only against optical + SAR.

    python benchmarks/bench_response.py [--sites 200] [--replans 40] [--seed 16]
                                        [--picture bench_response.png]

The bundled formosat8_sar scenario (8 optical satellites, 4 SAR satellites in two dawn-dusk
planes: an assumption), its five stations. ``--sites`` disaster sites, half over Taiwan
(21.8-25.4 N, 119.9-122.1 E) and half over East Asia (5-45 N, 95-145 E), each at a random
time of the scenario's day. For each, ``groundseg.response`` finds every option in the next
72 h for the whole fleet and for the optical satellites alone, under a clear sky and under a
cloud cover drawn per site (uniform 0..1, held for the 72 h: above 0.7 the optical options
are left out, as ``groundseg respond --cloud`` does). The table gives the median and 90th
percentile of the hours to the first image and to delivery (a site no satellite serves in
72 h counts as "> 72 h"), the picture their distributions.
Then ``--replans`` of the requests are put into the fleet's day plan (the ``groundseg plan``
of the scenario) with :func:`groundseg.response_plan.replan_request`: the time of the re-plan
itself (goal: under 2 s) and of the geometry it rebuilds, and the verifier on every new plan.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from groundseg.fleet import Fleet, Payload  # noqa: E402
from groundseg.mission_plan import plan_mission  # noqa: E402
from groundseg.planning import verify_plan  # noqa: E402
from groundseg.response import ResponseSettings, response_options  # noqa: E402
from groundseg.response_plan import replan_request  # noqa: E402
from groundseg.targets import Targets  # noqa: E402
from groundseg.timegrid import format_utc  # noqa: E402
from sims.planning_inputs import fleet as scenario_fleet  # noqa: E402
from sims.planning_inputs import plan_inputs, target_defaults  # noqa: E402
from sims.scenario import bundled_scenario  # noqa: E402

_BOXES = (("Taiwan", (21.8, 25.4), (119.9, 122.1)), ("East Asia", (5.0, 45.0), (95.0, 145.0)))
_FLEETS = ("optical only", "optical + SAR")
_SKIES = ("clear sky", "cloud cover")
_METRICS = ("first image", "delivery")


def _sites(rng, n, scenario):
    """``n`` random sites (half in each box), request times and cloud covers."""
    lat, lon = [], []
    for k, (_, (la0, la1), (lo0, lo1)) in enumerate(_BOXES):
        m = n // 2 if k == 0 else n - n // 2
        lat.append(np.degrees(np.arcsin(rng.uniform(np.sin(np.radians(la0)), np.sin(np.radians(la1)), m))))
        lon.append(rng.uniform(lo0, lo1, m))
    d = target_defaults(scenario.spacecraft)
    t0 = scenario.window.start
    span_ns = int((scenario.window.end - t0) / np.timedelta64(1, "ns"))
    times = t0 + rng.integers(0, span_ns - 3600 * 10**9, n).astype("timedelta64[ns]")
    sites = [Targets([f"site-{i}"], [la], [lo], 0.0, 1.0, d.min_sun_elevation_deg, d.max_off_nadir_deg, "mono")
             for i, (la, lo) in enumerate(zip(np.concatenate(lat), np.concatenate(lon)))]
    return sites, times, rng.uniform(0.0, 1.0, n)


def _first(result, no_optical: bool):
    """Hours to the first image and to the first delivery (inf when there is no option),
    without the optical options if ``no_optical``."""
    t = result.table
    keep = (t["sensor"] != "optical") if no_optical else np.ones(len(t), dtype=bool)
    if not keep.any():
        return np.inf, np.inf
    return float(np.min(t["hours_to_image"][keep])), float(np.min(t["hours_to_delivery"][keep]))


def _stats(x):
    x = np.asarray(x, dtype=float)
    served = np.isfinite(x)
    q = np.percentile(np.where(served, x, 1e9), [50, 90])
    return [f"{v:6.1f} h" if v < 1e8 else " > 72 h" for v in q] + [f"{100 * served.mean():5.1f} %"]


def _picture(path, hours, n_sites):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.4), sharey=True)
    colours = {"optical only": "tab:orange", "optical + SAR": "tab:blue"}
    for ax, metric in zip(axes, _METRICS):
        for fleet_name in _FLEETS:
            for sky, style in zip(_SKIES, ("-", "--")):
                x = np.sort(np.asarray(hours[(fleet_name, sky, metric)], dtype=float))
                y = np.arange(1, x.size + 1) / x.size
                ax.step(np.minimum(x, 80.0), y, where="post", color=colours[fleet_name],
                        linestyle=style, label=f"{fleet_name}, {sky}")
        ax.set_xlim(0, 72)
        ax.set_ylim(0, 1.02)
        ax.set_xticks(range(0, 73, 12))
        ax.set_xlabel(f"hours from the request to the {metric}")
        ax.set_title(f"time to {metric}")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"fraction of the {n_sites} disaster sites served")
    axes[1].legend(loc="lower right", fontsize=8)
    fig.suptitle("Disaster response over Taiwan and East Asia: 8 optical satellites alone, and with "
                 "4 SAR satellites (assumed)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", type=int, default=200)
    ap.add_argument("--replans", type=int, default=40)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--picture", default="bench_response.png")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    scenario = bundled_scenario("formosat8_sar")
    stations = list(scenario.stations)
    mixed = scenario_fleet(scenario)
    optical = mixed.payloads[0]
    alone = Fleet(scenario.constellation.subset(list(optical.satellites)),
                  [Payload(optical.sensor, optical.spacecraft, tuple(range(len(optical.satellites))))])
    sites, times, clouds = _sites(rng, args.sites, scenario)

    hours = {(f, sky, m): [] for f in _FLEETS for sky in _SKIES for m in _METRICS}
    per_request = []
    for aoi, at, cloud in zip(sites, times, clouds):
        for name, fleet in zip(_FLEETS, (alone, mixed)):
            t0 = time.perf_counter()
            options = response_options(fleet, stations, aoi, at, ResponseSettings())
            per_request.append(time.perf_counter() - t0)
            for sky in _SKIES:
                dropped = sky == _SKIES[1] and cloud > ResponseSettings().max_cloud_fraction
                for metric, x in zip(_METRICS, _first(options, dropped)):
                    hours[(name, sky, metric)].append(x)

    print(f"{args.sites} sites ({args.sites // 2} over Taiwan, the rest over East Asia), random "
          f"times on {format_utc(scenario.window.start)[0][:10]}, 72 h horizon; "
          f"{np.median(per_request):.2f} s per request (median); cloud cover uniform 0..1, "
          f"above 0.7 at {100 * np.mean(clouds > 0.7):.0f} % of the sites")
    print(f"{'fleet':<15} {'sky':<12} {'hours to':<12} {'median':>8} {'90th pct':>9} {'served':>8}")
    for metric in _METRICS:
        for sky in _SKIES:
            for fleet_name in _FLEETS:
                med, p90, served = _stats(hours[(fleet_name, sky, metric)])
                print(f"{fleet_name:<15} {sky:<12} {metric:<12} {med:>8} {p90:>9} {served:>8}")

    _picture(args.picture, hours, args.sites)
    print(f"picture: {args.picture}")

    if args.replans:
        t0 = time.perf_counter()
        day = plan_mission(plan_inputs(scenario), time_limit_s=10.0, method="auto").plan
        plan = json.loads(day.to_json())
        print(f"the day plan: {len(plan['acquisitions'])} acquisitions "
              f"({time.perf_counter() - t0:.1f} s to make)")
        window = (scenario.window.start, scenario.window.end)
        targets = scenario.load_targets()
        replan_s, geometry_s, bad, served = [], [], 0, 0
        for aoi, at, cloud in list(zip(sites, times, clouds))[:args.replans]:
            new = replan_request(mixed, stations, targets, window, plan, aoi, at,
                                 ResponseSettings(cloud_fraction=float(cloud)))
            replan_s.append(new.replan_s)
            geometry_s.append(new.geometry_s)
            bad += bool(verify_plan(new.plan.problem, new.plan.plan))
            served += new.result.alternative >= 0
        print(f"re-planning {len(replan_s)} requests into it: re-plan median {np.median(replan_s):.2f} s, "
              f"90th percentile {np.percentile(replan_s, 90):.2f} s, max {np.max(replan_s):.2f} s "
              f"(goal < 2 s); geometry rebuilt in {np.median(geometry_s):.2f} s (median); "
              f"{served} served within the plan's day; verify_plan failures: {bad}")


if __name__ == "__main__":
    main()
