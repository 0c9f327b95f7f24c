import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { world } from '../../sandbox/data';
import { useSandbox } from '../support';
import { allNodes, collect, helper, runtimeVersion, sandboxConfig, useNodeRed, useUserDir } from './setup';

const sorted = (ids: string[]) => [...ids].sort();
/** The sandbox's dense centre (cut into parts) and suburb cells around it. */
const AREA = [13.2, 52.4, 13.45, 52.55] as const;
const truth = sorted(world.imagesIn([...AREA]).map((i) => i.id));
const idsOf = (msgs: Record<string, any>[]) => msgs.flatMap((m) => (Array.isArray(m.payload) ? m.payload : [m.payload]).map((i: { id: string }) => i.id));
const duplicates = (ids: string[]) => ids.filter((id, i) => ids.indexOf(id) !== i);

describe(`resume after a stop, in Node-RED ${runtimeVersion}`, function () {
  this.timeout(60_000);
  const sandbox = useSandbox();
  useNodeRed();
  const userDir = useUserDir('mapillary-resume-');
  const records = (nodeId = 'n1') => {
    const dir = join(userDir(), 'mapillary', 'resume', nodeId);
    return existsSync(dir) ? readdirSync(dir) : [];
  };

  async function load(node: Record<string, unknown> = {}) {
    const config = sandboxConfig(sandbox);
    await helper.load(allNodes, [
      config.node,
      { id: 'n1', type: 'mapillary-images', mapillary: 'cfg', bbox: AREA.join(','), bboxType: 'str', output: 'page', format: 'json', maxItems: 0, resume: true, wires: [['out'], ['done']], ...node },
      { id: 'out', type: 'helper' },
      { id: 'done', type: 'helper' },
    ], config.credentials);
  }

  /** Sends `msg`, and closes the flow (as a redeploy or a stop does) once `messages` messages came out. */
  async function interrupt(messages: number, msg: Record<string, unknown> = { payload: 'go' }): Promise<Record<string, any>[]> {
    const out: Record<string, any>[] = [];
    const enough = new Promise<void>((resolve) => helper.getNode('out').on('input', (m) => {
      out.push(m);
      if (out.length === messages) resolve();
    }));
    helper.getNode('n1').receive(msg);
    await enough;
    await helper.unload();
    return [...out];
  }

  it('page mode: stopped mid-harvest, the same input goes on with the cells not sent; together exactly the ground truth; the record goes when complete', async () => {
    await load();
    const first = await interrupt(3);
    assert.equal(records().length, 1, 'a record of the interrupted harvest');
    await load();
    const run = collect();
    helper.getNode('n1').receive({ payload: 'go' });
    const { out, done } = await run;
    const union = [...idsOf(first), ...idsOf(out)];
    assert.deepEqual(duplicates(union), [], 'nothing sent twice (the stop came between pages)');
    assert.deepEqual(sorted(union), truth);
    assert.equal(done.payload.ended, 'complete');
    assert.equal(done.payload.items, idsOf(out).length, 'items: sent by this run');
    assert.ok(done.payload.resumed.items >= idsOf(first).length && done.payload.resumed.cells > 0, JSON.stringify(done.payload.resumed));
    assert.equal(done.payload.resumed.items, idsOf(first).length, 'the items sent before the stop');
    assert.equal(out[0]!.mapillary.page, first.length, 'page numbers go on');
    assert.deepEqual(records(), [], 'a complete harvest removes its record');
  });

  it('item mode: nothing lost, and at most one page sent again', async () => {
    await load({ output: 'item' });
    const first = await interrupt(2500);
    await load({ output: 'item' });
    const run = collect();
    helper.getNode('n1').receive({ payload: 'go' });
    const { out, done } = await run;
    const union = [...idsOf(first), ...idsOf(out)];
    assert.deepEqual(sorted([...new Set(union)]), truth, 'every item, none lost');
    assert.ok(duplicates(union).length <= 2000, `${duplicates(union).length} items sent again`);
    assert.ok(done.payload.resumed, 'resumed');
  });

  it('msg.restart starts afresh; with Resume off nothing is recorded', async () => {
    await load();
    await interrupt(2);
    assert.equal(records().length, 1);
    await load();
    const run = collect();
    helper.getNode('n1').receive({ payload: 'go', restart: true });
    const { out, done } = await run;
    assert.deepEqual(sorted(idsOf(out)), truth);
    assert.equal(done.payload.resumed, undefined);
    assert.deepEqual(records(), []);

    await helper.unload();
    await load({ resume: false });
    await interrupt(2);
    assert.deepEqual(records(), [], 'Resume off: no record');
  });

  it('another search (another area) does not take the record; an unreadable record is dropped with a warning', async () => {
    await load({ bbox: '' });
    await interrupt(2, { bbox: AREA.join(',') });
    const [name] = records();
    await load({ bbox: '' });
    let run = collect();
    helper.getNode('n1').receive({ bbox: '13.2,52.4,13.45,52.5' });
    let { done } = await run;
    assert.equal(done.payload.resumed, undefined, 'another area starts afresh');
    await helper.unload();
    assert.deepEqual(records(), [name], 'the record of the first search is still there');

    writeFileSync(join(userDir(), 'mapillary', 'resume', 'n1', name!), '{"version":1,"search":');
    await load({ bbox: '' });
    run = collect();
    helper.getNode('n1').receive({ bbox: AREA.join(',') });
    const result = await run;
    done = result.done;
    assert.deepEqual(sorted(idsOf(result.out)), truth, 'started afresh');
    assert.equal(done.payload.resumed, undefined);
    assert.deepEqual(records(), []);

    writeFileSync(join(userDir(), 'mapillary', 'resume', 'n1', name!), JSON.stringify({ version: 1, search: name!.replace('.json', ''), query: 0, grid: 0, cell: 0, cells: [{ a: 3, b: [0, 0, 1, 1] }], done: { items: 0, pages: 0, cells: 0 }, plan: { total: 1, skipped: 0 } }));
    await helper.unload();
    await load({ bbox: '' });
    run = collect();
    helper.getNode('n1').receive({ bbox: AREA.join(',') });
    assert.deepEqual(sorted(idsOf((await run).out)), truth, 'a record that does not fit the search: started afresh');
    const warnings = helper.getNode('n1').warn.args.map((a: unknown[]) => String(a[0]));
    assert.ok(warnings.some((w: string) => w.includes('resume-unusable')), warnings.join('\n'));
  });

  it('removes the records of nodes gone from the flows, expired records and torn temporary files', async () => {
    const root = join(userDir(), 'mapillary', 'resume');
    mkdirSync(join(root, 'gone'), { recursive: true });
    writeFileSync(join(root, 'gone', 'a.json'), '{}');
    mkdirSync(join(root, 'n1'), { recursive: true });
    writeFileSync(join(root, 'n1', 'old.json'), '{}');
    const old = (Date.now() - 40 * 24 * 3600 * 1000) / 1000;
    utimesSync(join(root, 'n1', 'old.json'), old, old);
    writeFileSync(join(root, 'n1', 'fresh.json'), '{}');
    writeFileSync(join(root, 'n1', 'fresh.json.123.tmp'), '{"tor');
    await load();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(!existsSync(join(root, 'gone')), 'records of a node gone from the flows removed');
    assert.deepEqual(readdirSync(join(root, 'n1')), ['fresh.json']);
  });
});
