import assert from 'node:assert/strict';
import { AREAS } from '../../sandbox/data';
import { type Sandbox, startSandbox } from '../../sandbox/server';
import { allNodes, helper, runtimeVersion, sandboxConfig, statusTexts } from './setup';

/**
 * Hostile and careless input, inside a real Node-RED runtime: every case must end as a coded
 * error (or the documented result) within a bound, make no request when the input is invalid,
 * leave no unhandled rejection or uncaught exception behind, and leave the node serving the
 * next input. The bound is a hang guard, far above what a linear parser needs (the bench
 * measures that); a quadratic parser takes minutes on these inputs.
 */

const MB = 1_000_000;
const digits = (n: number) => '7'.repeat(n);
const nested = (depth: number): Record<string, unknown> => {
  let value: Record<string, unknown> = { leaf: true };
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
};
const deepGeoJson = (depth: number): unknown => {
  let value: unknown = { type: 'Point', coordinates: [13.4, 52.5] };
  for (let i = 0; i < depth; i++) value = { type: 'GeometryCollection', geometries: [value] };
  return value;
};
/** A circle of `n` corners around a point of the (empty) sea, `r` degrees wide. */
const circle = (n: number, r: number) => ({
  type: 'Polygon',
  coordinates: [[...Array.from({ length: n }, (_, i) => [3.1 + r * Math.cos((2 * Math.PI * i) / n), 54.1 + r * Math.sin((2 * Math.PI * i) / n)]), [3.1 + r, 54.1]]],
});
const points = (n: number) => ({ type: 'MultiPoint', coordinates: Array.from({ length: n }, (_, i) => [13 + (i % 100) / 1000, 52 + i / 1e7]) });

type NodeType = 'mapillary-images' | 'mapillary-features' | 'mapillary-detections';
interface Case {
  name: string;
  node?: NodeType;
  /** Node settings besides the defaults below. */
  def?: Record<string, unknown>;
  msg: Record<string, unknown>;
  /** The code expected; `null` for a documented success. */
  code: string | null;
  /** A message part expected in the error (the limit named, say). */
  message?: RegExp;
  /** Requests this case may make (0 for every invalid input). */
  requests?: number;
}

const sea = AREAS.sea.join(',');
const INVALID = 'MAPILLARY_INVALID_INPUT';

const cases: Case[] = [
  // --- areas as text ---
  { name: '1 MB msg.bbox of digits', msg: { bbox: digits(MB) }, code: INVALID, message: /too long: 1,000,000 characters, the limit is 500,000/ },
  { name: '1 MB msg.payload of spaces (not an area)', msg: { payload: ' '.repeat(MB) }, code: INVALID, message: /give an area/ },
  { name: '1 MB msg.payload of spaces then a digit', msg: { payload: `${' '.repeat(MB)}1` }, code: INVALID },
  { name: '40,000 characters of "1,"', msg: { bbox: '1,'.repeat(20_000) }, code: INVALID },
  { name: '1 MB of "1,1,1,1," repeated', msg: { bbox: '1,1,1,1,'.repeat(MB / 8) }, code: INVALID, message: /too long/ },
  { name: '"[" and 1 MB of digits', msg: { bbox: `[${digits(MB)}` }, code: INVALID, message: /too long/ },
  { name: '"{" and 1 MB of spaces', msg: { payload: `{${' '.repeat(MB)}` }, code: INVALID, message: /too long/ },
  { name: '400 KB of nested brackets', msg: { bbox: '['.repeat(200_000) + ']'.repeat(200_000) }, code: INVALID },
  { name: '4 numbers of 100,000 digits each', msg: { bbox: [digits(100_000), '1', '2', '3'].join(',') }, code: INVALID },
  { name: 'digits then a letter (backtracking bait)', msg: { bbox: `${digits(300_000)}x,1,2,3` }, code: INVALID },
  { name: 'NaN text', msg: { bbox: 'NaN,0,1,1' }, code: INVALID },
  { name: 'Infinity text', msg: { bbox: 'Infinity,0,1,1' }, code: INVALID },
  { name: 'overflowing exponent', msg: { bbox: '1e400,0,1,1' }, code: INVALID },
  { name: 'hexadecimal', msg: { bbox: '0x10,0,1,1' }, code: INVALID },
  { name: 'numeric separators', msg: { bbox: '1_0,0,1,1' }, code: INVALID },
  { name: 'longitude past 180', msg: { bbox: '-181,0,1,1' }, code: INVALID },
  { name: 'latitude past 90', msg: { bbox: '0,89,1,91' }, code: INVALID },
  { name: 'minLat above maxLat', msg: { bbox: '0,2,1,1' }, code: INVALID },
  { name: 'no area (zero height)', msg: { bbox: '1,1,2,1' }, code: INVALID },
  { name: 'three numbers', msg: { bbox: '0,0,1' }, code: INVALID },
  { name: 'five numbers', msg: { bbox: '0,0,1,1,1' }, code: INVALID },
  { name: 'letters', msg: { bbox: 'a,b,c,d' }, code: INVALID },
  { name: 'empty commas', msg: { bbox: ',,,' }, code: INVALID },
  { name: 'unparsable JSON text', msg: { bbox: '{"type": "Polygon", ' }, code: INVALID },
  { name: 'JSON text of a string', msg: { bbox: '["0","0","1"]' }, code: INVALID },
  // --- areas as values ---
  { name: 'true', msg: { bbox: true }, code: INVALID },
  { name: 'a number', msg: { bbox: 42 }, code: INVALID },
  { name: 'an empty object', msg: { bbox: {} }, code: INVALID },
  { name: 'an empty array', msg: { bbox: [] }, code: INVALID },
  { name: 'an array of 3', msg: { bbox: [0, 0, 1] }, code: INVALID },
  { name: 'an array of 1,000,000', msg: { bbox: new Array(MB).fill(1) }, code: INVALID },
  { name: 'an array with a bad number text', msg: { bbox: [0, 0, 1, '1x'] }, code: INVALID },
  { name: 'an array of objects', msg: { bbox: [{}, {}, {}, {}] }, code: INVALID },
  { name: 'an array of NaN', msg: { bbox: [NaN, 0, 1, 1] }, code: INVALID },
  { name: 'GeoJSON nested 20 levels', msg: { bbox: deepGeoJson(20) }, code: INVALID, message: /nested too deeply/ },
  { name: 'GeoJSON nested 5,000 levels', msg: { bbox: deepGeoJson(5000) }, code: INVALID, message: /nested too deeply/ },
  { name: 'GeoJSON with 200,000 positions', msg: { bbox: points(200_000) }, code: INVALID, message: /too many positions/ },
  { name: 'a polygon of 30,000 corners (over the shape limit)', msg: { bbox: circle(30_000, 0.05) }, code: INVALID, message: /too many positions for a shape: more than 20,000/ },
  { name: 'a polygon of 19,999 corners (a detailed outline, documented)', msg: { bbox: circle(19_998, 0.05) }, code: null, requests: 4 },
  { name: 'a detailed polygon over a 2° box (planned by its boxes, refused over max requests)', msg: { bbox: circle(19_998, 1), maxRequests: 100 }, def: { maxRequests: '' }, code: 'MAPILLARY_AREA_TOO_LARGE', message: /too detailed to count/ },
  { name: 'GeoJSON type "constructor"', msg: { bbox: { type: 'constructor', coordinates: [0, 0] } }, code: INVALID },
  { name: 'GeoJSON type "__proto__"', msg: { bbox: JSON.parse('{"type":"__proto__","coordinates":[0,0]}') }, code: INVALID },
  { name: 'GeoJSON type "toString"', msg: { bbox: { type: 'toString', coordinates: [0, 0] } }, code: INVALID },
  { name: 'Polygon with text positions', msg: { bbox: { type: 'Polygon', coordinates: [[['0', '0'], ['1', '1']]] } }, code: INVALID },
  { name: 'Polygon whose coordinates are not arrays', msg: { bbox: { type: 'Polygon', coordinates: 'x' } }, code: INVALID },
  { name: 'Feature without geometry', msg: { bbox: { type: 'Feature', geometry: null } }, code: INVALID },
  { name: 'Feature whose geometry is a Feature, 10 deep', msg: { bbox: Array.from({ length: 10 }).reduce((g) => ({ type: 'Feature', geometry: g }), { type: 'Point', coordinates: [0, 0] }) }, code: INVALID },
  { name: 'FeatureCollection without features', msg: { bbox: { type: 'FeatureCollection' } }, code: INVALID },
  { name: 'FeatureCollection of one point (no area)', msg: { bbox: { type: 'FeatureCollection', features: [{ type: 'Feature', geometry: { type: 'Point', coordinates: [1, 1] } }] } }, code: INVALID },
  { name: 'bbox member of 5 numbers', msg: { bbox: { bbox: [0, 0, 1, 1, 1] } }, code: INVALID },
  { name: 'bbox member of text', msg: { bbox: { bbox: '0,0,1,1' } }, code: INVALID },
  { name: 'worldmap bounds without numbers', msg: { bbox: { action: 'bounds', south: 'x' } }, code: INVALID },
  // --- areas too large for the plan ---
  { name: 'the whole world', msg: { bbox: [-180, -90, 180, 90] }, code: 'MAPILLARY_AREA_TOO_LARGE', message: /more than max requests \(10,000\)/ },
  { name: 'a 105 square degree box', msg: { bbox: '10,40,20.5,50' }, code: 'MAPILLARY_AREA_TOO_LARGE' },
  { name: 'swapped longitudes (a 340° band)', msg: { bbox: '10,50,-10,51' }, code: 'MAPILLARY_AREA_TOO_LARGE', message: /were the longitudes swapped/ },
  { name: 'a box above msg.maxRequests', def: { maxRequests: '' }, msg: { bbox: AREAS.suburb.join(','), maxRequests: 5 }, code: 'MAPILLARY_AREA_TOO_LARGE', message: /max requests \(5\)/ },
  // --- counts ---
  ...([false, true, [], ' ', '', -1, 1.5, '1e3', '0x10', '+5', '-0', {}, 'abc', 1e20, NaN, Infinity, '9'.repeat(MB)] as unknown[])
    .filter((v) => v !== '')
    .map((maxItems): Case => ({ name: `msg.maxItems ${JSON.stringify(maxItems)?.slice(0, 20) ?? String(maxItems)}`, def: { maxItems: '' }, msg: { bbox: sea, maxItems }, code: INVALID, message: /max items/ })),
  ...([0, -1, 'x', true, 2e6, 0.5] as unknown[]).map((maxRequests): Case => ({
    name: `msg.maxRequests ${JSON.stringify(maxRequests)}`, def: { maxRequests: '' }, msg: { bbox: sea, maxRequests }, code: INVALID, message: /max requests/,
  })),
  { name: 'msg.maxItems " 7 " (a digit string, documented)', def: { maxItems: '' }, msg: { bbox: sea, maxItems: ' 7 ' }, code: null, requests: 20 },
  // --- dates ---
  { name: '1 MB start date', def: { startCapturedAt: '' }, msg: { bbox: sea, startCapturedAt: digits(MB) }, code: INVALID, message: /too long/ },
  { name: 'month 13', def: { startCapturedAt: '' }, msg: { bbox: sea, startCapturedAt: '2021-13-01' }, code: INVALID },
  { name: 'February 30', def: { startCapturedAt: '' }, msg: { bbox: sea, startCapturedAt: '2021-02-30' }, code: INVALID },
  { name: 'hour 25', def: { endCapturedAt: '' }, msg: { bbox: sea, endCapturedAt: '2021-05-01T25:00:00Z' }, code: INVALID },
  { name: '"yesterday"', def: { startCapturedAt: '' }, msg: { bbox: sea, startCapturedAt: 'yesterday' }, code: INVALID },
  { name: 'a date object literal', def: { startCapturedAt: '' }, msg: { bbox: sea, startCapturedAt: {} }, code: INVALID },
  { name: 'a fractional epoch', def: { startCapturedAt: '' }, msg: { bbox: sea, startCapturedAt: 1.5 }, code: INVALID },
  { name: 'an epoch past year 275760', def: { startCapturedAt: '' }, msg: { bbox: sea, startCapturedAt: 8.64e15 + 1 }, code: INVALID },
  { name: 'start after end', def: { startCapturedAt: '', endCapturedAt: '' }, msg: { bbox: sea, startCapturedAt: '2022-01-01', endCapturedAt: '2021-01-01' }, code: INVALID },
  // --- short texts and ids ---
  { name: '1 MB creator username', def: { creatorUsername: '' }, msg: { creatorUsername: 'u'.repeat(MB) }, code: INVALID, message: /too long/ },
  { name: '300-character creator username', def: { creatorUsername: '' }, msg: { creatorUsername: 'u'.repeat(300) }, code: INVALID, message: /the limit is 256/ },
  { name: 'an object as creator username', def: { creatorUsername: '' }, msg: { creatorUsername: {} }, code: INVALID },
  { name: '1 MB make', def: { make: '' }, msg: { bbox: sea, make: 'm'.repeat(MB) }, code: INVALID, message: /too long/ },
  { name: '1 MB model', def: { model: '' }, msg: { bbox: sea, model: 'm'.repeat(MB) }, code: INVALID, message: /too long/ },
  { name: 'an array as make', def: { make: '' }, msg: { bbox: sea, make: ['a'] }, code: INVALID },
  { name: 'organization id of letters', def: { organizationId: '' }, msg: { organizationId: 'abc' }, code: INVALID },
  { name: '1 MB organization id', def: { organizationId: '' }, msg: { organizationId: digits(MB) }, code: INVALID },
  { name: 'a negative organization id', def: { organizationId: '' }, msg: { organizationId: -1 }, code: INVALID },
  { name: 'an object as organization id', def: { organizationId: '' }, msg: { organizationId: {} }, code: INVALID },
  { name: 'sequence id with a space', def: { sequenceId: '' }, msg: { sequenceId: 'a b' }, code: INVALID },
  { name: '1 MB sequence ids', def: { sequenceId: '' }, msg: { sequenceId: 's,'.repeat(MB / 2) }, code: INVALID, message: /too long/ },
  { name: '20,000 sequence ids', def: { sequenceId: '' }, msg: { sequenceId: Array.from({ length: 20_000 }, (_, i) => `s${i}`) }, code: INVALID, message: /too many items: 20,000, the limit is 10,000/ },
  { name: 'a sequence id list holding an object', def: { sequenceId: '' }, msg: { sequenceId: ['ok', {}] }, code: INVALID },
  // --- fields (node settings) ---
  { name: 'a field name with "!"', def: { fields: 'id,bad field!' }, msg: { bbox: sea }, code: INVALID },
  { name: '1 MB of fields', def: { fields: 'f,'.repeat(MB / 2) }, msg: { bbox: sea }, code: INVALID, message: /too long/ },
  { name: '200 fields', def: { fields: Array.from({ length: 200 }, (_, i) => `f${i}`) }, msg: { bbox: sea }, code: INVALID, message: /too many items: 200, the limit is 100/ },
  { name: 'a field that is an object', def: { fields: [{}] }, msg: { bbox: sea }, code: INVALID },
  // --- area settings ---
  { name: 'a JSON area setting that does not parse', def: { bbox: '{"type":', bboxType: 'json' }, msg: {}, code: INVALID, message: /area/ },
  { name: 'a JSONata area setting that fails', def: { bbox: '$nope(', bboxType: 'jsonata' }, msg: {}, code: INVALID, message: /area/ },
  { name: 'an env area setting that is not set', def: { bbox: 'MAPILLARY_NOT_SET_ANYWHERE', bboxType: 'env' }, msg: {}, code: INVALID },
  // --- messages ---
  { name: 'a message nested 5,000 levels deep', msg: { bbox: sea, deep: nested(5000) }, code: INVALID, message: /cannot be copied/ },
  { name: 'a function as payload', msg: { payload: () => 1 }, code: INVALID },
  { name: 'a symbol as bbox', msg: { bbox: Symbol('x') }, code: INVALID },
  { name: 'a bigint as bbox', msg: { bbox: 10n }, code: INVALID },
  // --- map features ---
  { name: 'features: 1 MB object values', node: 'mapillary-features', def: { objectValues: '' }, msg: { bbox: sea, objectValues: 'a,'.repeat(MB / 2) }, code: INVALID, message: /too long/ },
  { name: 'features: a class with a space', node: 'mapillary-features', def: { objectValues: '' }, msg: { bbox: sea, objectValues: 'regulatory stop' }, code: INVALID },
  { name: 'features: 5,000 classes (over the URL limit)', node: 'mapillary-features', def: { objectValues: '' }, msg: { bbox: sea, objectValues: Array.from({ length: 5000 }, (_, i) => `regulatory--c${i}`) }, code: INVALID, message: /the limit is 4,000/ },
  { name: 'features: numbers as classes', node: 'mapillary-features', def: { objectValues: '' }, msg: { bbox: sea, objectValues: [1, 2] }, code: INVALID },
  { name: 'features: 1 MB first-seen date', node: 'mapillary-features', def: { startFirstSeenAt: '' }, msg: { bbox: sea, startFirstSeenAt: '2'.repeat(MB) }, code: INVALID },
  { name: 'features: no area', node: 'mapillary-features', msg: { payload: 'hello' }, code: INVALID },
  { name: 'features: the whole world', node: 'mapillary-features', msg: { bbox: '-180,-90,180,90' }, code: 'MAPILLARY_AREA_TOO_LARGE' },
  // --- detections ---
  { name: 'detections: 1 MB of commas', node: 'mapillary-detections', msg: { payload: ','.repeat(MB) }, code: INVALID, message: /too long/ },
  { name: 'detections: 20,000 ids', node: 'mapillary-detections', msg: { payload: Array.from({ length: 20_000 }, (_, i) => String(1000 + i)) }, code: INVALID, message: /too many items/ },
  { name: 'detections: an item without id', node: 'mapillary-detections', msg: { payload: [{}] }, code: INVALID },
  { name: 'detections: an item whose id is an object', node: 'mapillary-detections', msg: { payload: { id: {} } }, code: INVALID },
  { name: 'detections: 1 MB single id', node: 'mapillary-detections', msg: { payload: digits(MB) }, code: INVALID, message: /too long/ },
  { name: 'detections: letters as id', node: 'mapillary-detections', msg: { payload: 'abc' }, code: INVALID },
  { name: 'detections: a 21-digit id', node: 'mapillary-detections', msg: { payload: digits(21) }, code: INVALID },
  { name: 'detections: nothing', node: 'mapillary-detections', msg: { payload: null }, code: INVALID },
  { name: 'detections: a boolean', node: 'mapillary-detections', msg: { payload: true }, code: INVALID },
  { name: 'detections: 1 MB of fields', node: 'mapillary-detections', def: { fields: 'x,'.repeat(MB / 2) }, msg: { payload: '1' }, code: INVALID },
];

describe(`hostile input in Node-RED ${runtimeVersion}: ${cases.length} cases, each a coded error or the documented result`, function () {
  this.timeout(120_000);
  let sandbox: Sandbox;
  const problems: string[] = [];
  const onRejection = (reason: unknown) => problems.push(`unhandledRejection: ${String(reason)}`);
  const onException = (error: unknown) => problems.push(`uncaughtException: ${String(error)}`);

  before(async () => {
    sandbox = await startSandbox();
    await helper.startServer();
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
  });
  after(async () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
    await helper.stopServer();
    await sandbox.close();
  });
  afterEach(async () => {
    await helper.unload();
  });

  async function load(type: NodeType, def: Record<string, unknown>) {
    const config = sandboxConfig(sandbox);
    await helper.load(allNodes, [
      config.node,
      { id: 'n1', type, mapillary: 'cfg', bbox: '', bboxType: 'str', source: 'payload', sourceType: 'msg', output: 'page', wires: [['out'], ['done']], ...def },
      { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'out', type: 'helper' }, { id: 'done', type: 'helper' }, { id: 'caught', type: 'helper' },
    ], config.credentials);
  }

  /** Sends `msg`; resolves with the summary and what Catch saw, or rejects after `boundMs`. */
  function send(msg: Record<string, unknown>, boundMs: number): Promise<{ summary: Record<string, any>; caught?: Record<string, any> }> {
    return new Promise((resolve, reject) => {
      let caught: Record<string, any> | undefined;
      const timer = setTimeout(() => reject(new Error(`no end within ${boundMs} ms: the node hangs`)), boundMs);
      helper.getNode('caught').on('input', (m: Record<string, any>) => { caught = m; });
      helper.getNode('done').on('input', (m: Record<string, any>) => {
        clearTimeout(timer);
        setImmediate(() => resolve({ summary: m.payload, caught }));
      });
      helper.getNode('n1').receive(msg);
    });
  }

  for (const c of cases) {
    it(`${c.name}: ${c.code ?? 'documented result'}`, async () => {
      await load(c.node ?? 'mapillary-images', c.def ?? {});
      sandbox.resetLog();
      const { summary, caught } = await send(c.msg, 10_000);
      if (c.code === null) {
        assert.equal(summary.ended, 'complete', JSON.stringify(summary.error));
      } else {
        assert.equal(summary.ended, 'error');
        assert.equal(summary.error.code, c.code, summary.error.message);
        if (c.message) assert.match(summary.error.message, c.message);
        assert.ok(summary.error.message.length < 600, 'the message is short, whatever the input');
        await new Promise((resolve) => setImmediate(resolve));
        assert.equal(caught?.error?.code, c.code, 'Catch gets the coded error');
        assert.equal(statusTexts(helper.getNode('n1')).at(-1), `${c.node ?? 'mapillary-images'}.status.error`);
      }
      assert.ok(sandbox.requests.length <= (c.requests ?? 0), `${sandbox.requests.length} requests for ${c.code === null ? 'this input' : 'invalid input'}`);
      // The node serves the next input.
      sandbox.resetLog();
      const next = await send(c.node === 'mapillary-detections' ? { payload: '0' } : { bbox: sea, maxItems: 1, maxRequests: 100 }, 10_000);
      if (c.def === undefined) {
        assert.ok(next.summary.ended === 'complete' || next.summary.ended === 'max-items' || next.summary.error?.code === 'MAPILLARY_NOT_FOUND', JSON.stringify(next.summary));
      } else {
        assert.ok(next.summary.ended === 'complete' || typeof next.summary.error?.code === 'string', JSON.stringify(next.summary));
      }
      assert.deepEqual(problems, []);
    });
  }

  it(`has at least 100 cases (${cases.length})`, () => {
    assert.ok(cases.length >= 100);
  });
});
