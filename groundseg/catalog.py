"""Satellite catalogs: read, validate and write TLE and OMM; build records from mean elements.

Formats, detected from content by `parse_catalog` / `load_catalog` (a TLE line pair anywhere,
else OMM JSON keys, XML tags or a CSV header, else the first character):

- ``'tle'``: two-line element sets, optionally preceded by a name line (3-line / 3LE; a
  Space-Track ``0 `` prefix on the name is dropped). Blank lines and lines starting with ``#``
  are skipped. Text after column 69 is ignored (sgp4's ``SGP4-VER.TLE`` keeps test columns
  there). A name may not start with ``1 `` or ``2 ``: such a line is read as a TLE line.
- ``'omm-json'``, ``'omm-csv'``, ``'omm-xml'``: CelesTrak GP data (see `groundseg._omm`).

TLE columns (1-based, inclusive; ``_`` is a required blank)::

    line 1: 1 | 2 _ | 3-7 catalog number (5 digits, leading blanks allowed, or Alpha-5:
            A0000 = 100000 .. Z9999 = 339999, no I or O) | 8 classification U/C/S |
            9 _ | 10-17 international designator YYNNNPPP or blank | 18 _ |
            19-20 epoch year (57-99 -> 19xx, 00-56 -> 20xx) | 21-32 epoch day DDD.DDDDDDDD
            (1 <= day < 367) | 33 _ | 34-43 MEAN_MOTION_DOT rev/day**2 [ +-].NNNNNNNN | 44 _ |
            45-52 MEAN_MOTION_DDOT rev/day**3 [ +-]NNNNN[+-]N (assumed 0.NNNNN x 10**N) | 53 _ |
            54-61 BSTAR 1/earth radii, same layout | 62 _ | 63 ephemeris type digit or blank |
            64 _ | 65-68 element set number | 69 checksum
    line 2: 2 | 2 _ | 3-7 catalog number (= line 1) | 8 _ | 9-16 inclination deg NNN.NNNN (0-180)
            | 17 _ | 18-25 RAAN deg (0-360) | 26 _ | 27-33 eccentricity NNNNNNN (assumed 0.) |
            34 _ | 35-42 argument of perigee deg | 43 _ | 44-51 mean anomaly deg | 52 _ |
            53-63 mean motion rev/day NN.NNNNNNNN (> 0) | 64-68 revolution number | 69 checksum

Numbers are right-justified; blanks may only lead. Checksum: sum of the digits of columns 1-68,
each ``-`` counting 1, modulo 10.

Errors: every problem is a `CatalogError` whose message is ``FILE:LINE: what is wrong``
(``FILE:LINE: record N: ...`` for JSON, ``segment N`` for XML) and which carries ``.source`` and
``.line``. With ``strict=True`` the first problem raises. By default every good record loads and
each rejected record or stray line adds one entry to ``Catalog.errors``. Input that is not a
catalog at all -- empty, binary, or text with no TLE line or OMM structure -- raises
`CatalogError` in both modes, so a returned `Catalog` with no records means a catalog whose
records were all rejected (see ``errors``) or an empty OMM list.

Duplicated catalog numbers (``duplicates=``): ``'first'`` (default) keeps the first record and
reports each later one; ``'newest'`` keeps the newest epoch (first on ties) and reports the other;
``'all'`` keeps every record.
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sgp4.api import WGS72, Satrec
from sgp4.exporter import export_tle

from . import _omm
from .errors import CatalogError

__all__ = [
    'CatalogRecord', 'Catalog', 'load_catalog', 'parse_catalog', 'format_tle', 'format_omm',
    'write_catalog', 'record_from_elements', 'satrec_epoch_utc_iso',
]

FORMATS = ('tle', 'omm-json', 'omm-csv', 'omm-xml')


@dataclass(frozen=True, eq=False)
class CatalogRecord:
    """One element set: the sgp4 Satrec plus where it came from and its original text."""

    name: str
    norad_id: int
    satrec: Satrec
    source: str
    line: int
    tle: tuple[str, str] | None = None
    omm: dict | None = None


@dataclass
class Catalog:
    """Records read from one source, the problems found, and the format detected."""

    records: list[CatalogRecord]
    errors: list[CatalogError]
    format: str
    source: str = '<string>'

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self):
        return iter(self.records)

    def __getitem__(self, index):
        return self.records[index]


# ---------------------------------------------------------------- TLE columns

def _rjust(width: int) -> str:
    """Regex for a right-justified unsigned integer of ``width`` columns."""
    return '(?:' + '|'.join(f' {{{k}}}[0-9]{{{width - k}}}' if k else f'[0-9]{{{width}}}'
                            for k in range(width)) + ')'


_SATNUM = '(?:[A-HJ-NP-Z][0-9]{4}|' + _rjust(5) + ')'
_ANGLE = _rjust(3) + r'\.[0-9]{4}'
_EXP = '[ +-][0-9]{5}[+-][0-9]'
# (first column, last column, what, regex); what=None marks a required blank
_LINE1 = (
    (1, 1, 'line number', '1'), (2, 2, None, ' '), (3, 7, 'catalog number', _SATNUM),
    (8, 8, 'classification', '[UCS ]'), (9, 9, None, ' '),
    (10, 17, 'international designator', '(?:[0-9]{5}(?:[A-Z]{3}|[A-Z]{2} |[A-Z]  |   )| {8})'),
    (18, 18, None, ' '),
    (19, 20, 'epoch year', '[0-9]{2}'), (21, 32, 'epoch day', r'[0-9]{3}\.[0-9]{8}'),
    (33, 33, None, ' '), (34, 43, 'mean motion derivative', r'[ +-]\.[0-9]{8}'),
    (44, 44, None, ' '), (45, 52, 'mean motion second derivative', _EXP), (53, 53, None, ' '),
    (54, 61, 'BSTAR', _EXP), (62, 62, None, ' '), (63, 63, 'ephemeris type', '[0-9 ]'),
    (64, 64, None, ' '), (65, 68, 'element set number', _rjust(4)), (69, 69, 'checksum', '[0-9]'),
)
_LINE2 = (
    (1, 1, 'line number', '2'), (2, 2, None, ' '), (3, 7, 'catalog number', _SATNUM),
    (8, 8, None, ' '), (9, 16, 'inclination', _ANGLE), (17, 17, None, ' '),
    (18, 25, 'right ascension of the ascending node', _ANGLE), (26, 26, None, ' '),
    (27, 33, 'eccentricity', '[0-9]{7}'), (34, 34, None, ' '),
    (35, 42, 'argument of perigee', _ANGLE), (43, 43, None, ' '),
    (44, 51, 'mean anomaly', _ANGLE), (52, 52, None, ' '),
    (53, 63, 'mean motion', _rjust(2) + r'\.[0-9]{8}'),
    (64, 68, 'revolution number', _rjust(5)), (69, 69, 'checksum', '[0-9]'),
)
_LINE_RE = {n: re.compile(''.join(f[3] for f in spec[:-1]))
            for n, spec in ((1, _LINE1), (2, _LINE2))}
_LINE_SPEC = {1: _LINE1, 2: _LINE2}
_CHECKSUM_TABLE = bytes(
    (c - 48) if 48 <= c <= 57 else 1 if c == 45 else 0 for c in range(256))
_NON_TEXT_RE = re.compile('[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffd]')


class _Bad(Exception):
    """A rejected record: ``args == (line, message)``."""


def _checksum(line: str) -> int:
    return sum(line[:68].encode('ascii').translate(_CHECKSUM_TABLE)) % 10


def _decode_satnum(text: str) -> int:
    if text[0].isalpha():
        letter = ord(text[0]) - ord('A') + 10
        letter -= (text[0] > 'I') + (text[0] > 'O')
        return letter * 10000 + int(text[1:])
    return int(text)


def _check_line(number: int, text: str, line: int, verify_checksums: bool) -> None:
    """Raise `_Bad` naming the first column problem of TLE line ``number``."""
    where = f'line {number}'
    if not text.isascii():
        column = next(i for i, c in enumerate(text) if ord(c) > 127) + 1
        raise _Bad(line, f'{where} has a non-ASCII character at column {column}')
    if len(text) < 69 and (verify_checksums or len(text) < 68):
        raise _Bad(line, f'{where} is {len(text)} columns long, expected 69 (truncated?)')
    if not _LINE_RE[number].fullmatch(text, 0, 68):
        for first, last, what, pattern in _LINE_SPEC[number][:-1]:
            found = text[first - 1:last]
            if re.fullmatch(pattern, found):
                continue
            if what is None:
                raise _Bad(line, f'{where} column {first} should be blank, found {found!r}')
            raise _Bad(line, f'{where} columns {first}-{last} ({what}) {found!r} is not valid')
    if verify_checksums:
        if not text[68].isdigit():
            raise _Bad(line, f'{where} column 69 (checksum) {text[68]!r} is not a digit')
        computed = _checksum(text)
        if int(text[68]) != computed:
            raise _Bad(line, f'{where} checksum {text[68]} expected {computed}')


def _tle_record(name, text1, text2, first, line1, line2, source, verify_checksums):
    """Validate one TLE and return its `CatalogRecord` (raises `_Bad`)."""
    _check_line(1, text1, line1, verify_checksums)
    _check_line(2, text2, line2, verify_checksums)
    text1, text2 = text1[:69], text2[:69]
    norad1, norad2 = _decode_satnum(text1[2:7].lstrip()), _decode_satnum(text2[2:7].lstrip())
    if norad1 != norad2:
        raise _Bad(line2, f'line 2 catalog number {norad2} does not match line 1 ({norad1})')
    day = float(text1[20:32])
    if not 1.0 <= day < 367.0:
        raise _Bad(line1, f'line 1 epoch day {text1[20:32]} outside 1..366.99999999')
    for start, stop, what, top in ((8, 16, 'inclination', 180.0),
                                   (17, 25, 'right ascension of the ascending node', 360.0),
                                   (34, 42, 'argument of perigee', 360.0),
                                   (43, 51, 'mean anomaly', 360.0)):
        if float(text2[start:stop]) > top:
            raise _Bad(line2, f'line 2 {what} {text2[start:stop].strip()} exceeds {top:g} deg')
    if float(text2[52:63]) <= 0.0:
        raise _Bad(line2, f'line 2 mean motion {text2[52:63].strip()} must be positive')
    try:
        satrec = Satrec.twoline2rv(text1, text2, WGS72)
    except (ValueError, RuntimeError) as exc:  # validated above, so not expected
        raise _Bad(line1, f'sgp4 cannot read the element set: {exc}') from None
    return CatalogRecord(name, norad1, satrec, source, first, (text1, text2), None)


def _read_tle(text, collect, verify_checksums):
    items = []
    for number, raw in enumerate(text.split('\n'), 1):
        stripped = raw.rstrip()
        if stripped and stripped[0] != '#':
            items.append((number, stripped))
    if not any(_kind(s) for _, s in items):
        return False
    i, n = 0, len(items)
    while i < n:
        number, content = items[i]
        kind = _kind(content)
        if kind == 2:
            collect.error(number, 'TLE line 2 without a line 1 before it')
            i += 1
            continue
        name, first = '', number
        if kind == 0:
            if i + 1 >= n or _kind(items[i + 1][1]) != 1:
                shown = content if len(content) <= 40 else content[:37] + '...'
                collect.error(number, f'unexpected text {shown!r} (not a name before a TLE line 1)')
                i += 1
                continue
            name = content[2:] if content[:2] == '0 ' else '' if content == '0' else content
            if not name.isprintable():
                collect.error(number, 'name line has control characters; '
                                      'record loaded without a name')
                name = ''
            i += 1
            number, content = items[i]
        if i + 1 >= n or _kind(items[i + 1][1]) != 2:
            collect.error(number, 'TLE line 1 is not followed by a line 2')
            i += 1
            continue
        try:
            record = _tle_record(name, content, items[i + 1][1], first, number,
                                 items[i + 1][0], collect.source, verify_checksums)
        except _Bad as bad:
            collect.error(*bad.args)
        else:
            collect.add(record)
        i += 2
    return True


def _kind(text: str) -> int:
    """1 or 2 for a TLE line 1 or 2 (by its first column), 0 for anything else."""
    head = text[:2]
    if head in ('1 ', '1'):
        return 1
    if head in ('2 ', '2'):
        return 2
    return 0


# ---------------------------------------------------------------- reading

class _Collector:
    """Gathers records and errors; applies strict mode and the duplicates policy."""

    def __init__(self, source, strict, duplicates):
        if duplicates not in ('first', 'newest', 'all'):
            raise CatalogError(f"duplicates={duplicates!r} is not 'first', 'newest' or 'all'")
        self.source, self.strict, self.duplicates = source, strict, duplicates
        self.records, self.errors, self.seen = [], [], {}

    def error(self, line, message):
        err = CatalogError(f'{self.source}:{line}: {message}')
        err.source, err.line = self.source, line
        if self.strict:
            raise err
        self.errors.append(err)

    def add(self, record, label=''):
        index = self.seen.get(record.norad_id)
        if index is None or self.duplicates == 'all':
            self.seen[record.norad_id] = len(self.records)
            self.records.append(record)
            return
        kept = self.records[index]
        if self.duplicates == 'newest' and _epoch_jd(record.satrec) > _epoch_jd(kept.satrec):
            self.records[index] = record
            self.error(kept.line, f'duplicate catalog number {record.norad_id}; kept the newer '
                                  f'epoch at line {record.line}, skipped this one')
        else:
            self.error(record.line, f'{label}duplicate catalog number {record.norad_id} '
                                    f'(first at line {kept.line}); record skipped')


def _epoch_jd(satrec) -> float:
    return satrec.jdsatepoch + satrec.jdsatepochF


_EVIDENCE = (  # (format, regex), tried in order over the whole text
    ('tle', re.compile(r'^1 [ 0-9A-Z]{5}[A-Z ] .{20,}\r?\n2 [ 0-9A-Z]{5} ', re.MULTILINE)),
    ('omm-json', re.compile(r'"(?:NORAD_CAT_ID|MEAN_MOTION|OBJECT_ID)"\s*:')),
    ('omm-xml', re.compile(r'<(?:[A-Za-z_][\w.-]*:)?(?:segment|meanElements|NORAD_CAT_ID)[\s>]')),
    ('omm-csv', re.compile(r'^(?=[^\n]*,)[^\n]*(?:NORAD_CAT_ID|MEAN_MOTION)', re.MULTILINE)),
)


def _detect(text: str) -> str:
    """The format of ``text``: the first kind of evidence found, else its first character."""
    for fmt, pattern in _EVIDENCE:
        if pattern.search(text):
            return fmt
    start = text.lstrip()[:1]
    return {'[': 'omm-json', '{': 'omm-json', '<': 'omm-xml'}.get(start, 'tle')


def _decode(data) -> str:
    if isinstance(data, str):
        return data.lstrip('\ufeff')
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise CatalogError(f'catalog text must be str or bytes, not {type(data).__name__}')
    data = bytes(data)
    if data[:2] in (b'\xff\xfe', b'\xfe\xff'):
        try:
            return data.decode('utf-16').lstrip('\ufeff')
        except UnicodeDecodeError:
            pass
    try:
        return data.decode('utf-8').lstrip('\ufeff')
    except UnicodeDecodeError:
        return data.decode('latin-1')


def parse_catalog(text: str | bytes, *, source: str = '<string>', strict: bool = False,
                  fmt: str | None = None, verify_checksums: bool = True,
                  duplicates: str = 'first') -> Catalog:
    """Read a TLE or OMM catalog from ``text``; the format is detected unless ``fmt`` is given.

    ``verify_checksums=False`` accepts TLE lines with a wrong or missing checksum column.
    See the module docstring for errors, strict mode and ``duplicates``.
    """
    text = _decode(text)
    if fmt is None:
        fmt = _detect(text)
    elif fmt not in FORMATS:
        raise CatalogError(f'fmt={fmt!r} is not one of {", ".join(FORMATS)}')
    if not text.strip():
        _not_a_catalog(source, None, 'empty file (no TLE or OMM records)')
    collect = _Collector(source, strict, duplicates)
    if fmt == 'tle':
        if not _read_tle(text, collect, verify_checksums):
            _refuse(source, text, 'no TLE or OMM records found')
    else:
        reader = {'omm-json': _omm.iter_json, 'omm-csv': _omm.iter_csv,
                  'omm-xml': _omm.iter_xml}[fmt]
        try:
            for line, label, fields, problem in reader(text):
                where = f'{label}: ' if label else ''
                if problem is None:
                    try:
                        satrec = _omm.satrec_from_fields(fields)
                    except ValueError as exc:
                        problem = str(exc)
                if problem is not None:
                    collect.error(line, where + problem)
                    continue
                record = CatalogRecord(str(fields.get('OBJECT_NAME') or ''), satrec.satnum,
                                       satrec, source, line, None, fields)
                collect.add(record, where)
        except _omm.OmmFileError as exc:
            line, message = exc.args
            if collect.records or collect.errors:
                collect.error(line, message)
            else:
                _refuse(source, text, message, line)
    if not collect.records and collect.errors and _looks_binary(text):
        _not_a_catalog(source, None, 'binary data, not a TLE or OMM text file')
    return Catalog(collect.records, collect.errors, fmt, source)


def _refuse(source, text, message, line=None):
    if _looks_binary(text):
        message, line = 'binary data, not a TLE or OMM text file', None
    _not_a_catalog(source, line, message)


def _not_a_catalog(source, line, message):
    err = CatalogError(f'{source}:{line}: {message}' if line else f'{source}: {message}')
    err.source, err.line = source, line
    raise err


def _looks_binary(text: str) -> bool:
    sample = text[:65536]
    return '\x00' in sample or len(_NON_TEXT_RE.findall(sample)) > 0.05 * len(sample)


def load_catalog(path, *, strict: bool = False, **options) -> Catalog:
    """Read a TLE / OMM file; ``options`` as for `parse_catalog` (source is the path)."""
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
    except OSError as exc:
        err = CatalogError(f'{os.fspath(path)}: cannot read: {exc.strerror or exc}')
        err.source, err.line = os.fspath(path), None
        raise err from None
    return parse_catalog(data, source=os.fspath(path), strict=strict, **options)


# ---------------------------------------------------------------- writing

def _record_tle(record: CatalogRecord) -> tuple[str, str]:
    if record.tle is not None:
        return record.tle
    where = f'{record.source}:{record.line}: catalog number {record.norad_id}'
    try:
        lines = export_tle(record.satrec)
        for number, text in enumerate(lines, 1):
            _check_line(number, text, record.line, True)
            if len(text) != 69:
                raise _Bad(record.line, f'line {number} is {len(text)} columns long')
    except (ValueError, _Bad) as exc:
        message = exc.args[1] if isinstance(exc, _Bad) else str(exc)
        raise CatalogError(f'{where} cannot be written as a TLE: {message}') from None
    return lines


def _check_name(record: CatalogRecord, what: str) -> str:
    if not record.name.isprintable():
        raise CatalogError(f'{record.source}:{record.line}: name {record.name!r} has control '
                           f'characters and cannot be written as {what}')
    return record.name


def format_tle(records, *, names: bool = True) -> str:
    """TLE text of ``records``: 3-line where a record has a name and ``names``, else 2-line.

    Records read from TLE are written as read (columns 1-69); others through
    ``sgp4.exporter.export_tle``. A name that would read back as a TLE line gets a ``0 `` prefix.
    """
    out = []
    for record in records:
        name = _check_name(record, 'a TLE name').rstrip() if names else ''
        if name:
            if name[:2] in ('0 ', '1 ', '2 ') or name in ('0', '1', '2') or name[0] == '#':
                name = '0 ' + name
            out.append(name)
        out.extend(_record_tle(record))
    return '\n'.join(out) + '\n' if out else ''


def _record_omm(record: CatalogRecord) -> dict:
    if record.omm is not None:
        fields = {name: str(record.omm.get(name) or '').strip() for name in _omm.FIELDS}
        fields['OBJECT_NAME'] = record.name
        return fields
    return _omm.fields_from_satrec(record.satrec, record.name, tle_precision=record.tle is not None)


def format_omm(records, *, fmt: str = 'json') -> str:
    """OMM text of ``records`` as CelesTrak writes it: ``fmt`` 'json', 'csv' or 'xml'.

    Records read from OMM keep their field text; others get fields derived from the Satrec
    (to the TLE's precision for records read from TLE). Extra OMM fields are not written.
    """
    if fmt not in ('json', 'csv', 'xml'):
        raise CatalogError(f"fmt={fmt!r} is not 'json', 'csv' or 'xml'")
    if fmt != 'json':
        for record in records:
            _check_name(record, f'OMM {fmt.upper()}')
    return _omm.dumps([_record_omm(r) for r in records], fmt)


def write_catalog(records, path, *, fmt: str = 'tle') -> None:
    """Write ``records`` to ``path`` as ``fmt`` ('tle', 'omm-json', 'omm-csv' or 'omm-xml')."""
    if fmt == 'tle':
        text = format_tle(records)
    elif fmt in FORMATS:
        text = format_omm(records, fmt=fmt[4:])
    else:
        raise CatalogError(f'fmt={fmt!r} is not one of {", ".join(FORMATS)}')
    with open(path, 'w', encoding='utf-8', newline='\n') as handle:
        handle.write(text)


# ---------------------------------------------------------------- elements -> record

_JD_1949_DEC_31 = 2433281.5  # sgp4init epochs count days from 1949-12-31T00:00 UTC


def record_from_elements(*, norad_id: int, name: str, epoch_jd: float, epoch_fr: float,
                         inclination_deg: float, raan_deg: float, eccentricity: float,
                         arg_perigee_deg: float, mean_anomaly_deg: float,
                         mean_motion_rev_day: float, bstar: float = 0.0, ndot: float = 0.0,
                         nddot: float = 0.0, classification: str = 'U',
                         intl_designator: str = '', element_set_no: int = 999,
                         rev_at_epoch: int = 0) -> CatalogRecord:
    """A TLE record for SGP4 mean elements (TEME, WGS72), exactly as a file reader returns it.

    ``epoch_jd + epoch_fr`` is the UTC Julian date; ``ndot`` / ``nddot`` are the TLE / OMM
    MEAN_MOTION_DOT (rev/day**2) and MEAN_MOTION_DDOT (rev/day**3) values; ``bstar`` in
    1/earth radii. Angles are wrapped to 0-360 deg. The values are rounded to what a TLE holds
    (epoch 1e-8 day, angles 1e-4 deg, eccentricity 1e-7, mean motion and ``ndot`` 1e-8, ``bstar``
    and ``nddot`` 5 significant digits, 0 below 1e-10); the Satrec
    is built with ``sgp4init``, exported with ``sgp4.exporter.export_tle`` and read back, so the
    record's Satrec comes from its TLE text. Raises CatalogError for values a TLE cannot hold.
    """
    def bad(message):
        return CatalogError(f'record_from_elements({name!r}, norad_id={norad_id}): {message}')

    values = [inclination_deg, raan_deg, eccentricity, arg_perigee_deg, mean_anomaly_deg,
              mean_motion_rev_day, bstar, ndot, nddot, epoch_jd, epoch_fr]
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
        raise bad('elements must be finite numbers')
    if not (isinstance(norad_id, int) and 0 <= norad_id <= 339999):
        raise bad('norad_id must be an integer 0..339999')
    if not 0.0 <= inclination_deg <= 180.0:
        raise bad(f'inclination_deg {inclination_deg} outside 0..180')
    ecc = round(eccentricity, 7)
    if not 0.0 <= ecc < 1.0:
        raise bad(f'eccentricity {eccentricity} outside 0..1 (excluding 1)')
    mean_motion = round(mean_motion_rev_day, 8)
    if not 0.0 < mean_motion < 100.0:
        raise bad(f'mean_motion_rev_day {mean_motion_rev_day} outside 0..100 (excluding both)')
    if abs(ndot) >= 1.0:
        raise bad(f'ndot {ndot} outside -1..1 (excluding both)')
    if classification not in ('U', 'C', 'S'):
        raise bad(f'classification {classification!r} is not U, C or S')
    if not (isinstance(element_set_no, int) and 0 <= element_set_no <= 9999):
        raise bad('element_set_no must be an integer 0..9999')
    if not (isinstance(rev_at_epoch, int) and 0 <= rev_at_epoch <= 99999):
        raise bad('rev_at_epoch must be an integer 0..99999')
    designator = _tle_designator(intl_designator)
    if designator is None:
        raise bad(f'intl_designator {intl_designator!r} is not like 1998-067A or 98067A')
    epoch = (epoch_jd - _JD_1949_DEC_31) + epoch_fr
    year = (datetime(1949, 12, 31) + timedelta(days=epoch)).year if -1e6 < epoch < 1e6 else 0
    if not 1957 <= year <= 2056:
        raise bad('epoch outside 1957..2056 (the TLE two-digit year window)')
    day_start = math.floor(epoch)
    epoch = day_start + round(epoch - day_start, 8)

    def angle(deg):
        return math.radians(round(deg % 360.0, 4) % 360.0)

    def significant(value):  # 5 significant digits; below the TLE's 1e-10 -> 0; no -0
        value = float(f'{value:.4e}')
        return 0.0 if abs(value) < 1e-10 else value

    bstar, ndot, nddot = significant(bstar), round(ndot, 8) + 0.0, significant(nddot)
    satrec = Satrec()
    satrec.sgp4init(WGS72, 'i', norad_id, epoch, bstar, ndot / (_omm._XDOTP * 1440.0),
                    nddot / (_omm._XDOTP * 1440.0 * 1440.0), ecc, angle(arg_perigee_deg),
                    math.radians(round(inclination_deg, 4)), angle(mean_anomaly_deg),
                    mean_motion / _omm._XDOTP, angle(raan_deg))
    satrec.classification = classification
    satrec.intldesg = designator
    satrec.ephtype = 0
    satrec.elnum = element_set_no
    satrec.revnum = rev_at_epoch
    interim = CatalogRecord(name, norad_id, satrec, '<elements>', 1)
    try:
        line1, line2 = _record_tle(interim)
        return _tle_record(name, line1, line2, 1, 1, 2, '<elements>', True)
    except (CatalogError, _Bad) as exc:
        raise bad(str(exc.args[-1])) from None


def _tle_designator(text: str) -> str | None:
    """'1998-067A' or '98067A' -> '98067A'; '' -> ''; None when neither."""
    text = text.strip()
    if not text:
        return ''
    match = re.fullmatch(r'(?:19|20)?([0-9]{2})-?([0-9]{3}[A-Z]{1,3})', text)
    return match.group(1) + match.group(2) if match else None


def satrec_epoch_utc_iso(satrec: Satrec) -> str:
    """Epoch of ``satrec`` as ISO 8601 UTC to the microsecond: ``2008-09-20T12:25:40.104192Z``."""
    return _omm.epoch_datetime(satrec).strftime('%Y-%m-%dT%H:%M:%S.%fZ')
