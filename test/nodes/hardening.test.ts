import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { AREAS } from '../../sandbox/data';
import { useSandbox } from '../support';
import { allNodes, collect, helper, runtimePackage, runtimeVersion, sandboxConfig, statusTexts, useNodeRed } from './setup';

const dist = join(__dirname, '..', '..', 'dist', 'nodes');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { runHarvests } = require(join(dist, 'shared', 'harvest.js'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { PageStream, Walk } = require(join(dist, '..', 'src', 'paging', 'walk.js'));

/**
 * A flow node built on the same harness as ours, whose walk fails in ways the package never
 * expects: a TypeError, a thrown string, a stream that throws half-way.
 */
function brokenNode(RED: any): void {
  RED.nodes.registerType('broken-harvest', function Broken(this: any, def: any) {
    RED.nodes.createNode(this, def);
    runHarvests(RED, this, def, ({ msg }: { msg: Record<string, unknown> }) => {
      if (msg.how === 'type-error') return (undefined as any).nothing;
      if (msg.how === 'string') throw 'a thrown string'; // eslint-disable-line no-throw-literal
      return new PageStream(new Walk({}), async function* () { /* no pages */ });
    });
  });
}

describe(`node hardening in Node-RED ${runtimeVersion}: statuses, ranges, unexpected errors`, function () {
  this.timeout(60_000);
  const sandbox = useSandbox();
  useNodeRed();
  afterEach(() => {
    delete process.env.MAPILLARY_TEST_TIMEOUT;
  });

  async function load(node: Record<string, unknown>, configExtra: Record<string, unknown> = {}, extraTypes: unknown[] = []) {
    const config = sandboxConfig(sandbox, 'v4', configExtra);
    await helper.load([...allNodes, ...extraTypes], [
      config.node,
      { id: 'n1', type: 'mapillary-images', mapillary: 'cfg', bboxType: 'str', output: 'page', wires: [['out'], ['done']], ...node },
      { id: 'out', type: 'helper' }, { id: 'done', type: 'helper' },
    ], config.credentials);
  }

  it('a harvest stopped at max items ends yellow, saying so; a complete one green', async () => {
    await load({ bbox: AREAS.denseCentre.join(','), maxItems: 50 });
    let run = collect();
    helper.getNode('n1').receive({});
    assert.equal((await run).done.payload.ended, 'max-items');
    const last = helper.getNode('n1').status.lastCall.args[0];
    assert.deepEqual([last.fill, last.text], ['yellow', 'mapillary-images.status.max-items']);
    await helper.unload();
    await load({ bbox: AREAS.sea.join(','), maxItems: 50 });
    run = collect();
    helper.getNode('n1').receive({});
    assert.equal((await run).done.payload.ended, 'complete');
    assert.deepEqual([helper.getNode('n1').status.lastCall.args[0].fill, statusTexts(helper.getNode('n1')).at(-1)], ['green', 'mapillary-images.status.done']);
  });

  it('counts the cells of an area in the status, also when they are all empty', async () => {
    await load({ bbox: '3,54,3.5,54.5', maxItems: 0 });
    const run = collect();
    helper.getNode('n1').receive({});
    const { done } = await run;
    assert.equal(done.payload.items, 0);
    assert.ok(statusTexts(helper.getNode('n1')).includes('mapillary-images.status.cells'), 'progress shown for empty cells');
  });

  it('fed one image per message, the detections node ends on the whole run, not the last image', async () => {
    const config = sandboxConfig(sandbox);
    await helper.load(allNodes, [
      config.node,
      { id: 'i1', type: 'mapillary-images', mapillary: 'cfg', bbox: AREAS.suburb.join(','), output: 'item', maxItems: 20, wires: [['d1'], []] },
      { id: 'd1', type: 'mapillary-detections', mapillary: 'cfg', source: 'payload', sourceType: 'msg', output: 'page', maxItems: 0, wires: [['out'], ['done']] },
      { id: 'out', type: 'helper' }, { id: 'done', type: 'helper' },
    ], config.credentials);
    const summaries: Record<string, any>[] = [];
    const all = new Promise<void>((resolve) => helper.getNode('done').on('input', (m: Record<string, any>) => {
      summaries.push(m.payload);
      if (summaries.length === 20) resolve();
    }));
    helper.getNode('i1').receive({});
    await all;
    const last = helper.getNode('d1').status.lastCall.args[0];
    assert.deepEqual([last.fill, last.text], ['green', 'mapillary-detections.status.done-inputs']);
  });

  for (const [name, extra, pattern] of [
    ['a timeout that overflows Node\'s timer', { timeout: 2_147_484 }, /timeout \(seconds\) must be a number from 1 to 600/],
    ['a concurrency of 100,000', { concurrency: 100_000 }, /concurrency must be a number from 1 to 64/],
    ['a negative rate', { requestsPerMinute: -1 }, /requests per minute must be a number from 0 to 60,000/],
    ['a timeout of "abc"', { timeout: 'abc' }, /timeout/],
  ] as const) {
    it(`refuses config settings out of range: ${name}`, async () => {
      await load({ bbox: AREAS.sea.join(',') }, extra);
      const run = collect();
      helper.getNode('n1').receive({});
      const { done } = await run;
      assert.equal(done.payload.error.code, 'MAPILLARY_INVALID_INPUT');
      assert.match(done.payload.error.message, pattern);
      assert.equal(sandbox.requests.length, 0);
    });
  }

  it('reads a ${VAR} config number from the environment', async () => {
    process.env.MAPILLARY_TEST_TIMEOUT = '7';
    await load({ bbox: AREAS.sea.join(',') }, { timeout: '${MAPILLARY_TEST_TIMEOUT}' });
    assert.equal(helper.getNode('cfg').client.timeoutMs, 7000);
  });

  it('an unexpected failure is MAPILLARY_INTERNAL, ends that input once, and the node serves the next one', async () => {
    const config = sandboxConfig(sandbox);
    await helper.load([...allNodes, brokenNode], [
      config.node,
      { id: 'b1', type: 'broken-harvest', mapillary: 'cfg', wires: [['out'], ['done']] },
      { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'out', type: 'helper' }, { id: 'done', type: 'helper' }, { id: 'caught', type: 'helper' },
    ], config.credentials);
    const caught: Record<string, any>[] = [];
    helper.getNode('caught').on('input', (m: Record<string, any>) => caught.push(m));
    const summaries: Record<string, any>[] = [];
    const ended = new Promise<void>((resolve) => helper.getNode('done').on('input', (m: Record<string, any>) => {
      summaries.push(m.payload);
      if (summaries.length === 3) resolve();
    }));
    for (const how of ['type-error', 'string', 'fine']) helper.getNode('b1').receive({ how });
    await ended;
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(summaries.map((s) => s.ended), ['error', 'error', 'complete']);
    assert.deepEqual(summaries.slice(0, 2).map((s) => s.error.code), ['MAPILLARY_INTERNAL', 'MAPILLARY_INTERNAL']);
    assert.match(summaries[0]!.error.message, /Unexpected error in the Mapillary node: TypeError/);
    assert.deepEqual(caught.map((m) => m.error.code), ['MAPILLARY_INTERNAL', 'MAPILLARY_INTERNAL'], 'each failure once to Catch');
  });

  it('the catalogs say "1 item" and "2 items", and errors as code and reason (Node-RED\'s own i18n)', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { i18n } = require(require.resolve('@node-red/util', { paths: [dirname(require.resolve(`${runtimePackage}/package.json`))] }));
    await i18n.init({ lang: 'en-US' });
    const locales = join(__dirname, '..', '..', 'nodes', 'locales');
    for (const type of ['mapillary-images', 'mapillary-detections', 'mapillary-features']) {
      await i18n.registerMessageCatalog(`test/${type}`, locales, `${type}.json`);
      const t = (key: string, subs?: Record<string, unknown>) => i18n._(`test/${type}:${type}.${key}`, subs);
      const items = (n: number) => t('count.items', { count: n });
      assert.deepEqual([items(0), items(1), items(2)], ['0 items', '1 item', '2 items']);
      assert.equal(t('status.progress', { items: items(1), pages: t('count.pages', { count: 1 }) }), '1 item, 1 page');
      assert.equal(t('status.cells', { done: 812, total: 5049, items: items(0) }), 'cell 812 of 5049 · 0 items');
      assert.equal(t('status.max-items', { items: items(5000) }), 'stopped at max items: 5000 items');
      assert.equal(t('status.done-inputs', { items: items(57), inputs: t('count.inputs', { count: 20 }) }), 'done: 57 items from 20 inputs');
      assert.equal(t('status.done-warnings', { items: items(1), warnings: t('count.warnings', { count: 1 }) }), 'done: 1 item, 1 warning');
      assert.equal(t('status.error', { code: 'MAPILLARY_AUTH', reason: 'Invalid OAuth 2.0 Access Token (HTTP 401, code 190)' }),
        'MAPILLARY_AUTH: Invalid OAuth 2.0 Access Token (HTTP 401, code 190)');
    }
  });
});
