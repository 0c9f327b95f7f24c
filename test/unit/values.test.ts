import assert from 'node:assert/strict';
import { InvalidInputError } from '../../src/errors';
import {
  describeValue, parseDate, parseDateRange, parseId, parseIdList, parsePositiveInt, parseSequenceId,
} from '../../src/parse/values';

function rejects(fn: () => unknown, what: string, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidInputError);
    assert.equal(err.code, 'MAPILLARY_INVALID_INPUT');
    assert.ok(err.message.startsWith(what), err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('parseDate', () => {
  const cases: Array<[unknown, string]> = [
    ['2021-05-01', '2021-05-01T00:00:00.000Z'],
    [' 2021-05-01 ', '2021-05-01T00:00:00.000Z'],
    ['2021-05-01T10:00:00Z', '2021-05-01T10:00:00.000Z'],
    ['2021-05-01T10:00Z', '2021-05-01T10:00:00.000Z'],
    ['2021-05-01T10:00:00', '2021-05-01T10:00:00.000Z'],
    ['2021-05-01 10:00:00z', '2021-05-01T10:00:00.000Z'],
    ['2021-05-01T10:00:00.5Z', '2021-05-01T10:00:00.500Z'],
    ['2021-05-01T10:00:00.123456Z', '2021-05-01T10:00:00.123Z'],
    ['2021-05-01T10:00:00+02:00', '2021-05-01T08:00:00.000Z'],
    ['2021-05-01T10:00:00+0000', '2021-05-01T10:00:00.000Z'],
    ['2021-05-01T01:30:00-05:30', '2021-05-01T07:00:00.000Z'],
    ['2021-05-01T00:30:00+01', '2021-04-30T23:30:00.000Z'],
    ['2020-02-29', '2020-02-29T00:00:00.000Z'],
    ['2000-02-29', '2000-02-29T00:00:00.000Z'],
    ['0099-12-31', '0099-12-31T00:00:00.000Z'],
    [new Date('2021-05-01T10:00:00Z'), '2021-05-01T10:00:00.000Z'],
    [1619863200000, '2021-05-01T10:00:00.000Z'],
    [0, '1970-01-01T00:00:00.000Z'],
  ];
  for (const [input, expected] of cases) {
    it(`reads ${describeValue(input)}`, () => assert.equal(parseDate(input, 'start date'), expected));
  }

  it('rejects impossible calendar dates and times', () => {
    for (const text of ['2021-02-29', '2021-02-30', '1900-02-29', '2021-13-01', '2021-00-10', '2021-04-31', '2021-05-00',
      '2021-05-01T24:00:00Z', '2021-05-01T10:60:00Z', '2021-05-01T10:00:61Z', '2021-05-01T10:00:00+24:00']) {
      rejects(() => parseDate(text, 'start date'), 'start date', new RegExp(`real calendar date.*got "${text.replace('+', '\\+')}"`));
    }
  });

  it('rejects free text, NaN, booleans and other types', () => {
    const bad: unknown[] = ['yesterday', 'May 1, 2021', '2021/05/01', '2021-5-1', '20210501', '', '1619863200000',
      Number.NaN, Infinity, 1.5, 9e15, true, null, undefined, {}, [], new Date('nope')];
    for (const input of bad) rejects(() => parseDate(input, 'start date'), 'start date', /must be an ISO 8601 date/);
  });

  it('shows what was got', () => {
    rejects(() => parseDate('yesterday', 'end date'), 'end date', /got "yesterday"$/);
    rejects(() => parseDate(true, 'end date'), 'end date', /got true$/);
    rejects(() => parseDate(new Date('nope'), 'end date'), 'end date', /got an invalid Date$/);
  });
});

describe('parseDateRange', () => {
  it('accepts either end empty', () => {
    assert.deepEqual(parseDateRange(undefined, null, 'captured'), {});
    assert.deepEqual(parseDateRange('', '  ', 'captured'), {});
    assert.deepEqual(parseDateRange('2021-05-01', '', 'captured'), { start: '2021-05-01T00:00:00.000Z' });
    assert.deepEqual(parseDateRange(null, '2021-05-01', 'captured'), { end: '2021-05-01T00:00:00.000Z' });
    assert.ok(!('end' in parseDateRange('2021-05-01', undefined, 'captured')));
  });

  it('accepts an ordered or equal range', () => {
    assert.deepEqual(parseDateRange('2021-05-01', '2021-06-01T12:00:00+02:00', 'captured'),
      { start: '2021-05-01T00:00:00.000Z', end: '2021-06-01T10:00:00.000Z' });
    assert.deepEqual(parseDateRange(0, new Date(0), 'captured'), { start: '1970-01-01T00:00:00.000Z', end: '1970-01-01T00:00:00.000Z' });
  });

  it('rejects a start after the end', () => {
    rejects(() => parseDateRange('2021-06-01', '2021-05-01', 'captured'), 'captured', /start \(2021-06-01T00:00:00.000Z\) must not be after the end/);
    rejects(() => parseDateRange('2021-05-01T10:00:00Z', '2021-05-01T11:00:00+02:00', 'captured'), 'captured', /must not be after/);
  });

  it('names which end is invalid', () => {
    rejects(() => parseDateRange('2021-02-30', undefined, 'captured'), 'captured start', /got "2021-02-30"/);
    rejects(() => parseDateRange(undefined, 'soon', 'captured'), 'captured end', /got "soon"/);
  });
});

describe('parseId', () => {
  it('accepts digit strings and safe integers', () => {
    assert.equal(parseId('1234567890', 'image id'), '1234567890');
    assert.equal(parseId(' 42 ', 'image id'), '42');
    assert.equal(parseId('12345678901234567890', 'image id'), '12345678901234567890');
    assert.equal(parseId(0, 'image id'), '0');
    assert.equal(parseId(Number.MAX_SAFE_INTEGER, 'image id'), '9007199254740991');
  });

  it('rejects anything else', () => {
    for (const bad of ['', ' ', 'abc', '12a', '-1', '1.5', '1e5', '123456789012345678901', -1, 1.5, 2 ** 60, Number.NaN, null, undefined, true, {}, [1]]) {
      rejects(() => parseId(bad, 'image id'), 'image id', /must be a numeric Mapillary id \(1 to 20 digits\); got /);
    }
  });
});

describe('parseIdList', () => {
  it('accepts arrays, comma-separated strings and a single id', () => {
    assert.deepEqual(parseIdList(['1', 2, ' 3 '], 'image ids'), ['1', '2', '3']);
    assert.deepEqual(parseIdList('1, 2,3', 'image ids'), ['1', '2', '3']);
    assert.deepEqual(parseIdList('77', 'image ids'), ['77']);
    assert.deepEqual(parseIdList(77, 'image ids'), ['77']);
  });

  it('rejects empty lists and names the bad item', () => {
    rejects(() => parseIdList([], 'image ids'), 'image ids', /non-empty array or comma-separated list.*got \[\]/);
    rejects(() => parseIdList('  ', 'image ids'), 'image ids', /non-empty/);
    rejects(() => parseIdList(null, 'image ids'), 'image ids', /got null/);
    rejects(() => parseIdList('1,x,3', 'image ids'), 'image ids (item 2)', /got "x"/);
    rejects(() => parseIdList('1,2,', 'image ids'), 'image ids (item 3)', /got ""/);
    rejects(() => parseIdList([1, -2], 'image ids'), 'image ids (item 2)', /got -2/);
  });
});

describe('parseSequenceId', () => {
  it('accepts sequence keys', () => {
    assert.equal(parseSequenceId('7nfcwfvjdtphz7yj6zat6a'), '7nfcwfvjdtphz7yj6zat6a');
    assert.equal(parseSequenceId(' AbC_12-x '), 'AbC_12-x');
    assert.equal(parseSequenceId('a'.repeat(64)), 'a'.repeat(64));
  });

  it('rejects anything else, naming the field', () => {
    for (const bad of ['', 'a b', 'a/b', 'é', 'a'.repeat(65), 123, null, undefined]) {
      rejects(() => parseSequenceId(bad), 'sequence id', /must be a sequence key/);
    }
    rejects(() => parseSequenceId('x?y', 'msg.sequence'), 'msg.sequence', /got "x\?y"/);
  });
});

describe('parsePositiveInt', () => {
  it('accepts numbers and numeric strings within bounds', () => {
    assert.equal(parsePositiveInt(5, 'limit', {}), 5);
    assert.equal(parsePositiveInt(' 20 ', 'limit', { max: 2000 }), 20);
    assert.equal(parsePositiveInt('+7', 'limit', {}), 7);
    assert.equal(parsePositiveInt('10.0', 'limit', {}), 10);
    assert.equal(parsePositiveInt(2000, 'limit', { max: 2000 }), 2000);
    assert.equal(parsePositiveInt(0, 'retries', { allowZero: true }), 0);
    assert.equal(parsePositiveInt('0', 'retries', { allowZero: true, max: 5 }), 0);
    assert.equal(parsePositiveInt(3, 'zoom', { min: 3, max: 14 }), 3);
  });

  it('rejects out-of-range, fractional and non-numeric values', () => {
    rejects(() => parsePositiveInt(0, 'limit', {}), 'limit', /a whole number at least 1; got 0$/);
    rejects(() => parsePositiveInt(-1, 'retries', { allowZero: true }), 'retries', /at least 0; got -1/);
    rejects(() => parsePositiveInt(2001, 'limit', { max: 2000 }), 'limit', /from 1 to 2000; got 2001/);
    rejects(() => parsePositiveInt(2, 'zoom', { min: 3, max: 14 }), 'zoom', /from 3 to 14/);
    rejects(() => parsePositiveInt(-5, 'zoom', { min: -10 }), 'zoom', /at least 1/);
    for (const bad of [1.5, '1.5', '', 'ten', '1e3', '0x10', Number.NaN, Infinity, 2 ** 60, null, undefined, true, [3]]) {
      rejects(() => parsePositiveInt(bad, 'limit', {}), 'limit', /must be a whole number/);
    }
  });
});

describe('describeValue', () => {
  it('renders values briefly', () => {
    assert.equal(describeValue(undefined), 'nothing (undefined)');
    assert.equal(describeValue('a'), '"a"');
    assert.equal(describeValue({ a: [1] }), '{"a":[1]}');
    assert.equal(describeValue(() => 1), 'a function');
    assert.equal(describeValue(10n), '10');
    const long = describeValue({ text: 'y'.repeat(200) });
    assert.equal(long.length, 61);
    assert.ok(long.endsWith('…'));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.equal(describeValue(cyclic), '[object Object]');
  });
});
