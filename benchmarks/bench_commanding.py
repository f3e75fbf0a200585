"""Telecommanding: encode / decode against spacepackets, and commands verified end to end.

    python benchmarks/bench_commanding.py [--commands 5000]

1. Encoding and strictly decoding a PUS-C telecommand (a SLEW: 31 bytes): ours against
   spacepackets' ``PusTc.pack`` / ``PusTc.unpack`` (the independent reference of the tests), in
   the same run, per command.
2. Commands end to end over loopback TCP in virtual time: submitted, released, held for a
   contact, uplinked at 64 kbit/s, accepted, executed on board, reported (PUS 1) and verified
   in the archive: commands per second, immediate and PUS 11 time-tagged.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from groundseg.planning.agility import PiecewiseAgility  # noqa: E402
from sims.onboard import OnboardComputer  # noqa: E402
from sims.uplink import FleetUplink  # noqa: E402
from telemetry.commanding import Commanding  # noqa: E402
from telemetry.commanding_uplink import ContactWindow, UplinkSession  # noqa: E402
from telemetry.tc import decode_tc  # noqa: E402
from telemetry.tc_dictionary import CommandDictionary  # noqa: E402
from telemetry.tc_link import GroundLink  # noqa: E402

T0 = 1795651200.0


def _best(fn, n: int, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn(n)
        best = min(best, time.perf_counter() - t)
    return best / n


def codec(n: int) -> None:
    from spacepackets.ecss.tc import PusTc
    d = CommandDictionary.bundled()
    tc = d.build("SLEW", {"roll_deg": 12.5, "pitch_deg": -3.0}, seq_count=1, source_id=1)
    raw = tc.encode()

    def ours_encode(k):
        for i in range(k):
            tc.encode()

    def ref_encode(k):
        for i in range(k):
            PusTc(service=8, message_subtype=1, apid=tc.apid, seq_count=1, source_id=1, app_data=tc.app_data,
                  ack_flags=tc.ack_flags).pack()

    def ours_decode(k):
        for i in range(k):
            d.identify(decode_tc(raw))

    def ref_decode(k):
        for i in range(k):
            PusTc.unpack(raw)
    for what, ours, ref, how in (("encode", ours_encode, ref_encode, "Telecommand.encode vs PusTc(...).pack"),
                                 ("decode", ours_decode, ref_decode,
                                  "decode_tc + the dictionary's argument checks vs PusTc.unpack")):
        a, b = _best(ours, n), _best(ref, n)
        print(f"{what} a {len(raw)}-byte SLEW: ours {a * 1e6:.1f} us, spacepackets {b * 1e6:.1f} us ({how}): "
              f"ratio {b / a:.1f}x")


def end_to_end(n: int, timed: bool) -> None:
    d = CommandDictionary.bundled()
    contacts = [ContactWindow(T0 + 600, T0 + 600 + 86400, "FS8-1", "Svalbard")]
    obc = {"FS8-1": OnboardComputer("FS8-1", d, agility=PiecewiseAgility(), start_s=T0, schedule_capacity=n)}
    fleet = FleetUplink("tcp://127.0.0.1:*", obc, contacts, start_s=T0).start()
    with tempfile.TemporaryDirectory() as tmp:
        cmd = Commanding(Path(tmp) / "ops.sqlite", d, clock=lambda: T0)
        link = GroundLink(fleet.endpoint)
        t = time.perf_counter()
        for i in range(n):
            cmd.submit("FS8-1", "HEATER_ON", {"heater": "obc"}, "bench",
                       release_time_s=T0 + 80000 + i if timed else None)
        t_submit = time.perf_counter() - t
        session = UplinkSession(cmd, link, contacts, {"Svalbard": 64000.0})
        t = time.perf_counter()
        session.run(T0 + 86000)
        t_run = time.perf_counter() - t
        verified = cmd.counts()["verified"]
        link.close()
        cmd.close()
    fleet.close()
    kind = "time-tagged (PUS 11,4)" if timed else "immediate"
    print(f"{n} {kind} commands: submitted and released in {t_submit:.2f} s ({n / t_submit:,.0f}/s); "
          f"uplinked, executed and verified in {t_run:.2f} s ({n / t_run:,.0f}/s); {verified} verified")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--commands", type=int, default=5000)
    args = ap.parse_args()
    codec(20000)
    end_to_end(args.commands, timed=False)
    end_to_end(args.commands, timed=True)


if __name__ == "__main__":
    main()
