"""The simulator's link to an external platform with per-source keys: one key per satellite,
everything delivered; without its key nothing is, and the result says so."""
import threading

import numpy as np

from sims.link import stream_packets
from telemetry.archive import Archive
from telemetry.dictionary import Dictionary
from telemetry.keys import generate_keys
from telemetry.publisher import housekeeping_values
from telemetry.server import PlatformServer


def _rows(d, n, t0):
    return d.encode("HK", housekeeping_values(np.arange(n), seed=2), time_s=t0 + np.arange(n))


def test_publish_with_per_satellite_keys(tmp_path):
    d = Dictionary.bundled()
    keys = tmp_path / "keys"
    for name in ("SAT-A", "SAT-B"):
        generate_keys(keys, name)
    ep = f"ipc://{tmp_path}/p.sock"
    server = PlatformServer(ep, tmp_path / "a.sqlite", keys=keys)
    stop = threading.Event()
    th = threading.Thread(target=server.run, kwargs={"stop": stop}, daemon=True)
    th.start()
    rows = [_rows(d, 300, 1.8e9), _rows(d, 300, 1.9e9)]
    out = stream_packets(rows, ["SAT-A", "SAT-B"], apid=0x64, hk_period_s=1.0, publish=ep, keys=keys, linger_s=20)
    refused = stream_packets(rows, ["SAT-A", "SAT-B"], apid=0x64, hk_period_s=1.0, publish=ep, linger_s=0.5)
    stop.set()
    th.join(30)
    server.close()
    a = Archive(tmp_path / "a.sqlite", readonly=True)
    s = a.stats()
    a.close()
    assert out["acknowledged"] and out["sent_packets"] == 600
    assert not refused["acknowledged"]
    assert s["packets_archived"] == 600 == s["packets_received"]
