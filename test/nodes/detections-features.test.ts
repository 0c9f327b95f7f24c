import assert from 'node:assert/strict';
import { AREAS, world } from '../../sandbox/data';
import { useSandbox } from '../support';
import { allNodes, collect, helper, runtimeVersion, sandboxConfig, splitJoinNodes, statusTexts, useNodeRed } from './setup';

const sorted = (ids: string[]) => [...ids].sort();

describe(`mapillary-detections and mapillary-features in Node-RED ${runtimeVersion}`, function () {
  this.timeout(60_000);
  const sandbox = useSandbox();
  useNodeRed();

  async function load(flow: Record<string, unknown>[], apiVersion: 'v4' | 'v3' = 'v4') {
    const config = sandboxConfig(sandbox, apiVersion);
    await helper.load([...allNodes, splitJoinNodes], [config.node, ...flow, { id: 'out', type: 'helper' }, { id: 'done', type: 'helper' }], config.credentials);
  }

  const withDetections = () => world.images.filter((i) => i.detections.length > 0).slice(0, 3);

  it('detections: one page per image for an array of ids, each page naming its image', async () => {
    await load([{ id: 'd1', type: 'mapillary-detections', mapillary: 'cfg', source: 'payload', sourceType: 'msg', output: 'page', maxItems: 0, wires: [['out'], ['done']] }]);
    const images = withDetections();
    const run = collect();
    helper.getNode('d1').receive({ payload: images.map((i) => i.id) });
    const { out, done } = await run;
    assert.deepEqual(out.map((m) => m.mapillary.source), images.map((i) => i.id));
    out.forEach((m, i) => assert.deepEqual(sorted(m.payload.map((d: { id: string }) => d.id)), sorted(images[i]!.detections.map((d) => d.id))));
    assert.equal(done.payload.items, images.reduce((n, i) => n + i.detections.length, 0));
  });

  it('detections: an image without detections still gets its (empty) page', async () => {
    await load([{ id: 'd1', type: 'mapillary-detections', mapillary: 'cfg', source: 'payload', sourceType: 'msg', output: 'page', maxItems: 0, wires: [['out'], ['done']] }]);
    const none = world.images.find((i) => i.detections.length === 0)!;
    const some = withDetections()[0]!;
    const run = collect();
    helper.getNode('d1').receive({ payload: `${none.id},${some.id}` });
    const { out } = await run;
    assert.deepEqual(out.map((m) => [m.mapillary.source, m.payload.length]), [[none.id, 0], [some.id, some.detections.length]]);
  });

  it('detections: chained after the images node (per item), decoding polygons in pixels', async () => {
    const image = withDetections()[0]!;
    await load([
      { id: 'i1', type: 'mapillary-images', mapillary: 'cfg', bbox: '', output: 'item', fields: ['id', 'geometry', 'width', 'height'], maxItems: 0, wires: [['d1'], []] },
      { id: 'd1', type: 'mapillary-detections', mapillary: 'cfg', source: 'payload', sourceType: 'msg', geometry: 'pixels', output: 'item', format: 'geojson', maxItems: 0, wires: [['out'], ['done']] },
    ]);
    const run = collect();
    helper.getNode('i1').receive({ bbox: [image.geometry.coordinates[0] - 1e-7, image.geometry.coordinates[1] - 1e-7, image.geometry.coordinates[0] + 1e-7, image.geometry.coordinates[1] + 1e-7] });
    const { out } = await run;
    const mine = out.filter((m) => m.payload.properties.image.id === image.id);
    assert.equal(mine.length, image.detections.length);
    for (const m of mine) {
      assert.equal(m.payload.type, 'Feature');
      assert.deepEqual(m.payload.geometry, image.geometry, 'a detection is placed at its image');
      const polygon = m.payload.properties.polygon;
      assert.equal(polygon.type, 'Polygon');
      for (const [x, y] of polygon.normalized[0]) assert.ok(x >= 0 && x <= 1 && y >= 0 && y <= 1);
      const [[px, py]] = polygon.pixels[0];
      const [[nx, ny]] = polygon.normalized[0];
      assert.ok(Math.abs(px - nx * image.width) < 1e-6 && Math.abs(py - ny * image.height) < 1e-6);
    }
    assert.ok(!sandbox.requests.some((r) => r.url.includes('fields=width')), 'sizes came with the items, no extra request');
  });

  it('detections: fetches image sizes for map-feature detections when pixels are wanted', async () => {
    const feature = world.mapFeatures.find((f) => f.detections.length > 1)!;
    await load([{ id: 'd1', type: 'mapillary-detections', mapillary: 'cfg', source: 'payload', sourceType: 'msg', geometry: 'pixels', output: 'page', maxItems: 0, wires: [['out'], ['done']] }]);
    const run = collect();
    helper.getNode('d1').receive({ payload: { id: feature.id, object_value: feature.object_value } });
    const { out } = await run;
    const detections = out.flatMap((m) => m.payload);
    assert.equal(detections.length, feature.detections.length);
    for (const d of detections) {
      const image = world.image(d.image.id)!;
      assert.ok(Math.abs(d.polygon.pixels[0][0][0] - d.polygon.normalized[0][0][0] * image.width) < 1e-6);
    }
  });

  it('detections (v3): by area and layer, Link-paged', async () => {
    await load([{ id: 'd1', type: 'mapillary-detections', mapillary: 'cfg', source: 'none', sourceType: 'msg', bbox: AREAS.suburb.join(','), layers: 'trafficsigns', output: 'page', maxItems: 0, wires: [['out'], ['done']] }], 'v3');
    const run = collect();
    helper.getNode('d1').receive({});
    const { out, done } = await run;
    const features = out.flatMap((m) => m.payload);
    assert.ok(features.length > 0);
    assert.ok(features.every((f: { properties: { layer: string } }) => f.properties.layer === 'trafficsigns'));
    assert.equal(done.payload.ended, 'complete');
    assert.ok(sandbox.requests.every((r) => r.url.startsWith('/v3/image_detections') && r.url.includes('sort_by=key')));
  });

  it('detections: an input without ids is a coded error', async () => {
    await load([{ id: 'd1', type: 'mapillary-detections', mapillary: 'cfg', source: 'payload', sourceType: 'msg', wires: [['out'], ['done']] }]);
    const run = collect();
    helper.getNode('d1').receive({ payload: [{ nothing: true }] });
    const { done } = await run;
    assert.equal(done.payload.error.code, 'MAPILLARY_INVALID_INPUT');
    assert.equal(statusTexts(helper.getNode('d1')).at(-1), 'mapillary-detections.status.error');
    assert.equal(helper.getNode('d1').status.lastCall.args[0].fill, 'red');
  });

  it('features: map features in an area with a wildcard filter, per item into Join', async () => {
    await load([
      { id: 'f1', type: 'mapillary-features', mapillary: 'cfg', bbox: AREAS.denseCentre.join(','), objectValues: 'regulatory--*', output: 'item', format: 'geojson', maxItems: 0, wires: [['out', 'joiner'], ['done']] },
      { id: 'joiner', type: 'join', mode: 'auto', build: 'array', property: 'payload', propertyType: 'msg', timeout: '', count: '', wires: [['joined']] },
      { id: 'joined', type: 'helper' },
    ]);
    const joined = new Promise<Record<string, any>>((resolve) => helper.getNode('joined').on('input', resolve));
    helper.getNode('f1').receive({});
    const set = await joined;
    const truth = world.mapFeaturesIn(AREAS.denseCentre).filter((f) => f.object_value.startsWith('regulatory--'));
    assert.deepEqual(sorted(set.payload.map((f: { id: string }) => f.id)), sorted(truth.map((f) => f.id)));
    assert.ok(set.payload.every((f: { type: string; properties: { object_value: string } }) => f.type === 'Feature' && f.properties.object_value.startsWith('regulatory--')));
  });

  it('features (v3): by area and layer', async () => {
    await load([{ id: 'f1', type: 'mapillary-features', mapillary: 'cfg', bbox: AREAS.denseCentre.join(','), layers: 'trafficsigns', output: 'page', maxItems: 0, wires: [['out'], ['done']] }], 'v3');
    const run = collect();
    helper.getNode('f1').receive({});
    const { out } = await run;
    const keys = out.flatMap((m) => m.payload.map((f: { properties: { key: string } }) => f.properties.key));
    const truth = world.mapFeaturesIn(AREAS.denseCentre).filter((f) => f.object_type === 'trafficsign').map((f) => world.v3Key(f.id));
    assert.deepEqual(sorted(keys), sorted(truth));
  });

  it('features: first-seen range from msg when the node leaves it empty', async () => {
    await load([{ id: 'f1', type: 'mapillary-features', mapillary: 'cfg', bbox: AREAS.suburb.join(','), startFirstSeenAt: '', wires: [['out'], ['done']] }]);
    const run = collect();
    helper.getNode('f1').receive({ startFirstSeenAt: '2020-06-01' });
    await run;
    assert.ok(sandbox.requests.every((r) => new URL(r.url, sandbox.origin).searchParams.get('start_first_seen_at') === '2020-06-01T00:00:00.000Z'));
  });
});
