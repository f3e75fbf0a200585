"""Per-source sequence bookkeeping on the platform: gaps, replays, holding, acknowledgement.

A source numbers its messages 1, 2, 3, ... (one counter per process). Per source the platform
keeps ``highest`` (the highest sequence seen), ``missing`` (sorted disjoint ranges [a, b] below
it not received yet), the messages ``held`` because they follow a gap (so that packets reach the
limit checks in time order), and ``committed``: every sequence <= it is archived or declared lost
in a committed transaction -- the only thing an acknowledgement may say.

What is saved (``to_json``) is the committed view: held messages count as missing, so a platform
restarted from the archive asks for them again instead of believing it has them.

Bounds (every number here may come from a hostile peer or a damaged archive): sequences are
within 1 .. 2**63 - 1; a message more than ``window`` beyond ``highest`` does not open a gap of
that size: what lies more than ``window`` below it is given up at once (skipped: a new session, as
far as replay goes) and only the last ``window`` are asked for; at most ``max_ranges`` ranges
are kept (the oldest are declared lost). Every operation costs O(number of ranges), never
O(messages).
"""
from __future__ import annotations

import bisect
import heapq
import json
import time

__all__ = ["MAX_SEQ", "SourceTracker"]

MAX_SEQ = (1 << 63) - 1


def _ranges(value, highest: int, max_ranges: int) -> list[list[int]]:
    """Validated, sorted, merged ranges within [1, highest] from untrusted JSON."""
    if not isinstance(value, list) or len(value) > max_ranges:
        raise ValueError("missing: a list of at most max_ranges [a, b] pairs")
    out: list[list[int]] = []
    for r in sorted(value, key=lambda r: r[0] if isinstance(r, list) and r and type(r[0]) is int else -1):
        if not (isinstance(r, list) and len(r) == 2 and all(type(x) is int for x in r) and 1 <= r[0] <= r[1] <= highest):
            raise ValueError(f"missing: bad range {r!r}")
        if out and r[0] <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], r[1])
        else:
            out.append(list(r))
    return out


class SourceTracker:
    """Sequence state of one source id; ``owner`` is the Z85 key that created it (None without keys)."""

    def __init__(self, source_id: str, *, owner: str | None = None, spacecraft: str = "", replay: str | None = None,
                 token: str | None = None, highest: int = 0, missing=None, window: int = 1_000_000,
                 max_ranges: int = 10_000):
        self.source_id, self.owner, self.spacecraft = source_id, owner, spacecraft
        self.replay, self.token = replay, token
        self.window, self.max_ranges = int(window), int(max_ranges)
        self.highest = int(highest)
        self.missing: list[list[int]] = [list(r) for r in (missing or [])]
        self.committed = self.watermark()
        self.last_seen = time.monotonic()
        self.waiting_since: float | None = None   # first replay request not answered yet
        self.requested: dict[int, tuple[int, float, int]] = {}   # first -> (last, time sent, tries)
        self.held: dict[int, tuple] = {}       # seq -> (item, bytes)
        self.held_order: list[int] = []        # heap of held sequences
        self.held_bytes = 0
        self.sent_packets = 0

    # -- sequence state ---------------------------------------------------------------------------
    def watermark(self) -> int:
        """Every sequence <= this is received (held or not) or declared lost."""
        return self.missing[0][0] - 1 if self.missing else self.highest

    def n_missing(self) -> int:
        return sum(b - a + 1 for a, b in self.missing)

    def _extend(self, last: int) -> tuple[int, int]:
        """Raise ``highest`` to ``last``: (new gaps, messages declared lost at once)."""
        lost = 0
        first = self.highest + 1
        if last - first + 1 > self.window:
            lost = last - self.window - first + 1
            first = last - self.window + 1
        self.highest = last
        if first > last:
            return 0, lost
        self.missing.append([first, last])
        while len(self.missing) > self.max_ranges:
            a, b = self.missing.pop(0)
            lost += b - a + 1
        return 1, lost

    def on_data(self, seq: int) -> tuple[bool, int, int]:
        """A live message: (new, new gaps, messages declared lost by a jump)."""
        self.last_seen = time.monotonic()
        if seq > self.highest:
            gaps, lost = self._extend(seq - 1)
            self.highest = seq
            return True, gaps, lost
        return self._fill(seq), 0, 0

    def on_heartbeat(self, last_seq: int) -> tuple[int, int]:
        """A heartbeat announcing ``last_seq``: (new tail gaps, messages declared lost by a jump)."""
        self.last_seen = time.monotonic()
        if last_seq > self.highest:
            return self._extend(last_seq)
        return 0, 0

    def on_recovered(self, seq: int) -> bool:
        return self._fill(seq)

    def _find(self, seq: int) -> int:
        """Index of the range holding ``seq``, or -1."""
        i = bisect.bisect_right(self.missing, [seq, MAX_SEQ + 1]) - 1
        return i if i >= 0 and self.missing[i][0] <= seq <= self.missing[i][1] else -1

    def is_missing(self, seq: int) -> bool:
        return self._find(seq) >= 0

    def overlaps(self, first: int, last: int) -> bool:
        """Whether [first, last] meets a missing range."""
        i = bisect.bisect_right(self.missing, [last, MAX_SEQ + 1]) - 1
        return i >= 0 and self.missing[i][1] >= first

    def _fill(self, seq: int) -> bool:
        i = self._find(seq)
        if i < 0:
            return False
        a, b = self.missing[i]
        if a == b:
            del self.missing[i]
        elif seq == a:
            self.missing[i][0] = a + 1
        elif seq == b:
            self.missing[i][1] = b - 1
        else:
            self.missing[i:i + 1] = [[a, seq - 1], [seq + 1, b]]
        return True

    def lose(self, first: int, last: int) -> int:
        """Declare [first, last] unrecoverable; returns how many were still missing."""
        lost = 0
        out = []
        for a, b in self.missing:
            lo, hi = max(a, first), min(b, last)
            if lo > hi:
                out.append([a, b])
                continue
            lost += hi - lo + 1
            if a < lo:
                out.append([a, lo - 1])
            if hi < b:
                out.append([hi + 1, b])
        self.missing = out
        return lost

    def never_sent(self, last_sent: int) -> bool:
        """The source says its last message is ``last_sent``: if nothing above it was received (the
        top range reaches ``highest``), take back the claim of a heartbeat beyond it."""
        if last_sent >= self.highest or not self.missing or self.missing[-1][1] != self.highest \
                or self.missing[-1][0] > last_sent + 1:
            return False
        if self.missing[-1][0] == last_sent + 1:
            self.missing.pop()
        else:
            self.missing[-1][1] = last_sent
        self.highest = last_sent
        return True

    # -- held messages ----------------------------------------------------------------------------
    def hold(self, seq: int, item: tuple, size: int) -> None:
        self.held[seq] = (item, size)
        heapq.heappush(self.held_order, seq)
        self.held_bytes += size

    def pop_held(self, up_to: int | None = None):
        """The lowest held (seq, item, bytes) if <= ``up_to`` (any with None), else None."""
        if not self.held_order or (up_to is not None and self.held_order[0] > up_to):
            return None
        seq = heapq.heappop(self.held_order)
        item, size = self.held.pop(seq)
        self.held_bytes -= size
        return seq, item, size

    # -- committed view -------------------------------------------------------------------------
    def _committed_missing(self) -> list[list[int]]:
        """``missing`` plus the held sequences (not committed), merged."""
        if not self.held:
            return self.missing
        extra = sorted(self.held)
        ranges = [[s, s] for s in extra] + [list(r) for r in self.missing]
        ranges.sort()
        out: list[list[int]] = []
        for a, b in ranges:
            if out and a <= out[-1][1] + 1:
                out[-1][1] = max(out[-1][1], b)
            else:
                out.append([a, b])
        return out

    def committed_view(self) -> tuple[str, int]:
        """(JSON of the state to commit, the watermark it allows to acknowledge once committed)."""
        missing = self._committed_missing()
        committed = missing[0][0] - 1 if missing else self.highest
        return json.dumps({"highest": self.highest, "missing": missing, "replay": self.replay, "owner": self.owner,
                           "spacecraft": self.spacecraft, "token": self.token, "sent_packets": self.sent_packets,
                           "last_seen_s": time.time() - (time.monotonic() - self.last_seen)}), committed

    @classmethod
    def from_json(cls, source_id: str, text: str, *, window: int = 1_000_000,
                  max_ranges: int = 10_000) -> "SourceTracker":
        """A tracker from saved state; ValueError if the state is not well formed."""
        d = json.loads(text)
        if not isinstance(d, dict):
            raise ValueError("state: not a JSON object")
        highest = d.get("highest")
        if type(highest) is not int or not 0 <= highest <= MAX_SEQ:
            raise ValueError(f"highest: {highest!r}")
        fields = {k: d.get(k) for k in ("replay", "owner", "token")}
        if not all(v is None or (isinstance(v, str) and len(v) <= 256) for v in fields.values()):
            raise ValueError("replay / owner / token: strings")
        sc = d.get("spacecraft", "")
        if not isinstance(sc, str) or len(sc) > 64:
            raise ValueError("spacecraft: a string")
        t = cls(source_id, spacecraft=sc, highest=highest, missing=_ranges(d.get("missing", []), highest, max_ranges),
                window=window, max_ranges=max_ranges, **fields)
        sent = d.get("sent_packets", 0)
        t.sent_packets = sent if type(sent) is int and 0 <= sent <= MAX_SEQ else 0
        return t
