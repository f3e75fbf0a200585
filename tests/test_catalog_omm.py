"""OMM (CelesTrak GP JSON / CSV / XML) reading, validation and writing (groundseg.catalog)."""
import io
import json
import math

import pytest
from sgp4 import omm as sgp4_omm
from sgp4.api import Satrec

from groundseg.catalog import format_omm, format_tle, load_catalog, parse_catalog, satrec_epoch_utc_iso
from groundseg.errors import CatalogError

ISS_TLE = ('ISS (ZARYA)\n'
           '1 25544U 98067A   08264.51782528 -.00002182  00000-0 -11606-4 0  2927\n'
           '2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391563537\n')
# The same element set written by hand in each OMM encoding, as CelesTrak spells them.
ISS_JSON = '''[{
    "OBJECT_NAME": "ISS (ZARYA)",
    "OBJECT_ID": "1998-067A",
    "EPOCH": "2008-09-20T12:25:40.104192",
    "MEAN_MOTION": 15.72125391,
    "ECCENTRICITY": 0.0006703,
    "INCLINATION": 51.6416,
    "RA_OF_ASC_NODE": 247.4627,
    "ARG_OF_PERICENTER": 130.536,
    "MEAN_ANOMALY": 325.0288,
    "EPHEMERIS_TYPE": 0,
    "CLASSIFICATION_TYPE": "U",
    "NORAD_CAT_ID": 25544,
    "ELEMENT_SET_NO": 292,
    "REV_AT_EPOCH": 56353,
    "BSTAR": -1.1606e-5,
    "MEAN_MOTION_DOT": -2.182e-5,
    "MEAN_MOTION_DDOT": 0
}]'''
CSV_HEADER = ('OBJECT_NAME,OBJECT_ID,EPOCH,MEAN_MOTION,ECCENTRICITY,INCLINATION,RA_OF_ASC_NODE,'
              'ARG_OF_PERICENTER,MEAN_ANOMALY,EPHEMERIS_TYPE,CLASSIFICATION_TYPE,NORAD_CAT_ID,'
              'ELEMENT_SET_NO,REV_AT_EPOCH,BSTAR,MEAN_MOTION_DOT,MEAN_MOTION_DDOT')
ISS_CSV_ROW = ('ISS (ZARYA),1998-067A,2008-09-20T12:25:40.104192,15.72125391,.0006703,51.6416,'
               '247.4627,130.5360,325.0288,0,U,25544,292,56353,-.11606E-4,-.00002182,0')
ISS_XML = '''<?xml version="1.0" encoding="UTF-8"?>
<ndm xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<omm id="CCSDS_OMM_VERS" version="2.0">
<header><CREATION_DATE/><ORIGINATOR/></header>
<body><segment>
<metadata><OBJECT_NAME>ISS (ZARYA)</OBJECT_NAME><OBJECT_ID>1998-067A</OBJECT_ID>
<CENTER_NAME>EARTH</CENTER_NAME><REF_FRAME>TEME</REF_FRAME><TIME_SYSTEM>UTC</TIME_SYSTEM>
<MEAN_ELEMENT_THEORY>SGP4</MEAN_ELEMENT_THEORY></metadata>
<data><meanElements><EPOCH>2008-09-20T12:25:40.104192</EPOCH><MEAN_MOTION>15.72125391</MEAN_MOTION>
<ECCENTRICITY>.0006703</ECCENTRICITY><INCLINATION>51.6416</INCLINATION>
<RA_OF_ASC_NODE>247.4627</RA_OF_ASC_NODE><ARG_OF_PERICENTER>130.5360</ARG_OF_PERICENTER>
<MEAN_ANOMALY>325.0288</MEAN_ANOMALY></meanElements>
<tleParameters><EPHEMERIS_TYPE>0</EPHEMERIS_TYPE><CLASSIFICATION_TYPE>U</CLASSIFICATION_TYPE>
<NORAD_CAT_ID>25544</NORAD_CAT_ID><ELEMENT_SET_NO>292</ELEMENT_SET_NO><REV_AT_EPOCH>56353</REV_AT_EPOCH>
<BSTAR>-.11606E-4</BSTAR><MEAN_MOTION_DOT>-.00002182</MEAN_MOTION_DOT><MEAN_MOTION_DDOT>0</MEAN_MOTION_DDOT>
</tleParameters></data></segment></body></omm>
</ndm>
'''
FLOATS = ('inclo', 'nodeo', 'ecco', 'argpo', 'mo', 'no_kozai', 'bstar', 'ndot', 'nddot')
EXACT = ('satnum', 'classification', 'intldesg', 'ephtype', 'elnum', 'revnum', 'epochyr')


def assert_satrecs_match(a, b):
    for attr in FLOATS:
        assert getattr(a, attr) == pytest.approx(getattr(b, attr), rel=1e-12, abs=1e-300), attr
    for attr in EXACT:
        assert getattr(a, attr) == getattr(b, attr), attr
    epoch_a = (a.jdsatepoch - 2451545.0) + a.jdsatepochF
    epoch_b = (b.jdsatepoch - 2451545.0) + b.jdsatepochF
    assert abs(epoch_a - epoch_b) * 86400 < 1e-6  # seconds
    assert satrec_epoch_utc_iso(a) == satrec_epoch_utc_iso(b)


def many_records():
    """A varied TLE catalog written out here: several orbit regimes, Alpha-5 numbers, signs."""
    lines = []
    specs = [  # norad, designator, epoch, ndot, nddot, bstar, incl, raan, ecc, argp, ma, mm, rev
        ('25544', '98067A  ', '24001.50000000', ' .00016717', ' 00000-0', ' 30270-3', ' 51.6416',
         '247.4627', '0006703', '130.5360', '325.0288', '15.50103472', '43321'),
        ('A0001', '24001AB ', '23365.99999999', '-.00000084', ' 12345-5', '-11606-4', ' 97.6402',
         '  0.0001', '0001234', '359.9999', '  0.0000', '15.19321456', '    1'),
        ('43013', '17073A  ', '20100.12345678', ' .00000000', '-30915-6', ' 00000+0', ' 63.4000',
         '279.0717', '7069051', '270.0229', ' 16.3320', ' 2.00813614', '99999'),
        ('00005', '58002B  ', '00179.78495062', ' .00000023', ' 00000-0', ' 28098-4', ' 34.2682',
         '348.7242', '1859667', '331.7664', ' 19.3264', '10.82419157', '41366'),
        ('Z9999', '        ', '56366.00000000', ' .99999999', ' 99999+9', ' 99999-9', '180.0000',
         '360.0000', '9999999', '  0.0000', '360.0000', '99.99999999', '12345'),
    ]
    for i, (n, d, e, nd, ndd, bs, inc, ra, ec, ap, ma, mm, rev) in enumerate(specs):
        l1 = f'1 {n}U {d} {e} {nd} {ndd} {bs} 0  999'
        l2 = f'2 {n} {inc} {ra} {ec} {ap} {ma} {mm}{rev}'
        lines += [f'SAT {i}, "QUOTED" & <XML>', fix(l1), fix(l2)]
    return parse_catalog('\n'.join(lines) + '\n')


def fix(line):
    total = sum(int(c) if c.isdigit() else c == '-' for c in line[:68])
    return line[:68].ljust(68) + str(total % 10)


# ---------------------------------------------------------------- reading

@pytest.mark.parametrize('text, fmt', [
    (ISS_JSON, 'omm-json'), (CSV_HEADER + '\n' + ISS_CSV_ROW + '\n', 'omm-csv'), (ISS_XML, 'omm-xml'),
])
def test_hand_written_omm_matches_the_tle(text, fmt):
    from_tle = parse_catalog(ISS_TLE).records[0]
    catalog = parse_catalog(text.encode(), source='iss')
    assert catalog.format == fmt and not catalog.errors and len(catalog) == 1
    record = catalog.records[0]
    assert (record.name, record.norad_id, record.source, record.tle) == ('ISS (ZARYA)', 25544, 'iss', None)
    assert record.line == (2 if fmt == 'omm-csv' else 5 if fmt == 'omm-xml' else 1)
    assert_satrecs_match(record.satrec, from_tle.satrec)
    for minutes in (0.0, 90.0, 1440.0):
        _, r1, v1 = record.satrec.sgp4_tsince(minutes)
        _, r2, v2 = from_tle.satrec.sgp4_tsince(minutes)
        assert math.dist(r1, r2) < 1e-6 and math.dist(v1, v2) < 1e-9
    assert format_tle([record]) == ISS_TLE


def test_omm_fields_keep_their_text():
    record = parse_catalog(ISS_JSON).records[0]
    assert record.omm['MEAN_MOTION'] == '15.72125391' and record.omm['BSTAR'] == '-1.1606e-5'
    assert record.omm['NORAD_CAT_ID'] == '25544' and record.omm['MEAN_MOTION_DDOT'] == '0'
    csv_record = parse_catalog(CSV_HEADER + '\n' + ISS_CSV_ROW).records[0]
    assert csv_record.omm['ECCENTRICITY'] == '.0006703'
    xml_record = parse_catalog(ISS_XML).records[0]
    assert xml_record.omm['BSTAR'] == '-.11606E-4' and xml_record.omm['REF_FRAME'] == 'TEME'


def test_space_track_style_json_with_string_values_and_extra_fields():
    fields = json.loads(ISS_JSON)[0]
    fields = {k: str(v) for k, v in fields.items()}
    fields.update(CCSDS_OMM_VERS='2.0', DECAY_DATE=None, TLE_LINE1='1 25544U ...',
                  EPOCH='2008-09-20T12:25:40.104192Z')
    record = parse_catalog(json.dumps(fields)).records[0]  # a lone object is accepted too
    assert record.omm['DECAY_DATE'] is None and record.omm['CCSDS_OMM_VERS'] == '2.0'
    assert_satrecs_match(record.satrec, parse_catalog(ISS_TLE).records[0].satrec)
    assert '"DECAY_DATE"' not in format_omm([record])


def test_namespaced_xml_with_comments_and_units_attributes():
    text = ISS_XML.replace('<ndm xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
                           '<ndm xmlns="urn:ccsds:ndm">').replace(
        '<INCLINATION>', '<COMMENT>hello</COMMENT><INCLINATION units="deg">')
    record = parse_catalog(text).records[0]
    assert record.omm['INCLINATION'] == '51.6416'


def test_epoch_spellings():
    base = json.loads(ISS_JSON)[0]
    for spelling, iso in (('2008-09-20T12:25:40.104192Z', '2008-09-20T12:25:40.104192Z'),
                          ('2008-09-20T12:25:40', '2008-09-20T12:25:40.000000Z'),
                          ('2008-09-20T12:25:40.1041924', '2008-09-20T12:25:40.104192Z'),
                          ('2008-09-20T12:25:40.1041925', '2008-09-20T12:25:40.104193Z'),
                          ('2008-09-20T12:25:40.10419251', '2008-09-20T12:25:40.104193Z'),
                          ('2008-12-31T23:59:59.9999999', '2009-01-01T00:00:00.000000Z')):
        record = parse_catalog(json.dumps({**base, 'EPOCH': spelling})).records[0]
        assert satrec_epoch_utc_iso(record.satrec) == iso


# ---------------------------------------------------------------- writing and round trips

@pytest.mark.parametrize('fmt', ['json', 'csv', 'xml'])
def test_tle_catalog_through_omm_reproduces_satrecs_and_sgp4_reads_our_output(fmt):
    catalog = many_records()
    assert len(catalog) == 5 and not catalog.errors
    text = format_omm(catalog, fmt=fmt)
    back = parse_catalog(text)
    assert back.format == f'omm-{fmt}' and not back.errors
    assert [r.name for r in back] == [r.name for r in catalog]
    assert [r.norad_id for r in back] == [r.norad_id for r in catalog]
    for a, b in zip(back, catalog):
        assert_satrecs_match(a.satrec, b.satrec)
    assert format_tle(back) == format_tle(catalog)  # and back to the same TLE text
    # sgp4's own OMM readers understand what we write
    if fmt == 'json':
        reference_fields = json.loads(text)
    elif fmt == 'csv':
        reference_fields = list(sgp4_omm.parse_csv(io.StringIO(text)))
    else:
        reference_fields = list(sgp4_omm.parse_xml(io.StringIO(text)))
    assert len(reference_fields) == len(catalog)
    for fields, record in zip(reference_fields, catalog):
        if fields['OBJECT_ID'] is None:  # sgp4.omm.initialize cannot take an empty <OBJECT_ID/>
            fields['OBJECT_ID'] = ''
        satrec = Satrec()
        sgp4_omm.initialize(satrec, fields)
        assert_satrecs_match(satrec, record.satrec)


def test_omm_records_write_back_their_own_text():
    catalog = parse_catalog(ISS_XML)
    as_json = format_omm(catalog, fmt='json')
    assert json.loads(as_json)[0]['BSTAR'] == -1.1606e-05  # '.11606E-4' is not JSON: normalised
    assert '"MEAN_MOTION":15.72125391' in as_json and '"ARG_OF_PERICENTER":130.5360' in as_json
    as_csv = parse_catalog(as_json)
    as_xml = parse_catalog(format_omm(as_csv, fmt='csv'))
    final = parse_catalog(format_omm(as_xml, fmt='xml'))
    assert format_omm(final, fmt='json') == as_json
    assert final.records[0].omm['MEAN_MOTION_DOT'] == '-2.182e-05'  # as JSON normalised it
    assert_satrecs_match(final.records[0].satrec, catalog.records[0].satrec)
    text = format_omm(parse_catalog(as_json), fmt='json')
    assert text == as_json  # idempotent


# ---------------------------------------------------------------- bad OMM

def iss_json_list(*replacements):
    """JSON list of ISS copies with catalog numbers 1, 2, ...; replacements per record index."""
    objects = []
    base = json.loads(ISS_JSON)[0]
    for i, change in enumerate(replacements):
        text = json.dumps({**base, 'NORAD_CAT_ID': i + 1}, separators=(',', ':'))
        for old, new in change:
            text = text.replace(old, new)
        objects.append(text)
    return '[' + ',\n'.join(objects) + ']'


def test_bad_json_records_are_reported_and_the_others_load():
    text = iss_json_list((), [('15.72125391', '"15.7x"')], [('"U"', '"Q"')],
                         [('"EPOCH"', '"EPOCHE"')], [(':0.0006703', ':1.5')], [('51.6416', '51.6416,,')],
                         [('"2008-09-20T12', '"2008-13-20T12')], ())
    catalog = parse_catalog(text, source='x.json')
    assert [r.norad_id for r in catalog] == [1, 8]
    assert [str(e) for e in catalog.errors] == [
        "x.json:2: record 2: MEAN_MOTION '15.7x' is not a number",
        "x.json:3: record 3: CLASSIFICATION_TYPE 'Q' is not U, C or S",
        'x.json:4: record 4: missing EPOCH',
        'x.json:5: record 5: ECCENTRICITY 1.5 outside 0..1 (excluding 1)',
        "x.json:6: record 6: invalid JSON: Expecting property name enclosed in double quotes",
        "x.json:7: record 7: EPOCH '2008-13-20T12:25:40.104192': month must be in 1..12",
    ]
    with pytest.raises(CatalogError, match="x.json:2: record 2: MEAN_MOTION '15.7x'"):
        parse_catalog(text, source='x.json', strict=True)


def test_json_structure_problems():
    assert len(parse_catalog('[]')) == 0 and not parse_catalog('[]').errors
    assert [str(e) for e in parse_catalog('[', source='j').errors] == [
        'j:1: after record 0: JSON list not closed with ]']
    with pytest.raises(CatalogError, match='j:2: JSON OMM must be a list'):
        parse_catalog('\n"GP data"', source='j', fmt='omm-json')
    broken = parse_catalog(iss_json_list(()) [:-1] + ',\n7,\n{"a": [1, {"b"', source='j')
    assert len(broken) == 1
    assert [str(e) for e in broken.errors] == [
        'j:2: record 2: is not a flat JSON object',
        "j:3: record 3: invalid JSON: Expecting ':' delimiter",  # resumes at the next '{' ...
        "j:3: record 4: invalid JSON: Expecting ':' delimiter"]  # ... which is inside record 3
    deep = parse_catalog('[' + '[' * 100000 + ']' * 100000 + ']')
    assert len(deep) == 0 and 'JSON' in str(deep.errors[0])
    duplicate = parse_catalog(iss_json_list((), [('"NORAD_CAT_ID":2', '"NORAD_CAT_ID":1')]), source='d')
    assert [str(e) for e in duplicate.errors] == [
        'd:2: record 2: duplicate catalog number 1 (first at line 1); record skipped']


def test_bad_csv():
    rows = [ISS_CSV_ROW.replace('25544', str(i)) for i in range(1, 5)]
    rows[1] = rows[1].replace(',U,', ',U,extra,')
    rows[2] = '"' + rows[2]  # a stray quote stays in its own line
    text = CSV_HEADER + '\n' + '\n'.join(rows) + '\n'
    catalog = parse_catalog(text, source='c.csv')
    assert [r.norad_id for r in catalog] == [1, 4]
    assert [str(e) for e in catalog.errors] == [
        'c.csv:3: row has 18 fields, the header has 17', 'c.csv:4: row has 1 fields, the header has 17']
    with pytest.raises(CatalogError, match='c.csv:1: CSV header lacks BSTAR'):
        parse_catalog(text.replace(',BSTAR,', ',BSTARS,'), source='c.csv')


def test_bad_xml_segments_lose_only_themselves():
    body = ISS_XML.split('<body>')[1].split('</body>')[0]
    segments = [body.replace('25544', str(i)) for i in range(1, 5)]
    segments[1] = segments[1].replace('</INCLINATION>', '</INCLINATIO>')   # malformed
    segments[2] = segments[2].replace('<REF_FRAME>TEME', '<REF_FRAME>GCRF')  # wrong frame
    text = '<ndm><omm><body>' + ''.join(segments) + '</body></omm></ndm>'
    catalog = parse_catalog(text, source='x.xml')
    assert [r.norad_id for r in catalog] == [1, 4]
    messages = [str(e) for e in catalog.errors]
    assert messages[0].startswith('x.xml:12: segment 2: malformed XML at line 17: mismatched tag')
    assert messages[1] == "x.xml:23: segment 3: REF_FRAME 'GCRF' is not supported (only TEME)"
    with pytest.raises(CatalogError, match='x.xml: no TLE or OMM|x.xml:1: XML root <html>'):
        parse_catalog('<!DOCTYPE html><html><body>No GP data found</body></html>', source='x.xml')
    assert len(parse_catalog('<ndm></ndm>')) == 0


def test_omm_with_no_records_at_all_is_refused_or_empty():
    with pytest.raises(CatalogError, match='x.csv:1: CSV header lacks'):
        parse_catalog('OBJECT_NAME,NORAD_CAT_ID\n', source='x.csv')
    assert len(parse_catalog(CSV_HEADER + '\n')) == 0


def test_load_omm_file(tmp_path):
    path = tmp_path / 'gp.json'
    path.write_text(ISS_JSON)
    catalog = load_catalog(path, strict=True)
    assert catalog.records[0].source == str(path) and catalog.format == 'omm-json'
