"""Time-bucketed samples (``Archive.samples``) on both back ends against a brute-force NumPy
computation over the values that were sent: min, max, mean and count of every bucket, for bucket widths computed
from tiles (a minute and more) and from the values (under a minute); duplicates counted once,
late packets counted, NaN and infinities left out, tiles built for an archive written before."""
import numpy as np
import pytest

from telemetry.archive import Archive
from telemetry.errors import ArchiveError
from telemetry.packets import HEADER_BYTES, crc16_rows
from telemetry.platform import Platform
from telemetry.publisher import housekeeping_values
from telemetry.samples import bucket_width_s

T0 = 1.8e9 + 0.25


def _times(rng, n):
    """Irregular times: 1 s steps with jitter, and two long gaps."""
    steps = rng.uniform(0.2, 1.8, n)
    steps[n // 3] += 5000.0
    steps[2 * n // 3] += 90_000.0
    return T0 + np.cumsum(steps)


def _non_finite(d, rows, rng):
    """NaN and infinities written into q1 (the encoder refuses them), CRC made good again."""
    q1 = next(p for p in d.packet("HK").parameters if p.name == "q1")
    at = HEADER_BYTES + q1.bit_offset // 8
    for value, count in ((np.nan, 40), (np.inf, 5), (-np.inf, 5)):
        rows[rng.integers(0, rows.shape[0], count), at:at + 4] = np.frombuffer(np.array(value, ">f4").tobytes(),
                                                                               np.uint8)
    rows[:, -2:] = crc16_rows(rows[:, :-2]).astype(">u2").view(np.uint8).reshape(-1, 2)
    return rows


def _fill(path, d, rng, n=6000):
    """Two spacecraft; q1 with NaN and infinities. Returns {spacecraft: (time_s, {name: values})}
    as the dictionary decodes the packets sent (the reference's input)."""
    p = Platform(path, d)
    sent = {}
    for k, sc in enumerate(("FS8-1", "FS8-2")):
        t = _times(rng, n) + k * 0.5
        v = housekeeping_values(np.arange(n), seed=k)
        v["q1"] = rng.normal(0, 1, n)
        rows = _non_finite(d, d.encode("HK", v, time_s=t, seq_start=0), rng)
        late = slice(n // 2, n // 2 + 300)
        order = np.r_[0:n // 2, n // 2 + 300:n]
        for i in range(0, order.size, 700):
            p.ingest(rows[order[i:i + 700]].tobytes(), spacecraft=sc)
        p.ingest(rows[late].tobytes(), spacecraft=sc)              # late: archived, not limit-checked
        p.ingest(rows[:500].tobytes(), spacecraft=sc)              # duplicates: counted once
        cols = d.decode_stream(rows.tobytes())[1]["HK"]        # the times and values the packets carry
        sent[sc] = (cols["time_s"], {name: np.asarray(cols[name], dtype=np.float64)
                                     for name in ("battery_voltage", "q1", "rw2_speed")})
    p.close()
    return sent


def _brute(t, v, start, end, n_buckets):
    """Bucket by bucket with masks: (starts, min, max, mean, count) of the non-empty buckets."""
    w = bucket_width_s(start, end, n_buckets)
    out = []
    for b in range(int(np.floor(start / w)), int(np.ceil(end / w))):
        sel = (t >= b * w) & (t < (b + 1) * w) & np.isfinite(v)
        if sel.any():
            out.append((b * w, v[sel].min(), v[sel].max(), v[sel].mean(), int(sel.sum())))
    return out


def _check(archive, sent, start, end, n_buckets):
    for sc, (t, values) in sent.items():
        for name, v in values.items():
            got = archive.samples(sc, name, start, end, n_buckets)
            ref = _brute(t, v, start, end, n_buckets)
            assert len(got) == len(ref) <= n_buckets, (sc, name, start, end, n_buckets)
            starts = np.asarray(got["time_utc"]).astype("datetime64[us]").astype(np.int64) / 1e6
            assert np.array_equal(starts, [r[0] for r in ref])
            assert np.array_equal(np.asarray(got["count"]), [r[4] for r in ref])
            assert np.array_equal(np.asarray(got["min"]), [r[1] for r in ref])
            assert np.array_equal(np.asarray(got["max"]), [r[2] for r in ref])
            assert np.allclose(np.asarray(got["mean"]), [r[3] for r in ref], rtol=1e-12, atol=0)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def filled(request, hk_dict, tmp_path_factory):
    if request.param == "sqlite":
        path = str(tmp_path_factory.mktemp("samples") / "a.sqlite")
    else:
        path = request.getfixturevalue("postgres").fresh_url()
    return path, _fill(path, hk_dict, np.random.default_rng(7))


@pytest.mark.parametrize("span_s, n_buckets", [(200_000, 100), (200_000, 7), (8000, 40), (30_000, 1000),
                                               (600, 100), (95, 30), (3 * 86400, 1)])
def test_buckets_equal_brute_force(filled, span_s, n_buckets):
    path, sent = filled
    a = Archive(path, readonly=True)
    try:
        for offset in (0.0, 1234.567, 7777.1):
            _check(a, sent, T0 + offset, T0 + offset + span_s, n_buckets)
    finally:
        a.close()


def test_tiles_built_for_an_archive_written_before(filled):
    old, sent = filled
    a = Archive(old)
    a.execute("DELETE FROM sample_tiles")
    a.execute("DELETE FROM meta WHERE key = 'sample_tiles'")
    a.close()
    a = Archive(old, readonly=True)
    with pytest.raises(ArchiveError, match="open it once for writing"):
        a.samples("FS8-1", "q1", T0, T0 + 86400, 10)
    a.close()
    a = Archive(old)                                   # opened for writing: the tiles are built
    try:
        _check(a, sent, T0, T0 + 200_000, 50)
    finally:
        a.close()


@pytest.mark.parametrize("args, message", [((T0, T0, 10), "start before end"), ((T0, np.nan, 10), "finite"),
                                           ((T0, T0 + 10, 0), "integer from 1"), ((T0, T0 + 10, 2.5), "integer"),
                                           ((0.0, 1e15, 1), "wider than")])
def test_bad_requests_are_archive_errors(filled, args, message):
    a = Archive(filled[0], readonly=True)
    try:
        with pytest.raises(ArchiveError, match=message):
            a.samples("FS8-1", "q1", *args)
        assert len(a.samples("nobody", "q1", T0, T0 + 1000, 10)) == 0
    finally:
        a.close()
