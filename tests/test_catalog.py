"""TLE reading, validation, writing and elements -> record (groundseg.catalog)."""
import math
import os

import pytest
import sgp4
from sgp4 import io as sgp4_io
from sgp4.api import WGS72, Satrec
from sgp4.earth_gravity import wgs72

from groundseg.catalog import (
    Catalog, CatalogRecord, format_omm, format_tle, load_catalog, parse_catalog,
    record_from_elements, satrec_epoch_utc_iso, write_catalog,
)
from groundseg.errors import CatalogError, GroundsegError

SGP4_VER = os.path.join(os.path.dirname(sgp4.__file__), 'SGP4-VER.TLE')

ELEMENT_ATTRS = ('satnum', 'epochyr', 'epochdays', 'jdsatepoch', 'jdsatepochF', 'ndot', 'nddot',
                 'bstar', 'inclo', 'nodeo', 'ecco', 'argpo', 'mo', 'no_kozai', 'revnum', 'elnum',
                 'classification', 'intldesg', 'ephtype')


def checksum(line):
    """Reference checksum written from the TLE definition, digit by digit."""
    total = 0
    for char in line[:68]:
        if char.isdigit():
            total += int(char)
        elif char == '-':
            total += 1
    return total % 10


def with_checksum(line):
    return line[:68] + str(checksum(line))


def tle(norad='25544', name=None, incl='51.6416', day='08264.51782528', line2_norad=None):
    """Lines of a well-known element set (ISS, 2008) with the given changes, checksums fixed."""
    l1 = with_checksum(f'1 {norad}U 98067A   {day} -.00002182  00000-0 -11606-4 0  292')
    l2 = with_checksum(f'2 {line2_norad or norad}  {incl:>7} 247.4627 0006703 130.5360 325.0288 15.72125391563537')
    return ([name] if name is not None else []) + [l1, l2]


def sgp4_ver_pairs():
    """(line number of line 1, line 1 cols 1-69, line 2 cols 1-69) of every record in SGP4-VER.TLE."""
    with open(SGP4_VER) as handle:
        lines = handle.read().splitlines()
    return [(i + 1, lines[i][:69], lines[i + 1][:69]) for i in range(len(lines))
            if lines[i].startswith('1 ')]


def assert_same_elements(a, b, rel=0.0, attrs=ELEMENT_ATTRS):
    for attr in attrs:
        va, vb = getattr(a, attr), getattr(b, attr)
        if isinstance(va, float) and rel:
            assert va == pytest.approx(vb, rel=rel, abs=1e-300), attr
        else:
            assert va == vb, attr


# ---------------------------------------------------------------- reading SGP4-VER.TLE

def test_sgp4_ver_default_mode_loads_good_records_and_reports_bad_ones():
    catalog = load_catalog(SGP4_VER)
    pairs = sgp4_ver_pairs()
    assert catalog.format == 'tle'
    # sgp4's own test file has three records with deliberately wrong checksums and one repeat.
    assert len(catalog) == len(pairs) - 4 == 29
    messages = [str(e) for e in catalog.errors]
    assert messages == [
        f'{SGP4_VER}:100: line 1 checksum 4 expected 2',
        f'{SGP4_VER}:103: line 1 checksum 9 expected 6',
        f'{SGP4_VER}:106: line 1 checksum 0 expected 3',
        f'{SGP4_VER}:109: duplicate catalog number 20413 (first at line 32); record skipped',
    ]
    assert [(e.source, e.line) for e in catalog.errors][0] == (SGP4_VER, 100)
    for number, l1, _ in pairs[:5]:
        assert any(r.line == number and r.tle[0] == l1 for r in catalog)
    assert all(r.name == '' for r in catalog)  # '#' lines are comments, not names


def test_sgp4_ver_values_match_sgp4_pure_python_reader():
    catalog = load_catalog(SGP4_VER, verify_checksums=False, duplicates='all')
    assert len(catalog) == 33 and not catalog.errors
    for record, (_, l1, l2) in zip(catalog, sgp4_ver_pairs()):
        reference = sgp4_io.twoline2rv(l1, l2, wgs72)
        assert record.norad_id == reference.satnum
        assert record.tle == (l1, l2)
        for attr in ('inclo', 'nodeo', 'ecco', 'argpo', 'mo', 'no_kozai', 'bstar', 'ndot', 'nddot'):
            assert getattr(record.satrec, attr) == pytest.approx(getattr(reference, attr),
                                                                 rel=1e-14, abs=1e-300), attr
        assert record.satrec.jdsatepoch + record.satrec.jdsatepochF == pytest.approx(
            reference.jdsatepoch, abs=1e-9)


def test_sgp4_ver_tle_round_trip_is_exact():
    catalog = load_catalog(SGP4_VER, verify_checksums=False, duplicates='all')
    written = format_tle(catalog).splitlines()
    assert written == [line for _, l1, l2 in sgp4_ver_pairs() for line in (l1, l2)]
    again = parse_catalog('\n'.join(written), verify_checksums=False, duplicates='all')
    assert [r.tle for r in again] == [r.tle for r in catalog]
    for a, b in zip(again, catalog):
        assert_same_elements(a.satrec, b.satrec)


def test_sgp4_ver_through_omm_and_back_gives_the_same_tle_lines():
    """TLE -> OMM -> Satrec -> sgp4 exporter: identical lines where the TLE is canonical."""
    catalog = load_catalog(SGP4_VER, verify_checksums=False, duplicates='all')
    # Non-canonical spellings the exporter cannot reproduce (same values): 11801 omits the
    # ephemeris type, 25954 and 29141 write a zero exponent as -0; 33333-33335 have bad checksums.
    odd = {11801, 25954, 29141, 33333, 33334, 33335}
    for fmt in ('json', 'csv', 'xml'):
        via_omm = parse_catalog(format_omm(catalog, fmt=fmt), duplicates='all')
        assert via_omm.format == f'omm-{fmt}' and not via_omm.errors
        lines = format_tle(via_omm).splitlines()
        assert len(lines) == 2 * len(catalog)
        for i, record in enumerate(catalog):
            if record.norad_id not in odd:
                assert tuple(lines[2 * i:2 * i + 2]) == record.tle
            else:
                again = parse_catalog('\n'.join(lines[2 * i:2 * i + 2])).records[0]
                assert_same_elements(again.satrec, record.satrec, rel=1e-12)


def test_epoch_iso_is_exact_against_integer_arithmetic_on_the_epoch_column():
    catalog = load_catalog(SGP4_VER, verify_checksums=False, duplicates='all')
    from datetime import datetime, timedelta
    for record in catalog:
        field = record.tle[0][18:32]
        year = int(field[:2])
        year += 1900 if year >= 57 else 2000
        micro = int(field[2:5]) * 86400 * 10**6 + int(field[6:]) * 864  # 1e-8 day = 864 us
        expected = datetime(year, 1, 1) + timedelta(days=-1, microseconds=micro)
        assert satrec_epoch_utc_iso(record.satrec) == expected.strftime('%Y-%m-%dT%H:%M:%S.%fZ')


# ---------------------------------------------------------------- names, Alpha-5, layout

def test_two_and_three_line_records_and_space_track_names():
    text = '\n'.join(tle(name='ISS (ZARYA)             ') + ['', '# comment'] +
                     tle('25545', name='0 OTHER') + tle('25546'))
    catalog = parse_catalog(text, source='x.tle')
    assert [(r.name, r.norad_id, r.line) for r in catalog] == [
        ('ISS (ZARYA)', 25544, 1), ('OTHER', 25545, 6), ('', 25546, 9)]
    assert [r.source for r in catalog] == ['x.tle'] * 3
    assert not catalog.errors and catalog.format == 'tle'
    assert isinstance(catalog, Catalog) and len(catalog) == 3 and catalog[1].name == 'OTHER'
    assert isinstance(catalog[0], CatalogRecord) and catalog[0].omm is None


def test_alpha5_catalog_numbers():
    for text, number in (('A0000', 100000), ('E8493', 148493), ('J2931', 182931),
                         ('P4018', 234018), ('Z9999', 339999)):
        record = parse_catalog('\n'.join(tle(text))).records[0]
        assert record.norad_id == number == record.satrec.satnum
        assert format_tle([record]).splitlines() == list(record.tle)
    problem = parse_catalog('\n'.join(tle('I0000')))
    assert 'columns 3-7 (catalog number)' in str(problem.errors[0])


def test_leading_blanks_in_numbers_and_missing_checksums_option():
    l1 = '1  4859U 21001A   21007.63955392  .00000000  00000+0  00000+0 0  9990'
    l2 = '2  4859 000.0000 000.0000 0000000 000.0000 000.0000 01.00000000    09'
    record = parse_catalog(f'{l1}\n{l2}\n').records[0]
    assert record.norad_id == 4859
    short = parse_catalog(f'{l1[:68]}\n{l2[:68]}\n')
    assert 'line 1 is 68 columns long, expected 69' in str(short.errors[0])
    relaxed = parse_catalog(f'{l1[:68]}\n{l2[:68]}\n', verify_checksums=False)
    assert relaxed.records[0].tle == (l1[:68], l2[:68]) and not relaxed.errors


def test_trailing_text_after_column_69_is_ignored():
    l1, l2 = tle()
    record = parse_catalog(f'{l1}   extra\n{l2} 0.0 1440.0 360.0\r\n').records[0]
    assert record.tle == (l1, l2)


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize('mutate, message', [
    (lambda l: (l[0][:40], l[1]), 'x.tle:1: line 1 is 40 columns long, expected 69 (truncated?)'),
    (lambda l: (l[0][:68] + str((checksum(l[0]) + 3) % 10), l[1]),
     'x.tle:1: line 1 checksum {c3} expected {c}'),
    (lambda l: (l[0], l[1][:10] + 'x' + l[1][11:]),
     "x.tle:2: line 2 columns 9-16 (inclination) ' 5x.6416' is not valid"),
    (lambda l: (with_checksum(l[0][:35] + 'Q' + l[0][36:]), l[1]),
     "x.tle:1: line 1 columns 34-43 (mean motion derivative) '-.Q0002182' is not valid"),
    (lambda l: (l[0], with_checksum(l[1][:16] + '7' + l[1][17:])),
     "x.tle:2: line 2 column 17 should be blank, found '7'"),
    (lambda l: (l[0], with_checksum(l[1][:2] + '25545' + l[1][7:])),
     'x.tle:2: line 2 catalog number 25545 does not match line 1 (25544)'),
    (lambda l: (with_checksum(l[0][:20] + '000.51782528' + l[0][32:]), l[1]),
     'x.tle:1: line 1 epoch day 000.51782528 outside 1..366.99999999'),
    (lambda l: (l[0], with_checksum(l[1][:8] + '181.0000' + l[1][16:])),
     'x.tle:2: line 2 inclination 181.0000 exceeds 180 deg'),
    (lambda l: (l[0], with_checksum(l[1][:52] + ' 0.00000000' + l[1][63:])),
     'x.tle:2: line 2 mean motion 0.00000000 must be positive'),
    (lambda l: (l[0][:30] + 'é' + l[0][31:], l[1]),
     'x.tle:1: line 1 has a non-ASCII character at column 31'),
    (lambda l: (l[0][:68] + 'x', l[1]), "x.tle:1: line 1 column 69 (checksum) 'x' is not a digit"),
])
def test_bad_tle_records_name_file_line_and_problem(mutate, message):
    good = tle()
    bad = list(mutate(good))
    message = message.format(c=checksum(good[0]), c3=(checksum(good[0]) + 3) % 10)
    text = '\n'.join(bad + tle('25545') + tle('25546'))
    catalog = parse_catalog(text, source='x.tle')
    assert [str(e) for e in catalog.errors] == [message]
    assert [r.norad_id for r in catalog] == [25545, 25546]
    with pytest.raises(CatalogError) as info:
        parse_catalog(text, source='x.tle', strict=True)
    assert str(info.value) == message
    assert isinstance(info.value, GroundsegError) and isinstance(info.value, ValueError)


def test_stray_lines_are_reported_and_the_rest_loads():
    l1, l2 = tle()
    text = '\n'.join(['some header', 'ISS', l1, 'NOT A LINE 2', l2, 'NAME ONLY'] + tle('25545'))
    catalog = parse_catalog(text, source='x.tle')
    assert [str(e) for e in catalog.errors] == [
        "x.tle:1: unexpected text 'some header' (not a name before a TLE line 1)",
        'x.tle:3: TLE line 1 is not followed by a line 2',
        "x.tle:4: unexpected text 'NOT A LINE 2' (not a name before a TLE line 1)",
        'x.tle:5: TLE line 2 without a line 1 before it',
    ]
    assert [(r.name, r.norad_id) for r in catalog] == [('NAME ONLY', 25545)]


def test_duplicates_policies():
    old = tle('25544', name='OLD', day='08264.51782528')
    new = tle('25544', name='NEW', day='08265.51782528')
    text = '\n'.join(old + tle('25545') + new)
    first = parse_catalog(text, source='d.tle')
    assert [r.name for r in first] == ['OLD', '']
    assert [str(e) for e in first.errors] == [
        'd.tle:6: duplicate catalog number 25544 (first at line 1); record skipped']
    newest = parse_catalog(text, source='d.tle', duplicates='newest')
    assert [r.name for r in newest] == ['NEW', '']
    assert [str(e) for e in newest.errors] == [
        'd.tle:1: duplicate catalog number 25544; kept the newer epoch at line 6, skipped this one']
    reverse = parse_catalog('\n'.join(new + old), duplicates='newest')
    assert [r.name for r in reverse] == ['NEW'] and len(reverse.errors) == 1
    both = parse_catalog(text, duplicates='all')
    assert [r.name for r in both] == ['OLD', '', 'NEW'] and not both.errors
    with pytest.raises(CatalogError, match='d.tle:6: duplicate catalog number 25544'):
        parse_catalog(text, source='d.tle', strict=True)
    with pytest.raises(ValueError, match='duplicates='):
        parse_catalog(text, duplicates='last')


@pytest.mark.parametrize('content, message', [
    (b'', 'e.tle: empty file (no TLE or OMM records)'),
    (b'  \n\n \t\n', 'e.tle: empty file (no TLE or OMM records)'),
    (bytes(range(256)) * 40, 'e.tle: binary data, not a TLE or OMM text file'),
    (b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR' + b'\x00\x10' * 500, 'e.tle: binary data, not a TLE or OMM text file'),
    (b'No GP data found\n', 'e.tle: no TLE or OMM records found'),
])
def test_not_a_catalog_raises_in_both_modes(tmp_path, content, message):
    path = tmp_path / 'e.tle'
    path.write_bytes(content)
    for strict in (False, True):
        with pytest.raises(CatalogError) as info:
            load_catalog(path, strict=strict)
        assert str(info.value) == message.replace('e.tle', str(path))


def test_binary_with_an_accidental_tle_line_is_still_binary():
    with pytest.raises(CatalogError, match='binary data'):
        parse_catalog(b'\x00\x01\x02\n1 garbage\n2 \x00\xff\n' * 20)


def test_all_records_bad_is_a_catalog_with_errors_not_an_exception():
    l1, l2 = tle()
    catalog = parse_catalog(f'{l1[:50]}\n{l2}\n')
    assert len(catalog) == 0 and len(catalog.errors) == 1


def test_missing_file_is_a_catalog_error(tmp_path):
    with pytest.raises(CatalogError, match='nope.tle: cannot read'):
        load_catalog(tmp_path / 'nope.tle')


def test_name_with_control_characters_is_reported_and_record_kept():
    text = '\n'.join(['BAD\x07NAME'] + tle())
    catalog = parse_catalog(text, source='n.tle')
    assert [r.name for r in catalog] == ['']
    assert str(catalog.errors[0]) == 'n.tle:1: name line has control characters; record loaded without a name'


# ---------------------------------------------------------------- writing

def test_format_tle_names_and_ambiguous_names_round_trip(tmp_path):
    names = ['ISS (ZARYA)', '1 HOP', '2', '0 ZERO', '# HASH', '']
    records = [parse_catalog('\n'.join(tle(str(25544 + i)))).records[0] for i in range(len(names))]
    named = [CatalogRecord(n, r.norad_id, r.satrec, r.source, r.line, r.tle, r.omm)
             for n, r in zip(names, records)]
    text = format_tle(named)
    assert text.splitlines()[:6] == ['ISS (ZARYA)', *tle('25544')[0:2], '0 1 HOP', *tle('25545')[0:2]]
    assert [r.name for r in parse_catalog(text)] == names
    assert [len(s) for s in format_tle(named, names=False).splitlines()] == [69] * 12
    path = tmp_path / 'out.tle'
    write_catalog(named, path)
    assert path.read_text() == text
    for fmt in ('omm-json', 'omm-csv', 'omm-xml'):
        write_catalog(named, tmp_path / 'out.omm', fmt=fmt)
        back = load_catalog(tmp_path / 'out.omm')
        assert back.format == fmt and [r.name for r in back] == names
    with pytest.raises(ValueError):
        write_catalog(named, path, fmt='kvn')
    bad = CatalogRecord('A\nB', 1, records[0].satrec, 's', 3, records[0].tle, None)
    with pytest.raises(CatalogError, match='s:3: name .* control characters'):
        format_tle([bad])


def test_format_tle_of_records_without_tle_text_uses_the_exporter_and_checks_it():
    record = parse_catalog('\n'.join(tle())).records[0]
    bare = CatalogRecord('ISS', 25544, record.satrec, 'mem', 7)
    assert format_tle([bare]).splitlines() == ['ISS', *tle()]
    fast = Satrec()
    fast.sgp4init(WGS72, 'i', 5, 20000.0, 0.0, 0.0, 0.0, 0.1, 0.0, 0.5, 0.0, 0.5, 0.0)
    with pytest.raises(CatalogError, match='mem:7: catalog number 5 cannot be written as a TLE'):
        format_tle([CatalogRecord('', 5, fast, 'mem', 7)])  # 114.6 rev/day does not fit


# ---------------------------------------------------------------- elements -> record

FORMOSAT_LIKE = dict(norad_id=99001, name='FS8-1', epoch_jd=2461005.5, epoch_fr=0.123456789,
                     inclination_deg=97.64, raan_deg=-30.0, eccentricity=0.00012,
                     arg_perigee_deg=90.0, mean_anomaly_deg=359.99999,
                     mean_motion_rev_day=15.1932, bstar=2.1e-4, ndot=3.2e-6,
                     intl_designator='2026-001A', rev_at_epoch=12)


def test_record_from_elements_is_what_a_reader_returns():
    record = record_from_elements(**FORMOSAT_LIKE)
    reread = parse_catalog(format_tle([record]), source='<elements>').records[0]
    assert record.tle == reread.tle and record.name == 'FS8-1' and record.norad_id == 99001
    assert_same_elements(record.satrec, reread.satrec)
    assert record.tle[0][9:17] == '26001A  '
    assert record.tle[1][17:25] == '330.0000' and record.tle[1][43:51] == '  0.0000'
    sat = record.satrec
    assert math.degrees(sat.inclo) == pytest.approx(97.64, abs=5e-5)
    assert sat.ecco == pytest.approx(0.00012, abs=5e-8)
    assert sat.no_kozai * 1440 / (2 * math.pi) == pytest.approx(15.1932, abs=5e-9)
    assert sat.bstar == pytest.approx(2.1e-4, rel=1e-4)
    epoch = sat.jdsatepoch + sat.jdsatepochF
    assert abs(epoch - (2461005.5 + 0.123456789)) * 86400 <= 0.000432 + 1e-6


def test_record_from_elements_propagates_like_direct_sgp4init():
    """Independent check: sgp4init with the rounded elements gives the same trajectory."""
    record = record_from_elements(**FORMOSAT_LIKE)
    direct = Satrec()
    epoch = record.satrec.jdsatepoch - 2433281.5 + record.satrec.jdsatepochF
    direct.sgp4init(WGS72, 'i', 99001, epoch, float(record.tle[0][53] + '0.' + record.tle[0][54:59])
                    * 10.0 ** int(record.tle[0][59:61]), 3.2e-6 / (1440 ** 2 / (2 * math.pi)), 0.0,
                    0.00012, math.radians(90.0), math.radians(97.64), math.radians(0.0),
                    15.1932 * 2 * math.pi / 1440, math.radians(330.0))
    for minutes in (0.0, 97.0, 1440.0, 7 * 1440.0):
        jd, fr = record.satrec.jdsatepoch, record.satrec.jdsatepochF + minutes / 1440
        e1, r1, _ = record.satrec.sgp4(jd, fr)
        e2, r2, _ = direct.sgp4(jd, fr)
        assert e1 == e2 == 0
        assert math.dist(r1, r2) < 1e-6  # km


@pytest.mark.parametrize('change, message', [
    (dict(inclination_deg=181.0), 'inclination_deg 181.0 outside 0..180'),
    (dict(eccentricity=1.0), 'eccentricity 1.0 outside'),
    (dict(mean_motion_rev_day=0.0), 'mean_motion_rev_day 0.0 outside'),
    (dict(norad_id=340000), 'norad_id must be an integer 0..339999'),
    (dict(intl_designator='ISS'), "intl_designator 'ISS' is not like"),
    (dict(epoch_jd=2480000.5), 'epoch outside 1957..2056'),
    (dict(bstar=float('nan')), 'finite numbers'),
    (dict(bstar=1e12), 'cannot be written as a TLE'),
    (dict(classification='X'), "classification 'X'"),
])
def test_record_from_elements_rejects_what_a_tle_cannot_hold(change, message):
    with pytest.raises(CatalogError, match=message.replace('(', r'\(').replace('.', r'\.')):
        record_from_elements(**{**FORMOSAT_LIKE, **change})


def test_record_from_elements_flushes_what_is_below_tle_resolution():
    record = record_from_elements(**{**FORMOSAT_LIKE, 'bstar': -3e-12, 'ndot': -1e-12, 'nddot': 5e-324})
    assert record.tle[0][33:61] == ' .00000000  00000-0  00000+0'
    assert record.satrec.bstar == record.satrec.ndot == record.satrec.nddot == 0.0


def test_record_from_elements_alpha5_and_omm_output():
    record = record_from_elements(**{**FORMOSAT_LIKE, 'norad_id': 123456})
    assert record.tle[0][2:7] == 'C3456' and record.norad_id == 123456
    back = parse_catalog(format_omm([record], fmt='json')).records[0]
    assert back.norad_id == 123456 and back.omm['OBJECT_ID'] == '2026-001A'
    assert format_tle([back]).splitlines() == ['FS8-1', *record.tle]


def test_mixed_catalog_file_in_tests_data():
    path = os.path.join(os.path.dirname(__file__), 'data', 'catalog_mixed.tle')
    catalog = load_catalog(path)
    assert [(r.name, r.norad_id, r.line) for r in catalog] == [
        ('FS8-1', 99001, 2), ('FS8-5', 99005, 16), ('FS8-7', 99007, 22)]
    assert [str(e).replace(path, 'F') for e in catalog.errors] == [
        'F:7: line 2 is 51 columns long, expected 69 (truncated?)',
        'F:9: line 1 checksum 2 expected 1',
        "F:13: line 2 columns 9-16 (inclination) ' 7O.6400' is not valid",
        "F:14: unexpected text 'STRAY TEXT' (not a name before a TLE line 1)",
        "F:15: unexpected text 'MORE TEXT' (not a name before a TLE line 1)",
        'F:19: duplicate catalog number 99001 (first at line 2); record skipped',
    ]
    with pytest.raises(CatalogError, match=r'catalog_mixed.tle:7: line 2 is 51 columns'):
        load_catalog(path, strict=True)
