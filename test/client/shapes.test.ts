import assert from 'node:assert/strict';
import booleanIntersects from '@turf/boolean-intersects';
import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import { AREAS, world } from '../../sandbox/data';
import { useSandbox } from '../support';
import { duplicates, requestsTo, useClient } from './setup';

type Ring = number[][];
const sorted = (ids: string[]) => [...ids].sort();
const box = (w: number, s: number, e: number, n: number): Ring => [[w, s], [e, s], [e, n], [w, n], [w, s]];
/** The sandbox's ground truth: every image whose point is in the polygons (boundary in, holes out). */
const truthIn = (polygons: Ring[][]) => sorted(world.images
  .filter((image) => polygons.some((rings) => booleanPointInPolygon(image.geometry.coordinates, { type: 'Polygon', coordinates: rings })))
  .map((image) => image.id));
/** The cell of each image search request. */
const cellsAsked = (requests: { url: string }[]) => requests.map((r) => new URL(r.url, 'http://x').searchParams.get('bbox')!.split(',').map(Number));
const meets = (cell: number[], polygons: Ring[][]) => polygons.some((rings) => booleanIntersects(
  { type: 'Polygon', coordinates: [box(cell[0]!, cell[1]!, cell[2]!, cell[3]!)] }, { type: 'Polygon', coordinates: rings }));

describe('areas as shapes over HTTP: polygons with holes, multipolygons, the antimeridian, world map bounds', function () {
  this.timeout(60_000);
  const sandbox = useSandbox();
  const client = useClient(sandbox);

  // A triangle over the suburb with a square hole: most of its box lies outside it.
  const [W, S, E, N] = AREAS.suburb;
  const triangle: Ring = [[W, S], [E, S], [W, N], [W, S]];
  const hole: Ring = box(W + 0.05, S + 0.05, W + 0.12, S + 0.12);
  const district = [[triangle, hole]];

  it('a polygon with a hole: exactly the images inside, and no request for a cell outside it', async () => {
    const stream = client.searchImages({ bbox: { type: 'Feature', properties: { name: 'district' }, geometry: { type: 'Polygon', coordinates: district[0] } } });
    const items = await stream.toArray();
    const truth = truthIn(district);
    assert.ok(truth.length > 50 && truth.length < world.imagesIn(AREAS.suburb).length, `${truth.length} images in the triangle`);
    assert.deepEqual(duplicates(items.map((i) => i.id)), []);
    assert.deepEqual(sorted(items.map((i) => i.id)), truth);
    const asked = cellsAsked(requestsTo(sandbox, '/images'));
    assert.ok(asked.every((cell) => meets(cell, district)), 'every cell asked for meets the shape');
    assert.ok(stream.stats.cells!.skipped > 0, 'cells of the box outside the triangle are skipped');
    assert.ok(asked.length < 12, `${asked.length} requests, fewer than the 12 cells of the box`);
  });

  it('a MultiPolygon (and a FeatureCollection of polygons, as JSON text): each part, each image once', async () => {
    const dense = box(...AREAS.denseCentre);
    const parts = [[triangle, hole], [dense]];
    const multi = await client.searchImages({ bbox: { type: 'MultiPolygon', coordinates: parts }, limit: 500 }).toArray();
    assert.deepEqual(sorted(multi.map((i) => i.id)), truthIn(parts));
    const collection = JSON.stringify({
      type: 'FeatureCollection',
      features: parts.map((rings) => ({ type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: rings } })),
    });
    const fromText = await client.searchImages({ bbox: collection, limit: 500 }).toArray();
    assert.deepEqual(sorted(fromText.map((i) => i.id)), truthIn(parts));
  });

  it('a shape across the antimeridian, split at 180° as GeoJSON wants: two boxes, not a band round the world', async () => {
    const [w, s, e, n] = AREAS.antimeridian;
    const parts = [[box(w, s, 180, n)], [box(-180, s, e, n)]];
    const stream = client.searchImages({ bbox: { type: 'MultiPolygon', coordinates: parts } });
    const items = await stream.toArray();
    assert.deepEqual(sorted(items.map((i) => i.id)), truthIn(parts));
    assert.ok(items.length === world.imagesIn(AREAS.antimeridian as never).length);
    assert.ok(requestsTo(sandbox, '/images').length <= 4, 'a few cells, not thousands');
  });

  it('accepts the world map\'s bounds message, also panned across the antimeridian or round the world', async () => {
    const bounds = { action: 'bounds', south: S, west: W, north: N, east: E, zoom: 10 };
    const items = await client.searchImages({ bbox: bounds }).toArray();
    assert.deepEqual(sorted(items.map((i) => i.id)), sorted(world.imagesIn(AREAS.suburb).map((i) => i.id)));
    const [w, s, e, n] = AREAS.antimeridian;
    const across = await client.searchImages({ bbox: { action: 'bounds', south: s, west: w, north: n, east: e + 360 } }).toArray();
    assert.deepEqual(sorted(across.map((i) => i.id)), sorted(world.imagesIn(AREAS.antimeridian as never).map((i) => i.id)));
    const panned = await client.searchImages({ bbox: { action: 'bounds', south: S, west: W - 720, north: N, east: E - 720 } }).toArray();
    assert.equal(panned.length, items.length, 'a map panned twice round the world shows the same place');
    assert.throws(() => client.searchImages({ bbox: { action: 'bounds', south: 'x' } }), { code: 'MAPILLARY_INVALID_INPUT' });
  });

  it('plans only the cells that meet the shape: a thin corridor across a wide box is not refused', () => {
    // A diagonal corridor 0.001° wide across 3° x 3° (about 900 cells of its box); few cells meet it.
    const corridor = { type: 'Polygon', coordinates: [[[10, 50], [13, 53], [13.001, 53], [10.001, 50], [10, 50]]] };
    const stream = client.searchImages({ bbox: corridor }, { maxRequests: 200 });
    assert.ok(stream.stats.cells!.total < 200 && stream.stats.cells!.skipped > 500, JSON.stringify(stream.stats.cells));
    assert.throws(() => client.searchImages({ bbox: { type: 'Polygon', coordinates: [box(10, 50, 13, 53)] } }, { maxRequests: 200 }),
      { code: 'MAPILLARY_AREA_TOO_LARGE' });
  });

  it('a detailed outline over a wide box (too costly to plan cell by cell): cells placed on the way, skipped ones counted, every image inside once', async () => {
    // 15,000 corners around the suburb, 0.5° wide: 100 cells x 15,000 positions is over the planning budget.
    const n = 15_000;
    const ring = Array.from({ length: n }, (_, i) => [13.2 + 0.5 * Math.cos((2 * Math.PI * i) / n), 52.35 + 0.3 * Math.sin((2 * Math.PI * i) / n)]);
    ring.push(ring[0]!);
    const stream = client.searchImages({ bbox: { type: 'Polygon', coordinates: [ring] }, limit: 2000 });
    const planned = stream.stats.cells!.total;
    const items = await stream.toArray();
    assert.equal(stream.stats.cells!.skipped > 0, true, 'the corners of the box, outside the ellipse, were skipped on the way');
    const parts = stream.stats.cells!.total - planned + stream.stats.cells!.skipped;
    assert.ok(parts >= 2 * stream.stats.cellsSplit, `the plan grew by the parts of each cut cell (at least two each), and shrank by the cells skipped: ${planned} ${JSON.stringify(stream.stats)}`);
    assert.equal(stream.stats.cells!.done, stream.stats.cells!.total, 'every cell of the plan was answered');
    assert.deepEqual(duplicates(items.map((i) => i.id)), []);
    assert.deepEqual(sorted(items.map((i) => i.id)), truthIn([[ring]]));
  });

  it('refuses polygons it cannot read, before any request', () => {
    for (const bad of [
      { type: 'Polygon', coordinates: [[[0, 0], [1, 1]]] },
      { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]], 'x'] },
      { type: 'Polygon', coordinates: [[[0, 0], [200, 0], [1, 1], [0, 0]]] },
      { type: 'MultiPolygon', coordinates: 'x' },
      { type: 'Polygon', coordinates: [[[1, 1], [1, 1], [1, 1], [1, 1]]] },
    ]) {
      assert.throws(() => client.searchImages({ bbox: bad }), { code: 'MAPILLARY_INVALID_INPUT' }, JSON.stringify(bad));
    }
    assert.equal(sandbox.requests.length, 0);
  });
});
