"""OMM (CCSDS Orbit Mean-Elements Message) reading and writing for `groundseg.catalog`.

Three encodings of the same 17 CelesTrak GP fields, in this order::

    OBJECT_NAME, OBJECT_ID, EPOCH, MEAN_MOTION, ECCENTRICITY, INCLINATION,
    RA_OF_ASC_NODE, ARG_OF_PERICENTER, MEAN_ANOMALY, EPHEMERIS_TYPE,
    CLASSIFICATION_TYPE, NORAD_CAT_ID, ELEMENT_SET_NO, REV_AT_EPOCH, BSTAR,
    MEAN_MOTION_DOT, MEAN_MOTION_DDOT

Units are the TLE's: EPOCH ISO 8601 UTC (``2024-01-02T03:04:05.678912``), MEAN_MOTION rev/day,
angles deg, BSTAR 1/earth radii, MEAN_MOTION_DOT rev/day**2 and MEAN_MOTION_DDOT rev/day**3
(the TLE column values, i.e. half and a sixth of the derivatives).

- JSON: a list of objects (CelesTrak ``FORMAT=JSON``); one object alone is accepted too.
- CSV: a header line naming the fields, then one record per line (``FORMAT=CSV``).
  Quoted fields may not span lines, so one stray quote cannot swallow the rest of the file.
- XML: CCSDS NDM/OMM, ``<ndm><omm><body><segment><metadata>...<data><meanElements>...
  <tleParameters>...`` (``FORMAT=XML``); CENTER_NAME, REF_FRAME, TIME_SYSTEM and
  MEAN_ELEMENT_THEORY must be EARTH, TEME, UTC and SGP4 when given.

Readers yield ``(line, label, fields, problem)``: ``fields`` maps field name to the text found in
the file (JSON numbers keep their text), ``problem`` is None or what is wrong with the record.
A problem with the whole file raises `OmmFileError`. `satrec_from_fields` validates a record's
fields and builds its Satrec with ``sgp4.omm.initialize``.
"""
from __future__ import annotations

import csv
import json
import math
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from xml.sax.saxutils import escape as _xml_escape

from sgp4 import omm as _sgp4_omm
from sgp4.api import WGS72, Satrec

FIELDS = (
    'OBJECT_NAME', 'OBJECT_ID', 'EPOCH', 'MEAN_MOTION', 'ECCENTRICITY', 'INCLINATION',
    'RA_OF_ASC_NODE', 'ARG_OF_PERICENTER', 'MEAN_ANOMALY', 'EPHEMERIS_TYPE',
    'CLASSIFICATION_TYPE', 'NORAD_CAT_ID', 'ELEMENT_SET_NO', 'REV_AT_EPOCH', 'BSTAR',
    'MEAN_MOTION_DOT', 'MEAN_MOTION_DDOT',
)
REQUIRED = FIELDS[1:]
_TEXT_FIELDS = frozenset(('OBJECT_NAME', 'OBJECT_ID', 'EPOCH', 'CLASSIFICATION_TYPE'))
_INT_FIELDS = {  # name: (lowest, highest)
    'EPHEMERIS_TYPE': (0, 9), 'NORAD_CAT_ID': (0, 339999),
    'ELEMENT_SET_NO': (0, 9999), 'REV_AT_EPOCH': (0, 999999999),
}
_FLOAT_FIELDS = {  # name: (lowest, highest, highest included): what a TLE can hold
    'MEAN_MOTION': (0.0, 100.0, False), 'ECCENTRICITY': (0.0, 1.0, False),
    'INCLINATION': (0.0, 180.0, True), 'RA_OF_ASC_NODE': (0.0, 360.0, True),
    'ARG_OF_PERICENTER': (0.0, 360.0, True), 'MEAN_ANOMALY': (0.0, 360.0, True),
    'BSTAR': (-1e9, 1e9, False), 'MEAN_MOTION_DOT': (-1.0, 1.0, False),
    'MEAN_MOTION_DDOT': (-1e9, 1e9, False),
}
_FIXED = {'CENTER_NAME': 'EARTH', 'REF_FRAME': 'TEME', 'TIME_SYSTEM': 'UTC',
          'MEAN_ELEMENT_THEORY': 'SGP4'}
_XML_METADATA = ('OBJECT_NAME', 'OBJECT_ID')
_XML_MEAN = ('EPOCH', 'MEAN_MOTION', 'ECCENTRICITY', 'INCLINATION', 'RA_OF_ASC_NODE',
             'ARG_OF_PERICENTER', 'MEAN_ANOMALY')
_XML_TLE = ('EPHEMERIS_TYPE', 'CLASSIFICATION_TYPE', 'NORAD_CAT_ID', 'ELEMENT_SET_NO',
            'REV_AT_EPOCH', 'BSTAR', 'MEAN_MOTION_DOT', 'MEAN_MOTION_DDOT')

_FLOAT_RE = re.compile(r'[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?')
_INT_RE = re.compile(r'[+-]?[0-9]+')
_JSON_NUMBER_RE = re.compile(r'-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?')
_EPOCH_RE = re.compile(
    r'([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?Z?')
_OBJECT_ID_RE = re.compile(r'([0-9]{4})-([0-9]{3}[A-Z]{0,3})')
_XDOTP = 1440.0 / (2.0 * math.pi)  # rev/day per rad/min
_DEG = 180.0 / math.pi


class OmmFileError(Exception):
    """The whole file is unreadable as OMM: ``args == (line, message)``."""


# ---------------------------------------------------------------- readers

def iter_json(text: str):
    """Yield ``(line, 'record N', fields | None, problem | None)`` for a JSON OMM list.

    Objects are decoded one at a time so a syntax error loses only the object it is in: the
    reader reports it and resumes at the next ``{`` (also after a stray ``]`` or a lost ``[``).
    """
    decoder = json.JSONDecoder(parse_float=str, parse_int=str, parse_constant=str)
    n = len(text)
    pos = _skip_ws(text, 0)
    lines = _LineCounter(text)
    index, state = 0, 'element'  # element -> separator -> element ... -> end
    is_list = pos < n and text[pos] == '['
    if is_list:
        pos += 1
    elif pos >= n or text[pos] != '{':
        first = text.find('{', pos)
        if first < 0:
            raise OmmFileError(_line_of(text, pos), 'JSON OMM must be a list of objects')
        yield lines.at(pos), 'before record 1', None, 'JSON OMM must start with [ or {'
        pos = first
    while True:
        pos = _skip_ws(text, pos)
        if pos >= n:
            if is_list and state != 'end':
                yield lines.at(pos), f'after record {index}', None, 'JSON list not closed with ]'
            return
        char = text[pos]
        if state != 'element':
            if state == 'separator' and char in ',]':
                state, pos = ('element' if char == ',' else 'end'), pos + 1
                continue
            where = 'after the list' if state == 'end' else f'after record {index}'
            yield lines.at(pos), where, None, f'unexpected {char!r}'
            pos, state = _resync(text, pos), 'element'
            if pos < 0:
                return
            continue
        if char == ']':  # empty list or trailing comma
            state, pos = 'end', pos + 1
            continue
        index += 1
        label = f'record {index}'
        try:
            obj, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            # OMM objects are flat, so the next record starts at the next '{' after this one's
            yield lines.at(min(exc.pos, n)), label, None, f'invalid JSON: {exc.msg}'
            pos = _resync(text, pos + 1)
            if pos < 0:
                return
            continue
        except (ValueError, RecursionError):
            yield lines.at(pos), label, None, 'invalid JSON (nested too deeply)'
            pos = _resync(text, pos + 1)
            if pos < 0:
                return
            continue
        line = lines.at(pos)
        if not isinstance(obj, dict) or any(isinstance(v, (dict, list)) for v in obj.values()):
            # OMM objects are flat: whatever this swallowed may hold the next records
            yield line, label, None, 'is not a flat JSON object'
            pos = _resync(text, pos + 1)
            if pos < 0:
                return
            continue
        pos, state = end, 'separator'
        bad = [key for key in REQUIRED + ('OBJECT_NAME',)
               if key in obj and not isinstance(obj[key], str)]
        if bad:
            yield line, label, None, f'{bad[0]} is not a string or number'
            continue
        yield line, label, obj, None


def iter_csv(text: str):
    """Yield ``(line, '', fields | None, problem | None)`` for CSV OMM, one record per line."""
    lines = text.split('\n')
    head = next((i for i, s in enumerate(lines) if s.strip()), None)
    if head is None:
        raise OmmFileError(1, 'CSV OMM has no header line')
    try:
        names = [name.strip() for name in next(csv.reader([lines[head].rstrip('\r')]))]
    except csv.Error as exc:
        raise OmmFileError(head + 1, f'unreadable CSV header: {exc}') from None
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise OmmFileError(head + 1, 'CSV header lacks ' + ', '.join(missing))
    for i in range(head + 1, len(lines)):
        row_text = lines[i].rstrip('\r')
        if not row_text.strip():
            continue
        try:
            row = next(csv.reader([row_text]))
        except csv.Error as exc:
            yield i + 1, '', None, f'unreadable CSV row: {exc}'
            continue
        if len(row) != len(names):
            yield i + 1, '', None, f'row has {len(row)} fields, the header has {len(names)}'
            continue
        yield i + 1, '', dict(zip(names, row)), None


def iter_xml(text: str):
    """Yield ``(line, 'segment N', fields | None, problem | None)`` for a CCSDS OMM XML text.

    A well-formed document is parsed whole. A malformed one is cut at each ``<segment`` and
    every piece parsed on its own, so the error loses only the segment it is in.
    """
    lines = _LineCounter(text)
    starts = [(m.start(), lines.at(m.start())) for m in re.finditer(r'<segment[\s>/]', text)]
    try:
        root = ET.fromstring(text)
    except (ET.ParseError, ValueError) as exc:
        yield from _iter_xml_pieces(text, starts, exc)
        return
    if not isinstance(root.tag, str) or _local(root.tag) not in ('ndm', 'omm'):
        raise OmmFileError(1, f'XML root <{_local(str(root.tag))}> is not an OMM (<ndm> or <omm>)')
    segments = [el for el in root.iter() if isinstance(el.tag, str) and _local(el.tag) == 'segment']
    for index, segment in enumerate(segments, 1):
        line = starts[index - 1][1] if index <= len(starts) else 1
        yield (line, f'segment {index}', *_segment_fields(segment))


def _iter_xml_pieces(text, starts, exc):
    where = getattr(exc, 'position', (1, 0))[0]
    if not starts:
        raise OmmFileError(where, f'malformed XML: {_xml_reason(exc)}')
    failed_spans = []
    lines = _LineCounter(text)
    for index, (start, line) in enumerate(starts, 1):
        stop = starts[index][0] if index < len(starts) else len(text)
        close = text.find('</segment>', start, stop)
        label = f'segment {index}'
        end_line = lines.at(stop)
        if close < 0:
            failed_spans.append((line, end_line))
            yield line, label, None, 'no </segment> closes it'
            continue
        try:
            segment = ET.fromstring(text[start:close + len('</segment>')])
        except (ET.ParseError, ValueError) as piece_exc:
            failed_spans.append((line, end_line))
            at = line + getattr(piece_exc, 'position', (1, 0))[0] - 1
            yield line, label, None, f'malformed XML at line {at}: {_xml_reason(piece_exc)}'
            continue
        yield (line, label, *_segment_fields(segment))
    if not any(lo <= where <= hi for lo, hi in failed_spans):
        yield where, 'document', None, f'malformed XML: {_xml_reason(exc)}'


def _xml_reason(exc) -> str:
    """expat's message without its own 'line L, column C' (ours counts from the file start)."""
    return str(exc).rsplit(': line ', 1)[0]


def _segment_fields(segment):
    parts = _children(segment)
    metadata, data = parts.get('metadata'), parts.get('data')
    if metadata is None or data is None:
        return None, 'no <metadata> and <data> in the segment'
    data_parts = _children(data)
    mean, tle_parameters = data_parts.get('meanElements'), data_parts.get('tleParameters')
    if mean is None or tle_parameters is None:
        return None, 'no <meanElements> and <tleParameters> in <data>'
    fields = {}
    for element in (metadata, mean, tle_parameters):
        for child in element:
            if isinstance(child.tag, str):
                fields[_local(child.tag)] = child.text or ''
    return fields, None


def _children(element):
    return {_local(c.tag): c for c in element if isinstance(c.tag, str)}


def _local(tag: str) -> str:
    return tag.rsplit('}', 1)[-1]


# ---------------------------------------------------------------- validation

def satrec_from_fields(fields: dict) -> Satrec:
    """Validate OMM ``fields`` (text values) and return the Satrec (WGS72, 'i' mode).

    Raises ValueError with what is wrong (first problem found).
    """
    missing = [name for name in REQUIRED if name not in fields]
    if missing:
        more = f' and {len(missing) - 3} more' if len(missing) > 3 else ''
        raise ValueError('missing ' + ', '.join(missing[:3]) + more)
    clean = {}
    for name, expected in _FIXED.items():
        value = fields.get(name)
        if value is not None and str(value).strip().upper() != expected:
            raise ValueError(f'{name} {value!r} is not supported (only {expected})')
    for name, (low, high) in _INT_FIELDS.items():
        text = fields[name].strip()
        if not _INT_RE.fullmatch(text):
            raise ValueError(f'{name} {fields[name]!r} is not an integer')
        value = int(text)
        if not low <= value <= high:
            raise ValueError(f'{name} {value} outside {low}..{high}')
        clean[name] = str(value)
    for name, (low, high, closed) in _FLOAT_FIELDS.items():
        text = fields[name].strip()
        if not _FLOAT_RE.fullmatch(text):
            raise ValueError(f'{name} {fields[name]!r} is not a number')
        value = float(text)
        out_of_range = value < low or value > high or (value == high and not closed)
        if not math.isfinite(value) or out_of_range:
            raise ValueError(f'{name} {text} outside {_interval(low, high, closed)}')
        clean[name] = text
    if float(clean['MEAN_MOTION']) == 0.0:
        raise ValueError(f'MEAN_MOTION {clean["MEAN_MOTION"]} must be positive')
    classification = fields['CLASSIFICATION_TYPE'].strip()
    if classification not in ('U', 'C', 'S'):
        raise ValueError(f'CLASSIFICATION_TYPE {fields["CLASSIFICATION_TYPE"]!r} is not U, C or S')
    clean['CLASSIFICATION_TYPE'] = classification
    clean['EPOCH'] = parse_epoch(fields['EPOCH']).strftime('%Y-%m-%dT%H:%M:%S.%f')
    object_id = fields['OBJECT_ID'].strip()
    if object_id in ('', 'UNKNOWN'):
        clean['OBJECT_ID'] = ''
    elif _OBJECT_ID_RE.fullmatch(object_id):
        clean['OBJECT_ID'] = object_id
    else:
        raise ValueError(f'OBJECT_ID {fields["OBJECT_ID"]!r} is not like 1998-067A')
    satrec = Satrec()
    _sgp4_omm.initialize(satrec, clean, WGS72)
    return satrec


def parse_epoch(text: str) -> datetime:
    """``YYYY-MM-DDTHH:MM:SS[.fff...][Z]`` UTC -> naive datetime (rounded half up to 1 us)."""
    match = _EPOCH_RE.fullmatch(text.strip())
    if not match:
        raise ValueError(f'EPOCH {text!r} is not YYYY-MM-DDTHH:MM:SS.ffffff')
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    digits = match.group(7) or ''
    try:
        moment = datetime(year, month, day, hour, minute, second)
    except ValueError as exc:
        raise ValueError(f'EPOCH {text!r}: {exc}') from None
    micro = int(digits[:6].ljust(6, '0')) + (digits[6:7] >= '5')  # half up
    moment += timedelta(microseconds=micro)
    if not 1957 <= moment.year <= 2056:
        raise ValueError(f'EPOCH {text!r} outside 1957..2056 (the TLE two-digit year window)')
    return moment


def _interval(low, high, closed):
    return f'{low:g}..{high:g}' + ('' if closed else f' (excluding {high:g})')


# ---------------------------------------------------------------- writers

def fields_from_satrec(satrec: Satrec, name: str, *, tle_precision: bool) -> dict:
    """The 17 CelesTrak fields (text) of ``satrec``.

    ``tle_precision`` rounds to the digits a TLE carries (4 decimals for angles, 7 for
    eccentricity, 8 for mean motion and its derivative, 5 significant for BSTAR and the second
    derivative), which recovers the TLE's decimal values exactly from a Satrec read from a TLE.
    """
    def fixed(value, digits):
        return repr(round(value, digits) + 0.0) if tle_precision else repr(value)

    def significant(value):
        return repr(float(f'{value:.4e}') + 0.0) if tle_precision else repr(value)

    designator = satrec.intldesg.strip()
    object_id = ''
    if len(designator) >= 5 and designator[:5].isdigit():
        year = int(designator[:2])
        object_id = f'{year + (1900 if year >= 57 else 2000)}-{designator[2:]}'
    return {
        'OBJECT_NAME': name,
        'OBJECT_ID': object_id,
        'EPOCH': epoch_datetime(satrec).strftime('%Y-%m-%dT%H:%M:%S.%f'),
        'MEAN_MOTION': fixed(satrec.no_kozai * _XDOTP, 8),
        'ECCENTRICITY': fixed(satrec.ecco, 7),
        'INCLINATION': fixed(satrec.inclo * _DEG, 4),
        'RA_OF_ASC_NODE': fixed(satrec.nodeo * _DEG, 4),
        'ARG_OF_PERICENTER': fixed(satrec.argpo * _DEG, 4),
        'MEAN_ANOMALY': fixed(satrec.mo * _DEG, 4),
        'EPHEMERIS_TYPE': str(satrec.ephtype),
        'CLASSIFICATION_TYPE': satrec.classification.strip() or 'U',
        'NORAD_CAT_ID': str(satrec.satnum),
        'ELEMENT_SET_NO': str(satrec.elnum),
        'REV_AT_EPOCH': str(satrec.revnum),
        'BSTAR': significant(satrec.bstar),
        'MEAN_MOTION_DOT': fixed(satrec.ndot * _XDOTP * 1440.0, 8),
        'MEAN_MOTION_DDOT': significant(satrec.nddot * _XDOTP * 1440.0 * 1440.0),
    }


def epoch_datetime(satrec: Satrec) -> datetime:
    """Satrec epoch as a naive UTC datetime, rounded to 1 microsecond."""
    days = satrec.jdsatepoch - 2440587.5  # since 1970-01-01T00:00
    whole = math.floor(days)
    micro = round((days - whole) * 86400e6) + round(satrec.jdsatepochF * 86400e6)
    return datetime(1970, 1, 1) + timedelta(days=whole, microseconds=micro)


def dumps(records: list[dict], fmt: str) -> str:
    """Serialise field dicts (text values) as OMM ``fmt`` ('json', 'csv' or 'xml')."""
    if fmt == 'json':
        return '[' + ',\n'.join(_json_object(r) for r in records) + ']\n'
    if fmt == 'csv':
        rows = [','.join(FIELDS)]
        for record in records:
            rows.append(','.join(_csv_cell(record.get(name, '')) for name in FIELDS))
        return '\n'.join(rows) + '\n'
    if fmt == 'xml':
        parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<ndm>\n']
        for r in records:
            parts.append(
                '<omm id="CCSDS_OMM_VERS" version="2.0">\n'
                '<header><CREATION_DATE/><ORIGINATOR/></header>\n<body><segment>\n<metadata>'
                + _xml_items(r, _XML_METADATA[:1]) + _xml_items(r, _XML_METADATA[1:])
                + '<CENTER_NAME>EARTH</CENTER_NAME><REF_FRAME>TEME</REF_FRAME>'
                  '<TIME_SYSTEM>UTC</TIME_SYSTEM><MEAN_ELEMENT_THEORY>SGP4</MEAN_ELEMENT_THEORY>'
                  '</metadata>\n<data><meanElements>' + _xml_items(r, _XML_MEAN)
                + '</meanElements>\n<tleParameters>' + _xml_items(r, _XML_TLE)
                + '</tleParameters></data>\n</segment></body>\n</omm>\n')
        parts.append('</ndm>\n')
        return ''.join(parts)
    raise ValueError(f"OMM format {fmt!r} is not 'json', 'csv' or 'xml'")


def _json_object(record: dict) -> str:
    items = []
    for name in FIELDS:
        value = record.get(name, '')
        if name in _TEXT_FIELDS:
            text = json.dumps(value, ensure_ascii=False)
        elif name in _INT_FIELDS:
            text = str(int(value.strip()))
        else:
            text = value.strip()
            if not _JSON_NUMBER_RE.fullmatch(text):
                text = repr(float(text))
        items.append(f'"{name}":{text}')
    return '{' + ','.join(items) + '}'


def _csv_cell(value: str) -> str:
    if any(c in value for c in ',"\n\r') or value != value.strip():
        return '"' + value.replace('"', '""') + '"'
    return value


def _xml_items(record: dict, names) -> str:
    return ''.join(f'<{n}>{_xml_escape(record.get(n, ""))}</{n}>' for n in names)


# ---------------------------------------------------------------- small helpers

class _LineCounter:
    """Line number of increasing text offsets in amortised O(1)."""

    def __init__(self, text):
        self.text, self.pos, self.line = text, 0, 1

    def at(self, pos):
        if pos < self.pos:
            return _line_of(self.text, pos)
        self.line += self.text.count('\n', self.pos, pos)
        self.pos = pos
        return self.line


def _line_of(text: str, pos: int) -> int:
    return text.count('\n', 0, pos) + 1


def _skip_ws(text: str, pos: int) -> int:
    n = len(text)
    while pos < n and text[pos] in ' \t\r\n':
        pos += 1
    return pos


def _resync(text: str, pos: int) -> int:
    """Offset of the next ``{`` at or after ``pos`` (-1 when none)."""
    return text.find('{', pos)
