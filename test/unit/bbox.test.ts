import assert from 'node:assert/strict';
import { bboxArea, containsPoint, formatBBox } from '../../src/geo/bbox';
import { parseArea } from '../../src/parse/area';
import { InvalidInputError } from '../../src/errors';

function rejects(input: unknown, pattern: RegExp, what = 'bbox'): void {
  assert.throws(() => parseArea(input, what), (err: unknown) => {
    assert.ok(err instanceof InvalidInputError);
    assert.equal(err.code, 'MAPILLARY_INVALID_INPUT');
    assert.ok(err.message.startsWith(what), err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('parseArea', () => {
  const box = [[2.3, 48.8, 2.4, 48.9]];

  it('accepts a comma-separated string, with spaces', () => {
    assert.deepEqual(parseArea('2.3,48.8,2.4,48.9'), box);
    assert.deepEqual(parseArea('  2.3 , 48.8,2.4 ,  48.9 '), box);
    assert.deepEqual(parseArea('-1e-1,-.5,+1,2.'), [[-0.1, -0.5, 1, 2]]);
  });

  it('accepts a JSON array string', () => {
    assert.deepEqual(parseArea('[2.3, 48.8, 2.4, 48.9]'), box);
  });

  it('accepts an array of numbers or numeric strings', () => {
    assert.deepEqual(parseArea([2.3, 48.8, 2.4, 48.9]), box);
    assert.deepEqual(parseArea(['2.3', ' 48.8', 2.4, '48.9']), box);
  });

  it('accepts a GeoJSON bbox member, 2D or 3D', () => {
    assert.deepEqual(parseArea({ type: 'Feature', bbox: [2.3, 48.8, 2.4, 48.9], geometry: null }), box);
    assert.deepEqual(parseArea({ bbox: [2.3, 48.8, -10, 2.4, 48.9, 100] }), box);
    assert.deepEqual(parseArea('{"type":"Polygon","bbox":[2.3,48.8,2.4,48.9],"coordinates":[]}'), box);
  });

  it('takes the extent of every geometry type', () => {
    const ring = [[2.3, 48.8], [2.4, 48.8], [2.4, 48.9], [2.3, 48.9], [2.3, 48.8]];
    assert.deepEqual(parseArea({ type: 'Polygon', coordinates: [ring] }), box);
    assert.deepEqual(parseArea({ type: 'MultiPolygon', coordinates: [[ring], [[[0, 0], [1, 0], [1, 1], [0, 0]]]] }), [[0, 0, 2.4, 48.9]]);
    assert.deepEqual(parseArea({ type: 'LineString', coordinates: [[2.3, 48.8], [2.4, 48.9, 35]] }), box);
    assert.deepEqual(parseArea({ type: 'MultiLineString', coordinates: [[[2.3, 48.9], [2.35, 48.85]], [[2.4, 48.8]]] }), box);
    assert.deepEqual(parseArea({ type: 'MultiPoint', coordinates: [[2.4, 48.8], [2.3, 48.9]] }), box);
    assert.deepEqual(parseArea({
      type: 'GeometryCollection',
      geometries: [{ type: 'Point', coordinates: [2.3, 48.8] }, { type: 'Point', coordinates: [2.4, 48.9] }],
    }), box);
  });

  it('uses a Feature geometry, and a FeatureCollection extent (nested bbox members included)', () => {
    const point = (lon: number, lat: number) => ({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [lon, lat] } });
    assert.deepEqual(parseArea({ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: [[2.3, 48.8], [2.4, 48.9]] } }), box);
    assert.deepEqual(parseArea({ type: 'FeatureCollection', features: [point(2.3, 48.9), point(2.4, 48.8)] }), box);
    assert.deepEqual(parseArea({
      type: 'FeatureCollection',
      features: [point(2.35, 48.85), { type: 'Feature', bbox: [2.3, 48.8, 2.4, 48.9], geometry: null }],
    }), box);
  });

  it('splits a box crossing the antimeridian in two', () => {
    assert.deepEqual(parseArea('170,-10,-170,10'), [[170, -10, 180, 10], [-180, -10, -170, 10]]);
    assert.deepEqual(parseArea({ bbox: [179, 0, -179, 1] }), [[179, 0, 180, 1], [-180, 0, -179, 1]]);
    assert.deepEqual(parseArea([170, 0, -180, 1]), [[170, 0, 180, 1]]);
    assert.deepEqual(parseArea([180, 0, -170, 1]), [[-180, 0, -170, 1]]);
  });

  it('accepts the full world', () => {
    assert.deepEqual(parseArea('-180,-90,180,90'), [[-180, -90, 180, 90]]);
  });

  it('rejects what is not an area, naming the field and what was expected', () => {
    rejects(null, /must be "minLon,minLat,maxLon,maxLat".*got null/);
    rejects(undefined, /got nothing/);
    rejects(42, /got 42/);
    rejects({}, /GeoJSON/);
    rejects({ type: 'Feature', properties: {} }, /GeoJSON/);
    rejects({ type: 'Feature', geometry: null }, /got null/);
    rejects({ type: 'Nonsense', coordinates: [0, 0] }, /Nonsense/);
    rejects([1, 2, 3], /array of 4 numbers.*\[1,2,3\]/);
    rejects([1, 2, 3, 4, 5], /array of 4 numbers/);
    rejects('1,2,3', /got "1,2,3"/);
    rejects('a,b,c,d', /got "a,b,c,d"/);
    rejects('', /got ""/);
    rejects('[1,2,3,', /got "\[1,2,3,"/);
    rejects([1, 2, Number.NaN, 4], /array of 4 numbers/);
    rejects(['1', '2', 'NaN', '4'], /array of 4 numbers/);
    rejects([1, 2, Infinity, 4], /array of 4 numbers/);
    rejects([1, 2, '', 4], /array of 4 numbers/);
    rejects({ bbox: [1, 2, 3] }, /bbox of 4 \(or 6 for 3D\) numbers/);
    rejects({ bbox: ['1', 2, 3, 4] }, /bbox of 4/);
    rejects({ type: 'Point', coordinates: ['x', 1] }, /positions are \[longitude, latitude\] numbers/);
    rejects({ type: 'Polygon', coordinates: [[1, 2]] }, /coordinate arrays/);
    rejects({ type: 'FeatureCollection', features: [] }, /at least one position/);
    rejects({ type: 'FeatureCollection' }, /features array/);
    rejects('x'.repeat(500), /got "x{60}"…$/);
  });

  it('rejects out-of-range and empty boxes', () => {
    rejects('-181,0,1,1', /longitudes from -180 to 180/);
    rejects('0,0,181,1', /longitudes from -180 to 180/);
    rejects('0,-91,1,1', /latitudes from -90 to 90/);
    rejects('0,0,1,90.5', /latitudes from -90 to 90/);
    rejects('0,2,1,1', /minLat below maxLat.*got "0,2,1,1"/);
    rejects('0,1,1,1', /has no area/);
    rejects('1,0,1,1', /has no area/);
    rejects('180,0,-180,1', /has no area/);
    rejects({ type: 'Point', coordinates: [2.3, 48.8] }, /has no area/);
    rejects({ type: 'LineString', coordinates: [[2.3, 48.8], [2.4, 48.8]] }, /has no area/);
  });

  it('names the field given by the caller', () => {
    rejects('nope', /^area of interest must be/, 'area of interest');
  });
});

describe('bbox helpers', () => {
  it('bboxArea is in square degrees', () => {
    assert.equal(bboxArea([0, 0, 2, 3]), 6);
    assert.ok(Math.abs(bboxArea([2.3, 48.8, 2.4, 48.9]) - 0.01) < 1e-12);
  });

  it('formatBBox uses the shortest round-trip form', () => {
    assert.equal(formatBBox([2.3, 48.8, 2.4, 48.9]), '2.3,48.8,2.4,48.9');
    assert.equal(formatBBox([0.1 + 0.2, -0, 1e-7, 180]), '0.30000000000000004,0,1e-7,180');
    const b = [0.1 + 0.2, 1 / 3, 2 / 3, 0.7] as const;
    assert.deepEqual(parseArea(formatBBox(b)), [b]);
  });

  it('containsPoint includes the edges', () => {
    const b = [0, 0, 1, 1] as const;
    assert.ok(containsPoint(b, 0, 0));
    assert.ok(containsPoint(b, 1, 1));
    assert.ok(containsPoint(b, 0.5, 0.5));
    assert.ok(!containsPoint(b, 1.0000001, 0.5));
    assert.ok(!containsPoint(b, 0.5, -0.0000001));
  });
});
