import assert from 'node:assert/strict';
import type { GraphItem } from '../../src/endpoints/v4';
import type { MapillaryError } from '../../src/errors';
import type { HarvestWarning } from '../../src/paging/walk';
import { AREAS, world } from '../../sandbox/data';
import { useSandbox } from '../support';
import { duplicates, requestsTo, useClient } from './setup';

const sorted = (ids: string[]) => [...ids].sort();

describe('area harvest over HTTP (v4 images and map features)', function () {
  this.timeout(60_000);
  const sandbox = useSandbox();
  const client = useClient(sandbox);

  it('returns every image of the dense centre exactly once, with faults on a tenth of the requests', async () => {
    sandbox.randomFaults({ rate: 0.1, seed: 7, kinds: ['429', '403-4', '5xx', 'reset', 'malformed', 'truncated', '500-1'], retryAfter: 0 });
    const retries: string[] = [];
    // 100 items per request: hundreds of requests and cells, so the tenth that fail are many, of every kind.
    const stream = client.searchImages({ bbox: AREAS.denseCentre, fields: ['id', 'captured_at'], limit: 100 }, { onRetry: (r) => retries.push(r.error.code) });
    const ids: string[] = [];
    for await (const page of stream) {
      for (const item of page.items) {
        assert.equal(item.geometry, undefined, 'geometry was asked for only to place items, and removed again');
        assert.equal(typeof item.captured_at, 'number');
        ids.push(item.id);
      }
    }
    const truth = world.imagesIn(AREAS.denseCentre).map((image) => image.id);
    assert.ok(truth.length > 2000 * 2, `the dense centre holds ${truth.length} images`);
    assert.deepEqual(duplicates(ids), [], 'no image twice');
    assert.deepEqual(sorted(ids), sorted(truth), 'every image of the ground truth');
    const { faults, requests } = sandbox.stats();
    const served = Object.values(faults).reduce((a, b) => a + b, 0);
    assert.ok(requests > 100 && served >= requests * 0.05, `${served} faults in ${requests} requests`);
    assert.ok(Object.values(faults).filter((n) => n > 0).length >= 4, `several kinds of fault: ${JSON.stringify(faults)}`);
    assert.ok(stream.stats.retries > 0 && retries.length === stream.stats.retries);
    assert.ok(stream.stats.cellsSplit > 0, 'dense cells were split');
    assert.deepEqual(stream.stats.warnings, []);
    assert.equal(stream.stats.items, truth.length);
    assert.equal(stream.stats.ended, 'complete');
  });

  it('keeps an image lying on a shared cell edge once (edge images exist in the sandbox)', async () => {
    const truth = world.imagesIn(AREAS.denseCentre);
    const onEdge = truth.filter((image) => {
      const [lon, lat] = image.geometry.coordinates;
      return [13.405, 13.41, 13.415].includes(lon!) || [52.5125, 52.515, 52.5175].includes(lat!);
    });
    assert.ok(onEdge.length > 0, 'the sandbox has images exactly on split lines');
    const ids = (await client.searchImages({ bbox: AREAS.denseCentre }).toArray()).map((i) => i.id);
    for (const image of onEdge) assert.equal(ids.filter((id) => id === image.id).length, 1, `edge image ${image.id}`);
  });

  it('walks a sparse area of many cells and an empty one', async () => {
    const items = await client.searchImages({ bbox: AREAS.suburb.join(',') }).toArray();
    assert.deepEqual(sorted(items.map((i) => i.id)), sorted(world.imagesIn(AREAS.suburb).map((i) => i.id)));
    assert.ok(requestsTo(sandbox, '/images').length > 1, 'the suburb spans several cells');
    const sea = client.searchImages({ bbox: AREAS.sea });
    assert.deepEqual(await sea.toArray(), []);
    assert.equal(sea.stats.pages, 0);
  });

  it('splits a box across the antimeridian and finds images on both sides', async () => {
    const items = await client.searchImages({ bbox: AREAS.antimeridian }).toArray();
    const lons = items.map((i) => i.geometry!.coordinates[0]!);
    assert.ok(lons.some((lon) => lon > 179) && lons.some((lon) => lon < -179));
    const [minLon, minLat, maxLon, maxLat] = AREAS.antimeridian;
    const truth = [...world.imagesIn([minLon, minLat, 180, maxLat]), ...world.imagesIn([-180, minLat, maxLon, maxLat])];
    assert.deepEqual(sorted(items.map((i) => i.id)), sorted(truth.map((i) => i.id)));
    for (const r of requestsTo(sandbox, '/images')) {
      const [a, , c] = new URL(r.url, sandbox.origin).searchParams.get('bbox')!.split(',').map(Number);
      assert.ok(a! < c!, 'every box sent has minLon < maxLon');
    }
  });

  it('reports a cell that cannot be split and came back full as possibly truncated', async () => {
    const seen: HarvestWarning[] = [];
    const stream = client.searchImages({ bbox: AREAS.hotspot }, { onWarning: (w) => seen.push(w) });
    const pages = [];
    for await (const page of stream) pages.push(page);
    assert.ok(seen.length >= 1);
    assert.equal(seen[0]!.code, 'MAPILLARY_POSSIBLY_TRUNCATED');
    assert.match(seen[0]!.message, /may be incomplete/);
    assert.ok(pages.some((p) => p.warnings.length > 0 && p.items.length > 0), 'the warning travels with the page it concerns');
    assert.deepEqual(stream.stats.warnings, seen);
  });

  it('stops at maxItems with exactly that many items, and cancels the rest', async () => {
    const stream = client.searchImages({ bbox: AREAS.denseCentre }, { maxItems: 2500 });
    const items = await stream.toArray();
    assert.equal(items.length, 2500);
    assert.equal(new Set(items.map((i) => i.id)).size, 2500);
    assert.equal(stream.stats.ended, 'max-items');
  });

  it('refuses up front, with MAPILLARY_AREA_TOO_LARGE and no request, an area with more cells than maxRequests', () => {
    assert.throws(() => client.searchImages({ bbox: AREAS.suburb }, { maxRequests: 11 }), (error: MapillaryError) => {
      assert.equal(error.code, 'MAPILLARY_AREA_TOO_LARGE');
      assert.match(error.message, /at least 12 requests \(12 cells/);
      assert.match(error.message, /max requests \(11\)/);
      assert.doesNotMatch(error.message, /antimeridian/);
      return true;
    });
    // Longitudes swapped: read as a band across the antimeridian, with the hint.
    assert.throws(() => client.searchImages({ bbox: [10, 50, -10, 51] }, { maxRequests: 100 }), /crossing the antimeridian \(minLon 10 is greater than maxLon -10\), 340° wide: were the longitudes swapped/);
    assert.throws(() => client.searchImages({ bbox: [-180, -90, 180, 90] }), /cells of under 0.01 square degrees\), more than max requests \(10,000\)/);
    assert.equal(requestsTo(sandbox, '/images').length, 0);
  });

  it('fails with MAPILLARY_REQUEST_LIMIT at maxRequests, after the pages already given', async () => {
    // The plan fits (12 cells), but a full cell would need splitting: the cap is reached on the way.
    const stream = client.searchImages({ bbox: AREAS.suburb, limit: 20 }, { maxRequests: 14, concurrency: 1 });
    const got: GraphItem[] = [];
    await assert.rejects(async () => {
      for await (const page of stream) got.push(...page.items);
    }, { code: 'MAPILLARY_REQUEST_LIMIT' });
    // Searches and the coverage tiles asked to size dense cells count alike.
    assert.equal(requestsTo(sandbox, '/images').length + sandbox.requests.filter((r) => r.url.startsWith('/tiles/')).length, 14);
    assert.equal(stream.stats.ended, 'error');
    assert.ok(got.length > 0, 'pages sent before the limit stay valid');
  });

  it('harvests map features with a wildcard filter, each once', async () => {
    const items = await client.searchMapFeatures({ bbox: AREAS.denseCentre, objectValues: 'regulatory--*' }).toArray();
    const truth = world.mapFeaturesIn(AREAS.denseCentre).filter((f) => f.object_value.startsWith('regulatory--'));
    assert.ok(truth.length > 0);
    assert.deepEqual(sorted(items.map((i) => i.id)), sorted(truth.map((f) => f.id)));
    for (const item of items) assert.match(String(item.object_value), /^regulatory--/);
  });

  it('sends filters with every cell and no token in any URL', async () => {
    await client.searchImages({ bbox: AREAS.suburb, startCapturedAt: '2018-01-01', endCapturedAt: '2020-12-31T23:59:59Z', isPano: false }).toArray();
    const sent = requestsTo(sandbox, '/images');
    assert.ok(sent.length > 1);
    for (const r of sent) {
      const q = new URL(r.url, sandbox.origin).searchParams;
      assert.equal(q.get('start_captured_at'), '2018-01-01T00:00:00.000Z');
      assert.equal(q.get('end_captured_at'), '2020-12-31T23:59:59.000Z');
      assert.equal(q.get('is_pano'), 'false');
      assert.equal(q.get('access_token'), null);
      assert.ok(!r.url.includes('MLY'), 'no token in the URL');
      assert.equal(r.headers.authorization, 'OAuth MLY|4242|sandbox-client-token');
    }
  });

  it('rejects bad areas and dates with coded errors before sending anything', async () => {
    const bad: [unknown, RegExp][] = [
      ['13.4,52.5,13.5', /bbox/],
      [[13.4, 52.5, 13.5, 'x'], /bbox/],
      ['13.4,95,13.5,96', /lat/i],
      ['13.4,52.6,13.5,52.5', /bbox/],
      [{ type: 'Point', coordinates: [13.4, 52.5] }, /area/],
    ];
    for (const [bbox, message] of bad) {
      assert.throws(() => client.searchImages({ bbox }), (e: Error & { code?: string }) => e.code === 'MAPILLARY_INVALID_INPUT' && message.test(e.message), String(bbox));
    }
    assert.throws(() => client.searchImages({ bbox: AREAS.suburb, startCapturedAt: '2021-02-30' }), { code: 'MAPILLARY_INVALID_INPUT' });
    assert.throws(() => client.searchImages({ bbox: AREAS.suburb, startCapturedAt: '2022-01-01', endCapturedAt: '2021-01-01' }), { code: 'MAPILLARY_INVALID_INPUT' });
    assert.throws(() => client.searchImages({}), { code: 'MAPILLARY_INVALID_INPUT' });
    assert.throws(() => client.searchMapFeatures({ bbox: AREAS.suburb, objectValues: 'x&y' }), { code: 'MAPILLARY_INVALID_INPUT' });
    assert.equal(sandbox.requests.length, 0);
  });
});
