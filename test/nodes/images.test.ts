import assert from 'node:assert/strict';
import { AREAS, SANDBOX_CREDENTIALS, world } from '../../sandbox/data';
import { useSandbox } from '../support';
import { allNodes, collect, helper, runtimeVersion, sandboxConfig, splitJoinNodes, statusTexts, useNodeRed } from './setup';

const sorted = (ids: string[]) => [...ids].sort();
const truthIds = (bbox: readonly number[]) => sorted(world.imagesIn(bbox as [number, number, number, number]).map((i) => i.id));

describe(`mapillary-images in Node-RED ${runtimeVersion}`, function () {
  this.timeout(60_000);
  const sandbox = useSandbox();
  useNodeRed();

  async function load(node: Record<string, unknown>, apiVersion: 'v4' | 'v3' = 'v4', extra: unknown[] = []) {
    const config = sandboxConfig(sandbox, apiVersion);
    await helper.load([...allNodes, splitJoinNodes], [
      config.node,
      { id: 'n1', type: 'mapillary-images', mapillary: 'cfg', bboxType: 'str', output: 'page', format: 'json', maxItems: 0, wires: [['out'], ['done']], ...node },
      { id: 'out', type: 'helper' },
      { id: 'done', type: 'helper' },
      ...extra,
    ], config.credentials);
  }

  it('sends one message per page (v4), then a summary on output 2, with a status sequence', async () => {
    await load({ bbox: AREAS.suburb.join(',') });
    const run = collect();
    helper.getNode('n1').receive({ payload: 'go', topic: 'suburb' });
    const { out, done } = await run;
    assert.ok(out.length > 1, 'several pages');
    const ids = out.flatMap((m) => (m.payload as { id: string }[]).map((i) => i.id));
    assert.deepEqual(sorted(ids), truthIds(AREAS.suburb));
    assert.ok(out.every((m) => m.topic === 'suburb' && Array.isArray(m.mapillary.bbox) && m.parts === undefined));
    assert.equal(done.topic, 'suburb');
    assert.equal(done.payload.items, ids.length);
    assert.equal(done.payload.pages, out.length);
    assert.equal(done.payload.ended, 'complete');
    assert.ok(done.payload.requests >= out.length && typeof done.payload.durationMs === 'number');
    const texts = statusTexts(helper.getNode('n1'));
    assert.equal(texts[0], 'mapillary-images.status.starting');
    assert.ok(texts.includes('mapillary-images.status.cells'), 'an area harvest counts its cells');
    assert.equal(texts.at(-1), 'mapillary-images.status.done');
  });

  it('sends one message per item with msg.parts, and a Join node in automatic mode rebuilds the set', async () => {
    await load({ bbox: JSON.stringify(AREAS.suburb), bboxType: 'json', output: 'item', wires: [['out', 'joiner'], ['done']] }, 'v4', [
      { id: 'joiner', type: 'join', mode: 'auto', build: 'array', property: 'payload', propertyType: 'msg', timeout: '', count: '', wires: [['joined']] },
      { id: 'joined', type: 'helper' },
    ]);
    const joined = new Promise<Record<string, any>>((resolve) => helper.getNode('joined').on('input', resolve));
    const run = collect();
    helper.getNode('n1').receive({ payload: 1 });
    const { out } = await run;
    const truth = truthIds(AREAS.suburb);
    assert.equal(out.length, truth.length);
    assert.ok(out.every((m, i) => m.parts.index === i && m.parts.id === out[0]!.parts.id && m.parts.type === 'array'));
    assert.equal(out.at(-1)!.parts.count, truth.length, 'the last message carries the count');
    const set = await joined;
    assert.deepEqual(sorted((set.payload as { id: string }[]).map((i) => i.id)), truth);
  });

  it('shapes GeoJSON: a FeatureCollection per page, a Feature per item', async () => {
    await load({ bbox: AREAS.antimeridian.join(','), format: 'geojson' });
    let run = collect();
    helper.getNode('n1').receive({});
    let { out } = await run;
    assert.ok(out.length >= 2, 'one page per side of the antimeridian');
    for (const m of out) {
      assert.equal(m.payload.type, 'FeatureCollection');
      for (const f of m.payload.features) {
        assert.equal(f.type, 'Feature');
        assert.equal(f.geometry.type, 'Point');
        assert.equal(typeof f.id, 'string');
        assert.equal(typeof f.properties.captured_at, 'number');
      }
    }
    await helper.unload();
    await load({ bbox: AREAS.antimeridian.join(','), format: 'geojson', output: 'item' });
    run = collect();
    helper.getNode('n1').receive({});
    ({ out } = await run);
    assert.ok(out.length > 0 && out.every((m) => m.payload.type === 'Feature'));
  });

  it('takes the area from msg.bbox or msg.payload only when the node leaves it empty', async () => {
    await load({ bbox: '' });
    let run = collect();
    helper.getNode('n1').receive({ bbox: AREAS.antimeridian });
    assert.equal((await run).done.payload.items, truthIds([AREAS.antimeridian[0], AREAS.antimeridian[1], 180, AREAS.antimeridian[3]]).length
      + truthIds([-180, AREAS.antimeridian[1], AREAS.antimeridian[2], AREAS.antimeridian[3]]).length);
    await helper.unload();

    await load({ bbox: '' });
    run = collect();
    const [w, s, e, n] = AREAS.suburb;
    helper.getNode('n1').receive({ payload: { type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [[[w, s], [e, s], [e, n], [w, n], [w, s]]] } } });
    assert.equal((await run).done.payload.items, truthIds(AREAS.suburb).length);
    await helper.unload();

    await load({ bbox: AREAS.sea.join(','), startCapturedAt: '2019-01-01' });
    run = collect();
    helper.getNode('n1').receive({ bbox: AREAS.suburb, startCapturedAt: '2015-01-01', endCapturedAt: '2020-01-01' });
    assert.equal((await run).done.payload.items, 0, 'the node setting wins over msg.bbox');
    const q = new URL(sandbox.requests.at(-1)!.url, sandbox.origin).searchParams;
    assert.equal(q.get('start_captured_at'), '2019-01-01T00:00:00.000Z', 'the node setting wins');
    assert.equal(q.get('end_captured_at'), '2020-01-01T00:00:00.000Z', 'an empty setting is filled from msg');
  });

  it('reads the area from msg, flow or env TypedInputs', async () => {
    process.env.MAPILLARY_TEST_AREA = AREAS.suburb.join(',');
    try {
      await load({ bbox: 'MAPILLARY_TEST_AREA', bboxType: 'env' });
      let run = collect();
      helper.getNode('n1').receive({});
      assert.equal((await run).done.payload.items, truthIds(AREAS.suburb).length);
      await helper.unload();
      await load({ bbox: 'req.area', bboxType: 'msg' });
      run = collect();
      helper.getNode('n1').receive({ req: { area: AREAS.suburb.join(',') } });
      assert.equal((await run).done.payload.items, truthIds(AREAS.suburb).length);
    } finally {
      delete process.env.MAPILLARY_TEST_AREA;
    }
  });

  it('takes a world map\'s bounds message in msg.payload as the area, and a district polygon with the cells it skipped', async () => {
    await load({ bbox: '' });
    const [W, S, E, N] = AREAS.suburb;
    let run = collect();
    // What node-red-contrib-web-worldmap sends when the user pans or zooms.
    helper.getNode('n1').receive({ payload: { action: 'bounds', south: S, west: W, north: N, east: E, zoom: 11 }, topic: 'worldmap' });
    let { out, done } = await run;
    assert.deepEqual(sorted(out.flatMap((m) => (m.payload as { id: string }[]).map((i) => i.id))), truthIds(AREAS.suburb));
    assert.equal(done.payload.cellsSkipped, 0);
    assert.equal(done.payload.cellsPlanned, 12);

    await helper.unload();
    await load({ bbox: '' });
    const triangle = { type: 'Feature', properties: { name: 'district' }, geometry: { type: 'Polygon', coordinates: [[[W, S], [E, S], [W, N], [W, S]]] } };
    run = collect();
    helper.getNode('n1').receive({ payload: triangle });
    ({ out, done } = await run);
    const inside = world.imagesIn(AREAS.suburb).filter((i) => {
      const [x, y] = i.geometry.coordinates;
      return (x - W) / (E - W) + (y - S) / (N - S) <= 1;
    });
    assert.deepEqual(sorted(out.flatMap((m) => (m.payload as { id: string }[]).map((i) => i.id))), sorted(inside.map((i) => i.id)));
    assert.ok(done.payload.cellsSkipped > 0 && done.payload.cellsPlanned < 12, JSON.stringify(done.payload));
    assert.ok(out.every((m) => Array.isArray(m.mapillary.bbox)), 'each page names its cell');
  });

  it('counts dense cells with coverage tiles (client token in the URL), says how many in the summary, and asks none with Tiles off', async () => {
    await load({ bbox: AREAS.denseCentre.join(','), fields: ['id'] });
    let run = collect();
    helper.getNode('n1').receive({});
    let { out, done } = await run;
    assert.deepEqual(sorted(out.flatMap((m) => (m.payload as { id: string }[]).map((i) => i.id))), truthIds(AREAS.denseCentre));
    const tiles = sandbox.requests.filter((r) => r.url.startsWith('/tiles/'));
    assert.ok(tiles.length > 0 && done.payload.tileRequests === tiles.length, JSON.stringify(done.payload));
    assert.equal(done.payload.requests, tiles.length + sandbox.requests.filter((r) => r.url.startsWith('/graph/images')).length);
    assert.ok(tiles.every((r) => new URL(r.url, 'http://x').searchParams.get('access_token') === SANDBOX_CREDENTIALS.clientToken));
    await helper.unload();
    sandbox.resetLog();

    await load({ bbox: AREAS.denseCentre.join(','), fields: ['id'], coverageTiles: false });
    run = collect();
    helper.getNode('n1').receive({});
    ({ out, done } = await run);
    assert.deepEqual(sorted(out.flatMap((m) => (m.payload as { id: string }[]).map((i) => i.id))), truthIds(AREAS.denseCentre));
    assert.equal(done.payload.tileRequests, 0);
    assert.equal(sandbox.requests.filter((r) => r.url.startsWith('/tiles/')).length, 0);
  });

  it('walks the legacy v3 API when the config says v3', async () => {
    await load({ bbox: AREAS.suburb.join(',') }, 'v3');
    const run = collect();
    helper.getNode('n1').receive({});
    const { out, done } = await run;
    const keys = out.flatMap((m) => (m.payload as { properties: { key: string } }[]).map((f) => f.properties.key));
    assert.deepEqual(sorted(keys), sorted(world.imagesIn(AREAS.suburb).map((i) => world.v3Key(i.id))));
    assert.equal(done.payload.ended, 'complete');
    assert.ok(sandbox.requests.every((r) => r.url.startsWith('/v3/images')));
  });

  it('caps items at maxItems (msg.maxItems fills an empty setting)', async () => {
    await load({ bbox: AREAS.denseCentre.join(','), maxItems: '' });
    const run = collect();
    helper.getNode('n1').receive({ maxItems: 123 });
    const { out, done } = await run;
    assert.equal(out.flatMap((m) => m.payload).length, 123);
    assert.equal(done.payload.ended, 'max-items');
  });

  it('reports bad input to Catch with a stable code, via done(err), and a summary with the error', async () => {
    await load({ bbox: '' }, 'v4', [
      { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ]);
    const caught = new Promise<Record<string, any>>((resolve) => helper.getNode('caught').on('input', resolve));
    const run = collect();
    helper.getNode('n1').receive({ payload: 'not an area', bbox: '1,2,3' });
    const [{ out, done }, error] = await Promise.all([run, caught]);
    assert.equal(out.length, 0);
    assert.equal(error.error.code, 'MAPILLARY_INVALID_INPUT');
    assert.match(error.error.message, /bbox/);
    assert.equal(error.error.source.id, 'n1');
    assert.equal(done.payload.ended, 'error');
    assert.equal(done.payload.error.code, 'MAPILLARY_INVALID_INPUT');
    assert.equal(statusTexts(helper.getNode('n1')).at(-1), 'mapillary-images.status.error');
    assert.equal(helper.getNode('n1').status.lastCall.args[0].fill, 'red');
  });

  it('keeps pages already sent when a later request fails, and the error names no token', async () => {
    await load({ bbox: AREAS.suburb.join(','), output: 'page' }, 'v4', [
      { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ]);
    // The first request succeeds, every later one is refused with 401 code 190.
    sandbox.inject({ kind: 'slow', delayMs: 1, path: '/images' });
    sandbox.inject({ kind: '401-190', path: '/images', times: 1000 });
    const caught = new Promise<Record<string, any>>((resolve) => helper.getNode('caught').on('input', resolve));
    const run = collect();
    helper.getNode('n1').receive({});
    const [{ out, done }, error] = await Promise.all([run, caught]);
    assert.equal(error.error.code, 'MAPILLARY_AUTH');
    assert.ok(!JSON.stringify(error).includes('sandbox-client-token'));
    assert.ok(!JSON.stringify(done).includes('sandbox-client-token'));
    assert.ok(out.length <= 1);
    assert.equal(done.payload.items, out.flatMap((m) => m.payload).length);
  });

  it('calls done exactly once per input: Complete sees each success, Catch each failure', async () => {
    await load({ bbox: '' }, 'v4', [
      { id: 'completer', type: 'complete', scope: ['n1'], uncaught: false, wires: [['completed']] },
      { id: 'completed', type: 'helper' },
      { id: 'catcher', type: 'catch', scope: ['n1'], uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ]);
    const completed: string[] = [];
    const caught: string[] = [];
    const summaries: string[] = [];
    helper.getNode('completed').on('input', (m: Record<string, any>) => completed.push(m.topic));
    helper.getNode('caught').on('input', (m: Record<string, any>) => caught.push(m.topic));
    const all = new Promise<void>((resolve) => helper.getNode('done').on('input', (m: Record<string, any>) => {
      summaries.push(m.topic);
      if (summaries.length === 3) resolve();
    }));
    helper.getNode('n1').receive({ topic: 'a', bbox: AREAS.antimeridian });
    helper.getNode('n1').receive({ topic: 'bad', bbox: '1,2' });
    helper.getNode('n1').receive({ topic: 'c', bbox: AREAS.sea });
    await all;
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(summaries, ['a', 'bad', 'c']);
    assert.deepEqual(completed, ['a', 'c']);
    assert.deepEqual(caught, ['bad']);
  });

  it('shows retrying in the status during back-off, then completes', async () => {
    await load({ bbox: AREAS.sea.join(',') });
    sandbox.inject({ kind: '429', path: '/images', retryAfter: 0 });
    const run = collect();
    helper.getNode('n1').receive({});
    const { done } = await run;
    assert.equal(done.payload.retries, 1);
    assert.ok(statusTexts(helper.getNode('n1')).includes('mapillary-images.status.retrying'));
  });

  it('queues a second input behind the first instead of interleaving', async () => {
    await load({ bbox: '', output: 'item' });
    const seen: string[] = [];
    const finished: string[] = [];
    helper.getNode('out').on('input', (m: Record<string, any>) => seen.push(m.topic));
    const both = new Promise<void>((resolve) => helper.getNode('done').on('input', (m: Record<string, any>) => {
      finished.push(m.topic);
      if (finished.length === 2) resolve();
    }));
    helper.getNode('n1').receive({ topic: 'a', bbox: AREAS.suburb });
    helper.getNode('n1').receive({ topic: 'b', bbox: AREAS.antimeridian });
    await both;
    assert.deepEqual(finished, ['a', 'b']);
    const firstB = seen.indexOf('b');
    assert.ok(firstB > 0 && seen.slice(0, firstB).every((t) => t === 'a') && seen.slice(firstB).every((t) => t === 'b'));
    assert.ok(statusTexts(helper.getNode('n1')).includes('mapillary-images.status.queued'));
  });

  it('aborts the harvest in flight on close and sends nothing afterwards', async () => {
    await load({ bbox: AREAS.suburb.join(','), output: 'item' });
    sandbox.inject({ kind: 'slow', path: '/images', delayMs: 1, times: 1 });
    sandbox.inject({ kind: 'slow', path: '/images', delayMs: 5000, times: 1000 });
    let after = 0;
    let closed = false;
    const first = new Promise<void>((resolve) => helper.getNode('out').on('input', () => {
      if (closed) after += 1;
      resolve();
    }));
    helper.getNode('done').on('input', () => {
      if (closed) after += 1;
    });
    helper.getNode('n1').receive({});
    await first;
    const started = Date.now();
    await helper.unload();
    closed = true;
    assert.ok(Date.now() - started < 4000, 'close did not wait for the slow requests');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(after, 0);
    for (let i = 0; i < 50 && (await sandbox.openConnections()) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await sandbox.openConnections(), 0, 'sockets released');
    await load({ bbox: AREAS.sea.join(',') }); // afterEach unloads
  });
});
